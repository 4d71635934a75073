"""Calibration: a PD is a probability, so its level must match the defaults that happen.

A scorecard ranks firms; calibration sets the level. Three operations, each returning a
new scorecard document (the ranking never changes, only the PD, score and grade):

- :func:`anchor`: before any outcome exists, shift the card's intercept so that the mean
  PD over a population equals a stated portfolio default rate (a product setting with its
  source, :class:`~trellis.scoring.models.PortfolioDefaultRate`).
- :func:`recalibrate`: once outcomes exist, calibration-in-the-large (one intercept shift
  so that the mean PD equals the observed default rate), then the slope (logistic
  regression of the outcome on the card's logit), both folded into the card: with
  ``logit(PD') = a + b x logit(PD)`` and the card's ``ln(good:bad odds) = L``,
  ``L' = b x L - a``, i.e. the intercept becomes ``b x intercept - a`` and every bin's
  log-odds is multiplied by ``b``.
- :func:`report`: the validation of a card's level on labelled rows: a reliability table
  (deciles of PD), per grade the observed rate against the grade's mean PD with an exact
  binomial test and a 95% binomial band, the Hosmer-Lemeshow test, and a ``flag`` raised
  when any grade's observed rate lies outside its band (for the risk team).

Probabilities are model outputs, not money, so floats are fine here.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats
from sklearn.linear_model import LogisticRegression

from trellis.messages import N_, msg
from trellis.scoring import metrics, scorecard
from trellis.scoring.errors import TrainingDataError

BAND = 0.95  # two-sided confidence of the per-grade band
HL_GROUPS = 10
MIN_ROWS, MIN_BADS = 50, 10  # fewer outcomes than this: anchor instead of recalibrating
PD_FLOOR = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), PD_FLOOR, 1 - PD_FLOOR)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def transform(spec: dict, a: float, b: float, meta: dict, version: str | None = None) -> dict:
    """*spec* with ``logit(PD') = a + b x logit(PD)`` folded into its intercept and bins."""
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        raise TrainingDataError(msg(N_("Calibration gave an unusable transform "
                                       "(a=%(a)s, b=%(b)s)."),
                                    a=a, b=b),
                                field="calibration")
    out = copy.deepcopy(spec)
    if out.get("family") in ("gbm", "blend"):
        # logit(PD) = ma + mb x margin  ->  a + b x logit(PD)
        m = out["model"]
        m["a"], m["b"] = a + b * float(m["a"]), b * float(m["b"])
    else:
        out["intercept"] = round(b * float(spec["intercept"]) - a, 6)
    for ch in out["characteristics"]:
        for b_ in ch["bins"]:
            b_["logodds"] = round(b * float(b_["logodds"]), 6)
        for key in ("missing", "other"):
            if key in ch:
                ch[key]["logodds"] = round(b * float(ch[key]["logodds"]), 6)
    history = list(spec.get("calibration_history", []))
    if spec.get("calibration"):
        history.append(spec["calibration"])
    out["calibration"] = {**meta, "a": round(a, 6), "b": round(b, 6),
                          "from_version": spec["version"]}
    out["calibration_history"] = history
    out.pop("reference_scores", None)  # score deciles moved with the level
    if version:
        out["version"] = version
    return scorecard.validate(out)


def shift_for_mean(logits: np.ndarray, target: float) -> float:
    """The shift *a* such that the mean of sigmoid(logits + a) equals *target* (0 < t < 1)."""
    if not 0 < target < 1:
        raise TrainingDataError(N_("A default rate must lie strictly between 0 and 1."),
                                field="rate")
    z = np.asarray(logits, dtype=float)
    if z.size == 0:
        raise TrainingDataError(N_("No scorable firm to calibrate on."), field="population")
    return float(optimize.brentq(lambda a: _sigmoid(z + a).mean() - target, -40, 40))


def anchor(spec: dict, X: pd.DataFrame, rate: float, *, source: str,
           version: str | None = None) -> dict:
    """Shift *spec* so that the mean PD over population *X* equals *rate*."""
    pd_ = scorecard.apply(spec, X).pd.to_numpy()
    a = shift_for_mean(_logit(pd_), rate)
    return transform(spec, a, 1.0, {"method": "anchor", "target_rate": rate,
                                    "source": source, "population": int(len(X)),
                                    "mean_pd_before": round(float(pd_.mean()), 6)},
                     version)


def fit_slope(logit_pd: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Unpenalised logistic regression y ~ a + b x logit_pd; returns (a, b)."""
    x = np.asarray(logit_pd, dtype=float).reshape(-1, 1)
    lr = LogisticRegression(C=1e6, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr.fit(x, np.asarray(y, dtype=int))
    return float(lr.intercept_[0]), float(lr.coef_[0][0])


def _enough_outcomes(y) -> np.ndarray:
    """*y* as 0/1 integers; raises :class:`TrainingDataError` when there are too few
    outcomes, defaults or repaid loans to recalibrate on."""
    y = np.asarray(y, dtype=int)
    if len(y) < MIN_ROWS or y.sum() < MIN_BADS or (1 - y).sum() < MIN_BADS:
        raise TrainingDataError(
            msg(N_("Recalibration needs at least %(rows)s outcomes with %(bads)s defaults and "
                   "%(bads)s repaid; found %(found)s with %(defaults)s defaults."),
                rows=MIN_ROWS, bads=MIN_BADS, found=len(y), defaults=int(y.sum())),
                field="target")
    return y


def recalibrate(spec: dict, X: pd.DataFrame, y, *, version: str | None = None,
                slope: bool = True) -> dict:
    """Calibration-in-the-large, then the slope, fitted on outcomes *y* (1 = default) of
    the rows of *X*; raises :class:`TrainingDataError` when there are too few outcomes."""
    y = _enough_outcomes(y)
    z = _logit(scorecard.apply(spec, X).pd.to_numpy())
    a0 = shift_for_mean(z, float(y.mean()))
    a, b = fit_slope(z, y) if slope else (a0, 1.0)
    if not math.isfinite(b) or b <= 0.05:
        # The card does not rank these rows: keep its slope, fix the level only.
        a, b = a0, 1.0
    meta = {"method": "recalibrate", "rows": int(len(y)), "defaults": int(y.sum()),
            "observed_rate": round(float(y.mean()), 6),
            "citl_shift": round(a0, 6), "slope": round(b, 6),
            "mean_pd_before": round(float(_sigmoid(z).mean()), 6)}
    return transform(spec, a, b, meta, version)


def recalibrate_to_rate(spec: dict, X: pd.DataFrame, y, population: pd.DataFrame,
                        rate: float, *, source: str, version: str | None = None) -> dict:
    """The slope from outcomes, the level from a stated portfolio default rate.

    Matured outcomes are loans taken six months ago or more: they say how steeply risk
    rises with the card's logit, but their default rate is that of their own period. A
    rate the risk team stated after them (a downturn, a new product) is the better prior
    for the level now. So: ``b`` is fitted on the outcomes *y* of the rows of *X* (as
    :func:`recalibrate`), then the intercept is set so that the mean PD over the current
    *population* equals *rate*. Raises :class:`TrainingDataError` when there are too few
    outcomes or no population.

    The slope is carried from the past loans to the current population by
    :func:`transport_slope`: never steeper than fitted, flatter when the card spreads the
    population now wider than it spread the past borrowers."""
    y = _enough_outcomes(y)
    z = _logit(scorecard.apply(spec, X).pd.to_numpy())
    _, fitted = fit_slope(z, y)
    if not math.isfinite(fitted) or fitted <= 0.05:
        fitted = 1.0  # the card does not rank these rows: keep its slope
    zp = _logit(scorecard.apply(spec, population).pd.to_numpy())
    b, spread_past, spread_now = transport_slope(fitted, z, zp)
    a = shift_for_mean(b * zp, rate)
    meta = {"method": "recalibrate", "level": "stated_rate", "rows": int(len(y)),
            "defaults": int(y.sum()), "observed_rate": round(float(y.mean()), 6),
            "slope_fitted": round(fitted, 6), "spread_past": round(spread_past, 4),
            "spread_now": round(spread_now, 4),
            "slope": round(b, 6), "target_rate": rate, "source": source,
            "population": int(len(population)),
            "mean_pd_before": round(float(_sigmoid(zp).mean()), 6)}
    return transform(spec, a, b, meta, version)


def transport_slope(fitted: float, z_past: np.ndarray, z_now: np.ndarray
                    ) -> tuple[float, float, float]:
    """The slope for the current population: (slope, spread of the card's logit over the
    past loans, over the population now), spreads as standard deviations.

    A slope fitted on past loans says how much default risk one unit of the card's logit
    carried *among those loans*. The past loans were scored as of their own months, with
    less history behind each firm, so fewer of the card's rules fired and its logits were
    narrower; scored now, the same card spreads the population wider (on the development
    parks by 4-23%) without ranking it proportionally better. Applying the past slope
    unchanged then stretches the current PDs beyond what the past loans support: the
    good firms' PDs come out too low and the worst firms' too high, while the level set
    over the whole population still matches (the miss shows in the middle grades and in
    the Hosmer-Lemeshow test, not in the mean PD). So the slope keeps the calibrated
    spread the past loans measured: ``slope x min(1, spread_past / spread_now)``. It is
    one-sided: a population narrower than the past loans keeps the fitted slope, since
    steepening beyond what outcomes showed is the overconfident direction, the costlier
    one for a lender (a good grade is priced and limited as such)."""
    sp = float(np.std(np.asarray(z_past, dtype=float)))
    sn = float(np.std(np.asarray(z_now, dtype=float)))
    if not (math.isfinite(sp) and math.isfinite(sn)) or sp <= 0 or sn <= 0:
        return fitted, sp, sn
    return fitted * min(1.0, sp / sn), sp, sn


def hosmer_lemeshow(y, pd_, groups: int = HL_GROUPS) -> dict:
    """Hosmer-Lemeshow statistic over *groups* quantile groups of PD (df = groups - 2)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(pd_, dtype=float)
    order = np.argsort(p, kind="stable")
    chi2, used = 0.0, 0
    for chunk in np.array_split(order, min(groups, len(p))):
        if chunk.size == 0:
            continue
        n, obs, exp = chunk.size, y[chunk].sum(), p[chunk].sum()
        var = exp * (1 - exp / n)
        if var > 0:
            chi2 += (obs - exp) ** 2 / var
            used += 1
    df = max(1, used - 2)
    return {"statistic": round(float(chi2), 3), "df": df,
            "p_value": float(stats.chi2.sf(chi2, df))}


def band(n: int, p: float, level: float = BAND) -> tuple[float, float]:
    """Observed default rates consistent with PD *p* over *n* firms (binomial, two-sided)."""
    lo = stats.binom.ppf((1 - level) / 2, n, p) / n
    hi = stats.binom.ppf(1 - (1 - level) / 2, n, p) / n
    return float(lo), float(hi)


def by_grade(y, pd_, grades) -> list[dict]:
    """Per grade: firms, defaults, observed rate, mean PD, binomial band and test."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(pd_, dtype=float)
    g = np.asarray(grades)
    rows = []
    for grade in scorecard.GRADES:
        m = g == grade
        n = int(m.sum())
        if n == 0:
            continue
        bads, mean_pd = int(y[m].sum()), float(p[m].mean())
        lo, hi = band(n, mean_pd)
        test = stats.binomtest(bads, n, mean_pd)
        observed = bads / n
        rows.append({"grade": grade, "n": n, "defaults": bads,
                     "observed_rate": round(observed, 6), "mean_pd": round(mean_pd, 6),
                     "band_low": round(lo, 6), "band_high": round(hi, 6),
                     "p_value": float(test.pvalue),
                     "inside": bool(lo <= observed <= hi)})
    return rows


def report(spec: dict, X: pd.DataFrame, y) -> dict:
    """Validation of *spec*'s level on labelled rows; ``flag`` when a grade misses its band."""
    y = np.asarray(y, dtype=int)
    s = scorecard.apply(spec, X)
    p = s.pd.to_numpy()
    grades = by_grade(y, p, s.grade.to_numpy())
    missed = [r["grade"] for r in grades if not r["inside"]]
    mean_pd, observed = float(p.mean()), float(y.mean()) if len(y) else float("nan")
    return {
        "n": int(len(y)), "defaults": int(y.sum()),
        "observed_rate": round(observed, 6), "mean_pd": round(mean_pd, 6),
        "ratio": round(mean_pd / observed, 4) if observed > 0 else None,
        "auc": round(metrics.auc(y, p), 4) if len(np.unique(y)) > 1 else None,
        "score_span": [int(s.score.min()), int(s.score.max())] if len(y) else None,
        "reliability": metrics.calibration_table(y, p),
        "grades": grades, "hosmer_lemeshow": hosmer_lemeshow(y, p),
        "flag": bool(missed), "grades_outside_band": missed,
    }
