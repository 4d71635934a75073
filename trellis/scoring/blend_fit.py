"""Fitting the blended challenger (:mod:`.blend`, which reads and applies the card it
writes). Only training (jobs, the CLI) imports this module: it needs scikit-learn.

Fitting, on the training rows only (no test rows are ever seen):

1. k-fold cross-validation: each member (:data:`MEMBERS`) is fitted on k-1 folds and
   predicts the k-th, so every training row gets an out-of-fold logit from every member;
2. the weights: by default fixed and equal on the members' standardised out-of-fold
   logits, then Platt-scaled on them (the calibration); learnt stacking weights or a
   choice by inner cross-validation remain available (*combine*), each with positive
   weights only, so each member's direction is kept;
3. every kept member is refitted on all training rows (what the card holds).
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from trellis.messages import N_, msg
from trellis.scoring import boosting, metrics, scorecard
from trellis.scoring.blend import FAMILY, design, member_logodds, svm_contributions, transform
from trellis.scoring.errors import InvalidScorecard
from trellis.scoring.expert import GRADE_PDS, SCALING

FOLDS = 5
# The members a blend fits, by name. Each is stored with its kind (blend.MEMBERS), and,
# when the name differs from the kind, its name: "woe_free" is a WoE card whose binning is
# left free (see FREE_BINNING), a second view of the same characteristics; "gbm_xt" and
# "rf" are tree ensembles (see TREES); "svm" a kernel machine (see fit_svm). The
# constrained boosted card ("gbm") remains a member a caller may ask for, and a family of
# its own. The kernel member joined in the tenth pass: on German credit's fresh
# development splits 7000-7019 the five members before it were +0.0112 over the better
# plain baseline, with it +0.0151, in both halves of those splits (bench/RESULTS.md).
MEMBERS = ("woe", "woe_free", "gbm_xt", "rf", "onehot", "svm")
KIND = {"woe": "woe", "woe_free": "woe", "gbm": "gbm", "onehot": "onehot",
        "gbm_xt": "gbm", "rf": "gbm", "svm": "svm"}
# Tree ensembles stored as members of kind "gbm" (LightGBM text, exact TreeSHAP reasons)
# under their own name: LightGBM settings over boosting.PARAMS. Unlike the boosted card,
# they keep only the directions the caller states (Trellis's own features: the expert
# card's), not those a Spearman test on the training rows suggests; they are there to see
# what a card monotone in every feature cannot.
# - gbm_xt: boosting with extremely randomised trees (each split's threshold drawn at
#   random per feature, the best of those kept), up to 8 leaves a tree: smoother than
#   best-split trees on a few hundred rows.
# - rf: a random forest (trees of up to 16 leaves, each on 63% of the rows and half the
#   features, averaged). Its raw output is a score, not log-odds; the blend standardises
#   and calibrates every member's logit, so only its ranking counts.
# On German credit's development splits 2000-2019 these two in place of the boosted card
# ranked better: +0.0103 over the better plain baseline against +0.0057
# (bench/RESULTS.md, sixth pass).
TREES: dict[str, dict[str, Any]] = {
    "gbm_xt": {"extra_trees": True, "num_leaves": 8},
    "rf": {"boosting_type": "rf", "subsample": 0.632, "subsample_freq": 1,
           "colsample_bytree": 0.5, "num_leaves": 16, "min_child_samples": 10,
           "reg_lambda": 0.0}}
# The free WoE member's binning (training._fit_binning's settings): optbinning's own
# defaults (any trend optbinning finds, as many bins as its pre-binning supports, every
# characteristic kept whatever its information value; wrong-signed ones are still
# dropped). Averaged with the constrained card, the two binnings' errors partly cancel:
# on development splits 2000-2019 the blend with it ranked better than without
# (+0.0057 vs +0.0039 over the better baseline; bench/RESULTS.md, fifth pass).
FREE_BINNING = {"trend": "auto", "max_bins": None, "min_bin_size": None, "min_iv": 0.0}
# Ways of combining the members, from the most fitted to the simplest (see choose).
# A member alone is one of the candidates: on some data one family ranks best by itself
# (the boosted card on the outside park), and a blend must be able to say so.
COMBINATIONS = ("learnt", "equal", "svm", "gbm", "gbm_xt", "rf", "onehot", "woe_free",
                "woe")
# The default: fixed equal weights of the standardised logits. On a few hundred rows,
# choosing a combination (or learning weights) on out-of-fold predictions adds more
# variance than it removes bias: on development splits 2000-2019 of German credit the
# inner choice gained +0.0015 over the better plain baseline, learnt weights +0.0008,
# fixed equal weights +0.0039 with the same three members (bench/RESULTS.md, fifth pass).
COMBINE = "equal"


@contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --- the one-hot member ---------------------------------------------------------------

# The one-hot member's L2 penalty (scikit-learn's C, inverse strength). Many correlated
# features on a few hundred rows: a firm penalty ranks better out of sample (developed on
# the outside park's development seeds 3001-3003: C 0.1 gave 0.819 mean 5-fold AUC against
# 0.806 at C 1).
ONEHOT_C = 0.1
# Numeric columns are cut to their training 2nd-98th percentiles, and a column of
# non-negative values with a long right tail (amounts in fen, days late) is taken as
# log(1 + x) first: a linear term then weighs a firm's order of magnitude, not its
# outliers.
CLIP_QUANTILES = (0.02, 0.98)
LOG_SKEW = 2.0


def _design_params(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """How the one-hot and kernel members read *X* (:func:`.blend.design`): per numeric
    column its log, cut, median and scale; per categorical column the categories seen."""
    num = {}
    for c in numeric:
        v = pd.to_numeric(X[c], errors="coerce").astype(float)
        p: dict[str, Any] = {"log": False}
        ok = v.dropna()
        if len(ok) > 2 and float(ok.min()) >= 0 and float(ok.skew()) > LOG_SKEW:
            p["log"] = True
        t = pd.Series(transform(v.to_numpy(), p), index=v.index)
        if t.notna().any():
            lo, hi = (float(q) for q in t.quantile(list(CLIP_QUANTILES)))
            if hi > lo:
                p["clip"] = [lo, hi]
            t = pd.Series(transform(v.to_numpy(), p), index=v.index)
        med = float(t.median()) if t.notna().any() else 0.0
        sd = float(t.std()) if t.notna().sum() > 1 else 1.0
        p.update({"median": med, "scale": sd if sd > 0 and math.isfinite(sd) else 1.0,
                  "has_missing": bool(v.isna().any())})
        num[c] = p
    cats = {c: sorted({str(v) for v in X[c].dropna().unique()}) for c in categorical}
    return {"numeric": num, "categories": cats}


def fit_onehot(X: pd.DataFrame, y: np.ndarray, numeric: list[str],
               categorical: list[str], *, C: float = ONEHOT_C) -> dict:
    """One-hot logistic regression: numerics (a long-tailed non-negative column taken as
    log(1 + x), every column cut to its training 2nd-98th percentiles) standardised, a
    missing value scoring as the training median and carrying its own coefficient when
    the column had gaps; each category seen in training its own coefficient (unseen or
    missing: the reference 0). L2 penalty *C* (scikit-learn's inverse strength)."""
    model: dict[str, Any] = {"type": "onehot", **_design_params(X, numeric, categorical)}
    D, cols = design(model, X)
    lr = LogisticRegression(C=C, max_iter=5000)
    with _quiet():
        lr.fit(D, y)
    coef = dict(zip(cols, (round(float(c), 8) for c in lr.coef_[0]), strict=True))
    means = dict(zip(cols, (round(float(m), 8) for m in D.mean(axis=0)), strict=True))
    intercept: float = round(float(lr.intercept_[0]), 8)
    model.update({"intercept": intercept, "coef": coef,
                  "means": means})
    return model


# --- the kernel member ------------------------------------------------------------------

# The kernel member's penalty (scikit-learn's C). Chosen before measuring: scikit-learn's
# default, with its default kernel width (1 / (columns x variance of the standardised
# design)); on German credit's development splits 7000-7019 C 0.3 ranked within 0.0005 of
# it inside the blend (bench/RESULTS.md, tenth pass).
SVM_C = 1.0


def fit_svm(X: pd.DataFrame, y: np.ndarray, numeric: list[str],
            categorical: list[str], *, C: float = SVM_C, reasons: bool = True) -> dict:
    """A support-vector machine with a Gaussian (RBF) kernel on the one-hot member's design
    (:func:`_design_params`), each column standardised: it ranks a firm by its likeness to
    the training firms that sit near the border between good and bad, a view none of the
    other members takes (they add up one feature at a time or split on thresholds). Its
    decision value is its *bad* logit; the blend standardises and calibrates it like
    every member's. Stored: the design, the support vectors (standardised), their signed
    weights, the intercept and the kernel width, and per feature the training mean of its
    Shapley contribution (:func:`.blend.svm_contributions`; with *reasons* False, as for
    a fold's member that only gives out-of-fold logits, they are not computed)."""
    from sklearn.svm import SVC

    model: dict[str, Any] = {"type": "svm", **_design_params(X, numeric, categorical)}
    D, cols = design(model, X)
    mu, sd = D.mean(axis=0), D.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    svc = SVC(C=C, kernel="rbf", gamma="scale")
    with _quiet():
        svc.fit((D - mu) / sd, y)
    model.update({
        "columns": cols, "mu": [round(float(v), 8) for v in mu],
        "sd": [round(float(v), 8) for v in sd], "gamma": float(svc._gamma),
        "support": [[round(float(v), 8) for v in row] for row in svc.support_vectors_],
        "dual": [round(float(v), 10) for v in svc.dual_coef_[0]],
        "intercept": round(float(svc.intercept_[0]), 10)})
    if reasons:
        c, _ = svm_contributions(model, X)
        model["means"] = {k: round(float(v), 8) for k, v in c.mean().items()}
    return model


# --- fitting --------------------------------------------------------------------------

def _fit_member(name: str, X: pd.DataFrame, y: np.ndarray, numeric: list[str],
                categorical: list[str], seed: int, monotone: dict | None, *,
                final: bool = True) -> dict:
    from trellis.scoring import training  # cycle: training's "blend" family is fitted here

    if name not in KIND:
        raise InvalidScorecard(msg(N_("Unknown member of the blend: %(name)s."), name=name),
                               field="model.members")
    if name == "onehot":
        return {"kind": name, "model": fit_onehot(X, y, numeric, categorical)}
    if name == "svm":  # a fold's member only ranks its held-out rows: no reasons needed
        return {"kind": name, "model": fit_svm(X, y, numeric, categorical, reasons=final)}
    if name == "gbm":
        return {"kind": name, "card": boosting.fit(X, y, numeric, categorical,
                                                   version="member-gbm", seed=seed,
                                                   monotone=monotone)}
    if name in TREES:  # the caller's directions only; every other feature left free
        stated = {c: int((monotone or {}).get(c, 0)) for c in numeric}
        return {"kind": "gbm", "name": name,
                "card": boosting.fit(X, y, numeric, categorical, version=f"member-{name}",
                                     seed=seed, monotone=stated, params=TREES[name])}
    card = training.fit(X, y, numeric, categorical, version=f"member-{name}", seed=seed,
                        calibrate=False,
                        binning=FREE_BINNING if name == "woe_free" else None)
    lo, _ = scorecard.contributions(card, X)
    member = {"kind": KIND[name], "card": card,
              "means": {k: round(float(v), 8) for k, v in lo.mean().items()}}
    if name != KIND[name]:
        member["name"] = name
    return member


def _weights(L: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[float, dict]:
    """Stacking weights on the members' out-of-fold *bad* logits; members with a weight
    of zero or below are dropped one at a time (the smallest first)."""
    keep = list(range(len(names)))
    while keep:
        lr = LogisticRegression(C=1e4, max_iter=5000)
        with _quiet():
            lr.fit(L[:, keep], y)
        coef = lr.coef_[0]
        if (coef > 0).all():
            return float(lr.intercept_[0]), {names[k]: float(c) for k, c in zip(keep, coef,
                                                                                 strict=True)}
        keep.pop(int(np.argmin(coef)))
    raise InvalidScorecard(N_("No member of the blend ranks the out-of-fold rows."),
                           field="model.members")


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=1e6, max_iter=5000)
    with _quiet():
        lr.fit(z.reshape(-1, 1), y)
    return float(lr.intercept_[0]), float(lr.coef_[0][0])


def _combination(how: str, L: np.ndarray, y: np.ndarray,
                 names: list[str]) -> tuple[float, dict]:
    """(intercept, weights per member) of one way of combining the members' logits *L*:
    ``learnt`` (stacking, :func:`_weights`), ``equal`` (the mean of the standardised
    logits, then Platt-scaled) or one member alone (Platt-scaled). Raises
    :class:`InvalidScorecard` when the combination does not rank the rows."""
    if how == "learnt":
        return _weights(L, y, names)
    if how == "equal":
        sd = L.std(axis=0)
        if not (sd > 0).all():
            raise InvalidScorecard(N_("A member gives every row the same logit."),
                                   field="model.members")
        w = 1.0 / (sd * len(names))
        a, b = _platt(L @ w, y)
        if not b > 0:
            raise InvalidScorecard(N_("The equal-weight blend does not rank the rows."),
                                   field="model.members")
        return a, {n: float(b * wi) for n, wi in zip(names, w, strict=True)}
    j = names.index(how)
    a, b = _platt(L[:, j], y)
    if not b > 0:
        raise InvalidScorecard(msg(N_("The %(how)s member does not rank the rows."), how=how),
                               field="model.members")
    return a, {how: b}


def _combined_logit(L: np.ndarray, names: list[str], a: float, weights: dict) -> np.ndarray:
    return a + sum(w * L[:, names.index(n)] for n, w in weights.items())


def choose(L: np.ndarray, y: np.ndarray, names: list[str], *, seed: int = 0,
           folds: int = FOLDS, candidates: tuple[str, ...] = COMBINATIONS) -> dict:
    """Choose how to combine the members by inner cross-validation on their out-of-fold
    logits *L* (training rows only): each candidate combination is fitted on k-1 folds of
    these rows and ranks the k-th, and the candidate with the best pooled AUC is chosen
    (ties: the simpler, in the order of *candidates* reversed: the WoE card alone, the
    one-hot model alone, the boosted card alone, then equal weights, then learnt
    weights). Returns ``{"chosen": ..., "auc": {...}}``."""
    k = min(folds, int(y.sum()), int((1 - y).sum()))
    auc = {}
    for how in candidates:
        if how not in ("learnt", "equal") and how not in names:
            continue
        pred = np.zeros(len(y))
        try:
            for tr, te in StratifiedKFold(n_splits=k, shuffle=True,
                                          random_state=seed + 1).split(L, y):
                a, w = _combination(how, L[tr], y[tr], names)
                pred[te] = _combined_logit(L[te], names, a, w)
        except InvalidScorecard:
            continue
        auc[how] = round(float(metrics.auc(y, pred)), 4)
    if not auc:
        raise InvalidScorecard(N_("No combination of the blend's members ranks the "
                                  "out-of-fold rows."), field="model.members")
    order = list(reversed(candidates))
    chosen = max(auc, key=lambda h: (auc[h], -order.index(h)))
    return {"chosen": chosen, "auc": auc}


def fit(X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], *,
        version: str, seed: int = 0, monotone: dict | None = None,
        labels: dict | None = None, members: tuple[str, ...] = MEMBERS,
        folds: int = FOLDS, combine: str = COMBINE) -> dict:
    """Fit the blended card on the rows of *X* (already prepared by the training path).

    *members* are named as in :data:`MEMBERS`. *combine* is how their logits are
    combined: ``equal`` (the default: the standardised out-of-fold logits averaged with
    fixed equal weights), ``learnt`` (stacking weights), a member's name (that member
    alone), or ``auto`` (chosen among those by inner cross-validation on the members'
    out-of-fold logits, :func:`choose`). Every combination is calibrated (Platt) on the
    out-of-fold logits of the training rows; every kept member is then refitted on all
    rows."""
    k = min(folds, int(y.sum()), int((1 - y).sum()))
    oof = np.zeros((len(y), len(members)))
    for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y):
        for j, name in enumerate(members):
            part = _fit_member(name, X.iloc[tr], y[tr], numeric, categorical, seed, monotone,
                               final=False)
            oof[te, j] = -member_logodds(part, X.iloc[te])
    names = list(members)
    selection = None
    if combine == "auto":
        selection = choose(oof, y, names, seed=seed, folds=folds)
        combine = selection["chosen"]
    if combine not in ("learnt", "equal") and combine not in names:
        raise InvalidScorecard(msg(N_("Unknown way to combine the members: %(combine)s."),
                                   combine=combine),
                               field="model.combine")
    intercept, weights = _combination(combine, oof, y, names)
    kept = []
    for name in members:
        if name in weights:
            m = _fit_member(name, X, y, numeric, categorical, seed, monotone)
            m["weight"] = round(weights[name], 8)
            kept.append(m)
    model = {"members": kept, "features": list(numeric) + list(categorical),
             "numeric": list(numeric), "categorical": list(categorical),
             "a": round(intercept, 8), "b": 1.0, "labels": labels or {},
             "stacking": {"folds": k, "seed": seed, "combine": combine,
                          "selection": selection, "weights": {
                              name: round(w, 4) for name, w in weights.items()},
                          "dropped": [m for m in members if m not in weights]}}
    spec = {"format": scorecard.FORMAT, "family": FAMILY, "version": version,
            "kind": "trained", "name": f"Blended card {version}", "intercept": 0.0,
            "scaling": dict(SCALING), "characteristics": [], "model": model,
            "grades": [{"grade": g, "max_pd": p} for g, p in GRADE_PDS]}
    return scorecard.validate(spec)
