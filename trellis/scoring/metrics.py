"""Validation metrics of a scorecard: AUC, Gini, KS, Brier, calibration table, and the
paired bootstrap of an AUC difference (champion against challenger). The population
stability index is in :mod:`.stability` (no scikit-learn: the pages compute it).

Probabilities here are model outputs, not money, so floats are fine.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def auc(y, pd_) -> float:
    """Area under the ROC curve of probabilities of default *pd_* for outcomes *y* (1 = default),
    0.5 to 1 for a useful model; NaN when *y* holds one class only."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, pd_))


def ks(y, pd_) -> float:
    """The Kolmogorov-Smirnov statistic (0 to 1): the largest gap between the true and false
    positive rates."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(pd_))
    return float(np.max(tpr - fpr))


def brier(y, pd_) -> float:
    """The Brier score: mean squared difference between *pd_* (0 to 1) and outcomes *y* (0 or 1);
    lower is better."""
    return float(np.mean((np.asarray(pd_, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def calibration_table(y, pd_, bins: int = 10) -> list[dict]:
    """Firms in deciles of predicted PD: count, mean predicted PD, observed bad rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(pd_, dtype=float)
    order = np.argsort(p, kind="stable")
    rows = []
    for chunk in np.array_split(order, min(bins, len(p))):
        if chunk.size == 0:
            continue
        rows.append({"n": int(chunk.size), "pd_from": round(float(p[chunk].min()), 6),
                     "pd_to": round(float(p[chunk].max()), 6),
                     "mean_pd": round(float(p[chunk].mean()), 6),
                     "bad_rate": round(float(y[chunk].mean()), 6),
                     "bads": int(y[chunk].sum())})
    return rows


def report(y, pd_) -> dict:
    """A validation report: count, bads, bad rate, AUC, Gini, KS, Brier score and the calibration
    table."""
    a = auc(y, pd_)
    return {"n": int(len(y)), "bads": int(np.sum(y)), "bad_rate": round(float(np.mean(y)), 6),
            "auc": round(a, 4), "gini": round(2 * a - 1, 4), "ks": round(ks(y, pd_), 4),
            "brier": round(brier(y, pd_), 5), "calibration": calibration_table(y, pd_)}


def bootstrap_auc_difference(y, pd_champion, pd_challenger, *, n_boot: int = 1000,
                             seed: int = 0, alpha: float = 0.05) -> dict:
    """Paired bootstrap of AUC(challenger) - AUC(champion) on the same rows."""
    y = np.asarray(y)
    a = np.asarray(pd_champion, dtype=float)
    b = np.asarray(pd_challenger, dtype=float)
    rng = np.random.default_rng(seed)
    diffs = []
    n = len(y)
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        if y[i].min() == y[i].max():
            continue
        diffs.append(roc_auc_score(y[i], b[i]) - roc_auc_score(y[i], a[i]))
    gains = np.asarray(diffs)
    lo, hi = np.quantile(gains, [alpha / 2, 1 - alpha / 2])
    return {"auc_champion": round(auc(y, a), 4), "auc_challenger": round(auc(y, b), 4),
            "difference": round(auc(y, b) - auc(y, a), 4), "ci_low": round(float(lo), 4),
            "ci_high": round(float(hi), 4), "n_boot": int(len(gains)), "alpha": alpha}
