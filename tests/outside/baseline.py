"""A plain baseline on a generated park, from the export files only (never the truth).

    python -m tests.outside.baseline DIR

Features per vendor as of the cut-off, from ``DIR/export``: sales trend (last 3 months
against the 6 before), sales against the firm's own previous 21 months, sales to the
largest buyer as a share, power and headcount trends, sales per kWh against the sector
median (the sector is taken from 所属行业); missing values imputed with the mean plus a
missing flag. A ridge logistic regression under 5-fold cross-validation.  It prints each
feature's AUC and the cross-validated AUC, beside the ceiling (the AUC of the hidden true
PD from the truth), so a platform's figure on the same seed can be put between the two.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np


def auc(score: np.ndarray, y: np.ndarray) -> float:
    keep = ~np.isnan(score)
    score, y = score[keep], y[keep]
    ranks = np.argsort(np.argsort(score, kind="stable")) + 1.0
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _rows(directory: Path, spec: dict) -> list[dict]:
    text = (directory / spec["path"]).read_bytes().decode(spec["encoding"])
    return list(csv.DictReader(io.StringIO(text, newline="")))


def features(directory: Path, truth: dict) -> tuple[list[str], np.ndarray, list[str]]:
    """Feature matrix of the firms that took a loan at the cut-off (rows in truth order)."""
    cutoff = date.fromisoformat(truth["cutoff"])
    files = truth["files"]

    def back(text: str) -> int:  # whole months before the cut-off month
        return (cutoff.year - int(text[:4])) * 12 + cutoff.month - int(text[5:7])

    firms = {r["统一社会信用代码"]: r for r in _rows(directory, files["firms.csv"])}
    sales = defaultdict(lambda: np.zeros(24))
    buyers = defaultdict(lambda: defaultdict(float))
    for r in _rows(directory, files["invoices.csv"]):
        k = back(r["开票日期"])
        if 0 <= k < 24:
            sales[r["销方税号"]][k] += float(r["价税合计(元)"])
            if k < 12:
                buyers[r["销方税号"]][r["购方税号"]] += float(r["价税合计(元)"])
    power = defaultdict(lambda: np.full(24, np.nan))
    for r in _rows(directory, files["electricity.csv"]):
        k = back(r["抄表日期"])
        if 0 <= k < 24:
            power[r["统一社会信用代码"]][k] = float(r["用电量(千瓦时)"])
    heads = defaultdict(lambda: np.full(24, np.nan))
    for r in _rows(directory, files["social_insurance.csv"]):
        k = back(r["month"])
        if 0 <= k < 24:
            heads[r["uscc"]][k] = float(r["insured_headcount"])

    def ratio(a: float, b: float) -> float:
        return float(np.log((a + 1) / (b + 1))) if np.isfinite(a) and np.isfinite(b) else np.nan

    def mean(x: np.ndarray) -> float:
        return float(np.nanmean(x)) if np.isfinite(x).any() else np.nan

    codes = [f["uscc"] for f in truth["firms"] if f["cutoff_loan"]]
    names = ["sales_trend", "sales_vs_own", "top_buyer_share", "power_trend", "heads_trend",
             "sales_per_kwh"]
    x = np.full((len(codes), len(names)), np.nan)
    for i, code in enumerate(codes):
        s = sales[code]
        x[i, 0] = ratio(s[0:3].mean(), s[3:9].mean())
        x[i, 1] = ratio(s[0:3].mean(), s[3:24].mean())
        if buyers[code]:
            x[i, 2] = max(buyers[code].values()) / sum(buyers[code].values())
        if code in power:
            x[i, 3] = ratio(mean(power[code][0:3]), mean(power[code][3:9]))
            x[i, 5] = ratio(s[0:6].sum(), float(np.nansum(power[code][0:6])))
        if code in heads:
            x[i, 4] = ratio(mean(heads[code][0:3]), mean(heads[code][6:12]))
    sector = np.array([firms[c]["所属行业"] for c in codes])
    for label in sorted(set(sector)):
        rows = (sector == label) & np.isfinite(x[:, 5])
        if rows.any():
            x[rows, 5] -= np.median(x[rows, 5])
    return names, x, codes


def cross_validated_auc(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> list:
    filled = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    design = np.column_stack([filled, np.isnan(x).astype(float)])
    design = (design - design.mean(0)) / (design.std(0) + 1e-9)
    design = np.column_stack([np.ones(len(design)), design])
    order = np.random.default_rng(seed).permutation(len(y))
    out = []
    for part in np.array_split(order, folds):
        train = np.setdiff1d(order, part)
        w = np.zeros(design.shape[1])
        for _ in range(800):  # gradient descent on the ridge-penalised log-loss
            p = 1 / (1 + np.exp(-design[train] @ w))
            w -= 0.2 * (design[train].T @ (p - y[train]) / len(train) + 0.01 * w)
        out.append(auc(design[part] @ w, y[part]))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.outside.baseline",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="what park_export --out wrote")
    a = parser.parse_args(argv)
    truth = json.loads((a.directory / "truth.json").read_text(encoding="utf-8"))
    names, x, _codes = features(a.directory, truth)
    rows = [f for f in truth["firms"] if f["cutoff_loan"]]
    y = np.array([f["defaulted"] for f in rows], dtype=float)
    print(f"{len(y)} loans at {truth['cutoff']}, {y.mean():.1%} defaulted")
    for j, name in enumerate(names):
        # sign chosen so that a shrinking trace (or a concentrated one) means risk
        sign = 1.0 if name == "top_buyer_share" else -1.0
        print(f"  {name:16s} AUC {auc(sign * x[:, j], y):.3f}  "
              f"({int(np.isfinite(x[:, j]).sum())} firms)")
    scores = cross_validated_auc(x, y)
    print(f"plain logistic, 5-fold CV AUC {np.mean(scores):.3f} +- {np.std(scores):.3f}")
    print(f"ceiling (hidden true PD) AUC {auc(np.array([f['pd_true'] for f in rows]), y):.3f}")


if __name__ == "__main__":
    main()
