"""A challenger family beyond weight-of-evidence logistic regression: gradient-boosted
trees (LightGBM) with monotone constraints, explained per decision.

A card of this family is a scorecard document (:mod:`.scorecard`) with ``"family":
"gbm"`` and no bins: ``model`` holds the booster as LightGBM's own text format, the
features, the categories of each text column, the monotone direction of each numeric
feature and the calibration ``logit(PD) = a + b x margin``. Missing values stay missing
(LightGBM routes them to their own side of each split): never zero.

Monotone constraints keep the card explainable and stable: a feature whose higher values
mean more risk (days paid late) can only raise the PD as it grows. The direction of each
numeric feature comes from the caller (for Trellis's own features: the expert card's
bins) or, for a table brought by a risk team, from the data (the sign of its Spearman
correlation with the outcome when that is clear, else unconstrained).

Reasons per decision come from LightGBM's exact TreeSHAP contributions (``pred_contrib``):
the features that pushed this firm's PD up the most, in the plain words of the
characteristic (the expert card's reason texts where the feature is one of Trellis's own).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trellis.messages import N_
from trellis.scoring import scorecard
from trellis.scoring.errors import InvalidScorecard
from trellis.scoring.expert import GRADE_PDS, SCALING

FAMILY = "gbm"
PARAMS = {"objective": "binary", "learning_rate": 0.03, "num_leaves": 4,
          "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
          "colsample_bytree": 0.7, "reg_lambda": 5.0, "verbose": -1, "n_jobs": 1}
N_ESTIMATORS = 300
MONOTONE_P = 0.05  # a data-derived direction needs a Spearman p-value below this


def _lgb():
    import lightgbm  # late: seconds to import; only a boosted card, fitted or applied, needs it

    return lightgbm


def matrix(spec_model: dict, X: pd.DataFrame) -> pd.DataFrame:
    """The model's feature frame from *X*: numeric as float, text columns as the
    category codes seen in training (unseen or missing: NaN)."""
    # columns built apart and joined once (one by one, 100+ features fragment the frame)
    out: dict[str, pd.Series] = {}
    for name in spec_model["features"]:
        col = X[name] if name in X else pd.Series(np.nan, index=X.index)
        cats = spec_model["categories"].get(name)
        if cats is None:
            out[name] = pd.to_numeric(col, errors="coerce").astype(float)
        else:
            lookup = {c: i for i, c in enumerate(cats)}
            out[name] = col.map(lambda v, lk=lookup: lk.get(str(v), np.nan)
                                if v is not None and not (isinstance(v, float) and math.isnan(v))
                                else np.nan).astype(float)
    return pd.DataFrame(out, index=X.index)


def directions(df: pd.DataFrame, y: np.ndarray, numeric: list[str],
               given: dict[str, int] | None = None) -> dict[str, int]:
    """Monotone direction per numeric feature on the *bad* probability: +1 risk rises
    with the value, -1 falls, 0 free. *given* wins; otherwise a clear Spearman sign."""
    given = given or {}
    out = {}
    for name in numeric:
        if name in given:
            out[name] = int(np.sign(given[name]))
            continue
        v = pd.to_numeric(df[name], errors="coerce")
        ok = v.notna().to_numpy()
        if ok.sum() < 20 or v[ok].nunique() < 2:
            out[name] = 0
            continue
        rho, p = stats.spearmanr(v[ok], y[ok])
        out[name] = int(np.sign(rho)) if np.isfinite(p) and p < MONOTONE_P else 0
    return out


def fit(df: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], *,
        version: str, seed: int = 0, monotone: dict[str, int] | None = None,
        labels: dict[str, dict] | None = None, n_estimators: int = N_ESTIMATORS,
        params: dict[str, Any] | None = None) -> dict:
    """Fit the boosted card; returns a scorecard document of family ``gbm``. *params*
    override LightGBM's settings (:data:`PARAMS`)."""
    cats = {c: sorted({str(v) for v in df[c].dropna().unique()}) for c in categorical}
    model: dict[str, Any] = {"features": list(numeric) + list(categorical), "categories": cats}
    M = matrix(model, df)
    mono = directions(df, y, numeric, monotone)
    lgb = _lgb()
    clf = lgb.LGBMClassifier(n_estimators=n_estimators, random_state=seed,
                             monotone_constraints=[mono.get(f, 0) for f in model["features"]],
                             **{**PARAMS, **(params or {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(M, y, categorical_feature=list(categorical) or "auto")
    model.update({"booster": clf.booster_.model_to_string(), "monotone": mono,
                  "a": 0.0, "b": 1.0, "labels": labels or {}})
    spec = {"format": scorecard.FORMAT, "family": FAMILY, "version": version,
            "kind": "trained", "name": f"Boosted trees {version}", "intercept": 0.0,
            "scaling": dict(SCALING), "characteristics": [], "model": model,
            "grades": [{"grade": g, "max_pd": p} for g, p in GRADE_PDS]}
    return scorecard.validate(spec)


_BOOSTERS: dict[int, object] = {}


def _booster(spec: dict):
    text = spec["model"]["booster"]
    key = hash(text)
    b = _BOOSTERS.get(key)
    if b is None:
        b = _lgb().Booster(model_str=text)
        _BOOSTERS[key] = b
        while len(_BOOSTERS) > 8:
            _BOOSTERS.pop(next(iter(_BOOSTERS)))
    return b


def contributions(spec: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(per-feature contributions to ln(good:bad odds), the rest: bias and calibration)."""
    model = spec["model"]
    M = matrix(model, X)
    if len(M) == 0:
        return pd.DataFrame(columns=model["features"], index=X.index), pd.Series(
            dtype=float, index=X.index)
    raw = _booster(spec).predict(M, pred_contrib=True)
    a, b = float(model["a"]), float(model["b"])
    contrib = pd.DataFrame(-b * raw[:, :-1], columns=model["features"], index=X.index)
    rest = pd.Series(-(a + b * raw[:, -1]), index=X.index)
    return contrib, rest


def validate_model(spec: dict) -> None:
    """Check a boosted card's model (booster text, features, calibration a and b); raises
    InvalidScorecard naming the field."""
    model = spec.get("model")
    if not isinstance(model, dict) or not model.get("booster") or not isinstance(
            model.get("features"), list):
        raise InvalidScorecard(N_("A boosted card needs model.booster and model.features."),
                               field="model")
    b = model.get("b", 1.0)
    if not isinstance(b, (int, float)) or not math.isfinite(b) or b <= 0:
        raise InvalidScorecard(N_("model.b must be a positive number."), field="model.b")


def reason_text(spec: dict, name: str) -> tuple[str, str]:
    """Plain words for a feature that raised the PD: the characteristic's own reason
    (Trellis's features) or, for a column of a table brought from outside, its name."""
    lab = spec["model"].get("labels", {}).get(name)
    if lab:
        return lab["en"], lab["zh"]
    words = name.replace("_", " ").strip().capitalize()
    return f"{words}: this value raises the risk", f"{name}：该项取值提高了风险"
