"""A blended challenger: WoE scorecards, monotone boosted trees and a one-hot logistic
regression, combined by weights set on out-of-fold predictions of the training rows (by
default equal weights on the standardised logits; see :mod:`.blend_fit`). A member may
carry a ``name`` besides its ``kind`` (``woe_free``: a second WoE card, free binning;
``gbm_xt`` and ``rf``: extra-trees boosting and a random forest, LightGBM cards like the
boosted one); applying a card reads only the kind.
This module reads and applies a blend card; :mod:`.blend_fit` fits one (scikit-learn),
so that scoring with a stored card never imports the training libraries.

Each family sees the data differently (WoE bins: monotone steps per characteristic;
tree ensembles: interactions and non-monotone shapes; one-hot LR: every category and a
linear trend, no binning loss), and their errors are only partly shared, so a weighted
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
for the one-hot model). The features that lowered the firm's good:bad odds the most are
its reasons, in the plain words of the characteristic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trellis.messages import N_, msg
from trellis.scoring import boosting, scorecard
from trellis.scoring.errors import InvalidScorecard

FAMILY = "blend"
MEMBERS = ("woe", "gbm", "onehot")  # the kinds of member a blend may hold


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


# --- members as contributions to ln(good:bad odds) --------------------------------------

def member_contributions(member: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(per-feature contributions to ln(good:bad odds) centred on the training
    population, the rest) of one member; their row sum is the member's ln(good:bad)."""
    kind = member["kind"]
    if kind == "onehot":
        c, rest = _onehot_contributions(member["model"], X)
        return -c, -rest
    card = member["card"]
    if kind == "gbm":
        return boosting.contributions(card, X)
    lo, _ = scorecard.contributions(card, X)
    means = pd.Series(member["means"])[lo.columns]
    rest = pd.Series(float(card["intercept"]) + float(means.sum()), index=X.index)
    return lo - means, rest


def member_logodds(member: dict, X: pd.DataFrame) -> np.ndarray:
    """One member's ln(good:bad odds) of each row of *X*."""
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
            raise InvalidScorecard(msg(N_("%(where)s.kind must be woe, gbm or onehot."),
                                       where=where), field=where)
