"""A blended challenger: WoE scorecards, monotone boosted trees and a one-hot logistic
regression, combined by weights set on out-of-fold predictions of the training rows (by
default equal weights on the standardised logits; see :mod:`.blend_fit`). A member may
carry a ``name`` besides its ``kind`` (``woe_free``: a second WoE card, free binning;
``gbm_xt`` and ``rf``: extra-trees boosting and a random forest, LightGBM cards like the
boosted one); applying a card reads only the kind. A member of kind ``svm`` is a
support-vector machine with a Gaussian kernel on the one-hot member's design.
This module reads and applies a blend card; :mod:`.blend_fit` fits one (scikit-learn),
so that scoring with a stored card never imports the training libraries.

Each family sees the data differently (WoE bins: monotone steps per characteristic;
tree ensembles: interactions and non-monotone shapes; one-hot LR: every category and a
linear trend, no binning loss; the kernel machine: likeness to the training firms near
the border between good and bad), and their errors are only partly shared, so a weighted
sum of their logits ranks better than any one of them when the training rows allow.

A card of this family is a scorecard document (:mod:`.scorecard`) with ``"family":
"blend"`` and no bins of its own: ``model.members`` holds each member (a complete WoE
scorecard document, a complete boosted card, or the one-hot model's coefficients) with
its weight, and ``model.a``/``model.b`` the calibration ``logit(PD) = a + b x sum_m w_m x
logit_m(PD)`` (``a``, ``b`` change when the card is recalibrated). Everything needed to
score a firm is in the JSON; nothing is refitted at scoring time.

Reasons are honest contributions to the blend's own logit: it is a weighted sum of the
members' logits, so each feature's contribution is the weighted sum of its contribution in
each member, measured against the training population (the WoE member's points minus
their training mean, exact TreeSHAP for the trees, coefficient x (value - training mean)
for the one-hot model, exact Shapley values of the kernel's product game for the kernel
machine, minus their training mean; :func:`svm_contributions`). The features that
lowered the firm's good:bad odds the most are its reasons, in the plain words of the
characteristic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trellis.messages import N_, msg
from trellis.scoring import boosting, scorecard
from trellis.scoring.errors import InvalidScorecard

FAMILY = "blend"
MEMBERS = ("woe", "gbm", "onehot", "svm")  # the kinds of member a blend may hold


# --- applying a stored blend ------------------------------------------------------------

def transform(v: np.ndarray, p: dict) -> np.ndarray:
    """A numeric column as the one-hot member sees it (see :func:`.blend_fit.fit_onehot`)."""
    if p.get("log"):
        v = np.log1p(np.maximum(v, 0.0))
    if "clip" in p:
        v = np.clip(v, p["clip"][0], p["clip"][1])
    return v


def design(model: dict, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The one-hot member's design matrix of *X* and its column names: each numeric
    standardised (missing: 0, with its own 0/1 column when training had gaps), one 0/1
    column per category seen in training."""
    cols, parts = [], []
    def column(c):  # an absent column is missing on every row, as for the other cards
        return X[c] if c in X else pd.Series(np.nan, index=X.index, dtype=object)

    for c, p in model["numeric"].items():
        v = transform(pd.to_numeric(column(c), errors="coerce").astype(float).to_numpy(), p)
        miss = np.isnan(v)
        parts.append(np.where(miss, 0.0, (v - p["median"]) / p["scale"]))
        cols.append(f"{c}")
        if p["has_missing"]:
            parts.append(miss.astype(float))
            cols.append(f"{c}\x1fmissing")
    for c, cats in model["categories"].items():
        s = column(c).astype("object").map(lambda v: None if v is None or (
            isinstance(v, float) and math.isnan(v)) else str(v))
        for k in cats:
            parts.append((s == k).to_numpy(dtype=float))
            cols.append(f"{c}\x1f{k}")
    D = np.column_stack(parts) if parts else np.zeros((len(X), 0))
    return D, cols


def _onehot_contributions(model: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Per-feature contributions to the *bad* logit against the training mean, and the
    rest (intercept + mean)."""
    D, cols = design(model, X)
    coef = np.asarray([model["coef"][c] for c in cols])
    means = np.asarray([model["means"][c] for c in cols])
    parts = (D - means) * coef
    feature = [c.split("\x1f")[0] for c in cols]
    out = pd.DataFrame(parts, columns=cols, index=X.index).T.groupby(feature, sort=False) \
        .sum().T if cols else pd.DataFrame(index=X.index)
    rest = pd.Series(float(model["intercept"]) + float(means @ coef), index=X.index)
    return out, rest


# --- the kernel member -------------------------------------------------------------------

def _svm_design(model: dict, X: pd.DataFrame) -> np.ndarray:
    D, _ = design(model, X)
    return (D - np.asarray(model["mu"])) / np.asarray(model["sd"])


def svm_decision(model: dict, X: pd.DataFrame) -> np.ndarray:
    """The kernel member's decision value (its *bad* logit) of each row of *X*:
    ``intercept + sum_i dual_i exp(-gamma |z - s_i|^2)`` over the support vectors."""
    Z = _svm_design(model, X)
    S = np.asarray(model["support"], dtype=float)
    d2 = (Z * Z).sum(axis=1)[:, None] + (S * S).sum(axis=1)[None, :] - 2.0 * Z @ S.T
    K = np.exp(-float(model["gamma"]) * np.maximum(d2, 0.0))
    return K @ np.asarray(model["dual"], dtype=float) + float(model["intercept"])


def svm_contributions(model: dict, X: pd.DataFrame, *, chunk: int = 2_000_000
                      ) -> tuple[pd.DataFrame, pd.Series]:
    """Exact Shapley values of each feature in the kernel member's *bad* logit, and the
    rest (intercept + the sum of the support vectors' weights); their row sum is the
    decision value.

    The Gaussian kernel is a product over features, ``k(x, s) = prod_f a_f`` with
    ``a_f = exp(-gamma |x_f - s_f|^2)`` over the design columns of feature f, so each
    support vector's term is a product game (a feature left out counts as matching the
    support vector, factor 1), whose Shapley values are exact in polynomial time
    (Mohammadi et al., exact Shapley values for product-kernel methods): with the Shapley
    weights written as Beta integrals,
    ``phi_f = (a_f - 1) int_0^1 prod_{k != f} (1 - t + t a_k) dt``; the integrand is a
    polynomial of degree F - 1 in t, so Gauss-Legendre quadrature with F // 2 + 1 nodes
    gives it exactly (and, unlike sums of elementary symmetric polynomials, stably with
    dozens of features). Not centred: :func:`member_contributions` centres them on the
    training mean stored with the member."""
    Z = _svm_design(model, X)
    cols = model["columns"]
    feats = list(dict.fromkeys(c.split("\x1f")[0] for c in cols))
    idx = [[j for j, c in enumerate(cols) if c.split("\x1f")[0] == f] for f in feats]
    S = np.asarray(model["support"], dtype=float)
    alpha = np.asarray(model["dual"], dtype=float)
    gamma, F, m = float(model["gamma"]), len(feats), len(alpha)
    nodes, weights = np.polynomial.legendre.leggauss(F // 2 + 1)
    phi = np.zeros((len(Z), F))
    step = max(1, chunk // max(1, F * m))
    for lo in range(0, len(Z), step):
        z = Z[lo:lo + step]
        A = np.stack([np.exp(-gamma * ((z[:, None, j] - S[None, :, j]) ** 2).sum(axis=2))
                      for j in idx]) if F else np.zeros((0, len(z), m))  # (F, rows, m)
        g = np.zeros_like(A)
        for x, wx in zip(nodes, weights, strict=True):
            t = (x + 1.0) / 2.0  # a node on [0, 1]; 1 - t + t a > 0 there
            log_b = np.log(1.0 - t + t * A)
            g += (wx / 2.0) * np.exp(log_b.sum(axis=0)[None] - log_b)
        phi[lo:lo + step] = (((A - 1.0) * g) @ alpha).T
    rest = pd.Series(float(model["intercept"]) + float(alpha.sum()), index=X.index)
    return pd.DataFrame(phi, columns=feats, index=X.index), rest


# --- members as contributions to ln(good:bad odds) --------------------------------------

def member_contributions(member: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(per-feature contributions to ln(good:bad odds) centred on the training
    population, the rest) of one member; their row sum is the member's ln(good:bad)."""
    kind = member["kind"]
    if kind == "onehot":
        c, rest = _onehot_contributions(member["model"], X)
        return -c, -rest
    if kind == "svm":
        c, rest = svm_contributions(member["model"], X)
        means = pd.Series(member["model"]["means"])[c.columns]
        return -(c - means), -(rest + float(means.sum()))
    card = member["card"]
    if kind == "gbm":
        return boosting.contributions(card, X)
    lo, _ = scorecard.contributions(card, X)
    means = pd.Series(member["means"])[lo.columns]
    rest = pd.Series(float(card["intercept"]) + float(means.sum()), index=X.index)
    return lo - means, rest


def member_logodds(member: dict, X: pd.DataFrame) -> np.ndarray:
    """One member's ln(good:bad odds) of each row of *X*."""
    if member["kind"] == "svm":  # equal to its contributions' sum, without computing them
        return -svm_decision(member["model"], X)
    c, rest = member_contributions(member, X)
    return (rest + c.sum(axis=1)).to_numpy()


def contributions(spec: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(per-feature contributions to the blend's ln(good:bad odds), the rest: each
    member's baseline and the calibration)."""
    model = spec["model"]
    a, b = float(model["a"]), float(model["b"])
    total = pd.DataFrame(0.0, index=X.index, columns=model["features"])
    rest = pd.Series(-a, index=X.index)
    for m in model["members"]:
        c, r = member_contributions(m, X)
        w = b * float(m["weight"])
        total = total.add(w * c.reindex(columns=total.columns, fill_value=0.0), fill_value=0.0)
        rest = rest + w * r
    return total, rest


def validate_model(spec: dict) -> None:
    """Refuse a blend card whose models, weights or stacking are not what
    :func:`.blend_fit.fit` writes (an unknown model type, a negative weight, no models):
    raises ScoringError."""
    model = spec.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("members"), list) \
            or not model["members"] or not isinstance(model.get("features"), list):
        raise InvalidScorecard(N_("A blended card needs model.members and model.features."),
                               field="model")
    for key in ("a", "b"):
        if not isinstance(model.get(key), (int, float)) or not math.isfinite(model[key]):
            raise InvalidScorecard(msg(N_("model.%(key)s must be a number."),
                                       key=key), field=f"model.{key}")
    if model["b"] <= 0:
        raise InvalidScorecard(N_("model.b must be a positive number."), field="model.b")
    for i, m in enumerate(model["members"]):
        where = f"model.members[{i}]"
        w = m.get("weight") if isinstance(m, dict) else None
        if not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0:
            raise InvalidScorecard(msg(N_("%(where)s.weight must be a positive number."),
                                       where=where), field=where)
        kind = m.get("kind")
        if kind == "onehot":
            mm = m.get("model")
            if not isinstance(mm, dict) or not {"numeric", "categories", "coef", "means",
                                                "intercept"} <= set(mm):
                raise InvalidScorecard(msg(N_("%(where)s: the one-hot model is incomplete."),
                                           where=where),
                                       field=where)
        elif kind == "svm":
            mm = m.get("model")
            if not isinstance(mm, dict) or not {"numeric", "categories", "columns", "mu", "sd",
                                                "gamma", "support", "dual", "intercept",
                                                "means"} <= set(mm) \
                    or any(len(row) != len(mm["columns"]) for row in mm["support"]) \
                    or len(mm["support"]) != len(mm["dual"]):
                raise InvalidScorecard(msg(N_("%(where)s: the kernel model is incomplete."),
                                           where=where),
                                       field=where)
        elif kind == "gbm":
            boosting.validate_model(m.get("card") or {})
        elif kind == "woe":
            scorecard.validate(m.get("card") or {})
            if not isinstance(m.get("means"), dict):
                raise InvalidScorecard(msg(N_("%(where)s: the WoE member needs its training "
                                              "means."),
                                           where=where),
                                       field=where)
        else:
            raise InvalidScorecard(msg(N_("%(where)s.kind must be woe, gbm, onehot or svm."),
                                       where=where), field=where)
