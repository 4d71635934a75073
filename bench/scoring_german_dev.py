"""German credit, development only (issue 14, fifth pass): the blend's members and ways of
combining them measured on *development* split seeds (default 2000-2019), never on the
reporting seeds (1000-1004, 5000-5004) of ``bench/scoring_german.py``.

Per split (stratified 70/30, the same protocol as the report): each member variant is
fitted by 5-fold cross-validation on the training rows (out-of-fold logits, what the blend
combines) and refitted on all training rows (its test logits); the test rows are only
scored. The members' logits are cached, then every combination is scored from the cache:

    .venv/bin/python bench/scoring_german_dev.py --seeds 2000-2019 [--jobs 2]

Prints mean test AUC per variant and combination, and its gain over the better of the two
plain baselines (as in the report) on the same development splits.
"""

from __future__ import annotations

import argparse
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from bench.scoring_german import DATA, TARGET, baselines, parse_seeds
from trellis.scoring import blend, blend_fit, scorecard, training

CACHE = Path("/tmp/german5_dev")
FOLDS = 5


def _members(X, y, numeric, categorical, seed):
    """Variant name -> a function fitting it on (X, y) and returning a logit scorer."""
    def trellis(kind):
        def f(Xa, ya):
            m = blend_fit._fit_member(kind, Xa, ya, numeric, categorical, seed, None)
            return lambda Xb: -blend.member_logodds(m, Xb)
        return f

    def woe(**binning):
        def f(Xa, ya):
            card = training.fit(Xa, ya, numeric, categorical, version="dev", seed=seed,
                                calibrate=False, binning=binning)
            return lambda Xb: -scorecard.apply(card, Xb).logodds.to_numpy()
        return f

    def onehot(C):
        def f(Xa, ya):
            m = {"kind": "onehot", "model": blend_fit.fit_onehot(Xa, ya, numeric,
                                                                  categorical, C=C)}
            return lambda Xb: -blend.member_logodds(m, Xb)
        return f

    return {"woe": trellis("woe"), "gbm": trellis("gbm"),
            "woe_iv0": woe(min_iv=0.0),
            "woe_free": woe(trend="auto", max_bins=None, min_bin_size=None, min_iv=0.0),
            "onehot01": onehot(0.1),
            "onehot003": onehot(0.03), "onehot1": onehot(1.0)}


def one_split(seed: int) -> dict:
    path = CACHE / f"{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    warnings.simplefilter("ignore")
    df = pd.read_csv(DATA)
    y = training.parse_target(df[TARGET], TARGET).to_numpy()
    tr, te = train_test_split(np.arange(len(df)), test_size=0.3, stratify=y,
                              random_state=seed)
    train, test = df.iloc[tr], df.iloc[te]
    out = {"seed": seed, "y_te": y[te], "y_tr": y[tr],
           **baselines(train, test, y[tr], y[te])}
    numeric, categorical, _ = training._columns(train, TARGET, None, ())
    Xtr = training._prepare(train, numeric, categorical)
    Xte = training._prepare(test, numeric, categorical)
    ytr = y[tr]
    variants = _members(Xtr, ytr, numeric, categorical, seed)
    oof = {k: np.zeros(len(ytr)) for k in variants}
    bag = {k: np.zeros(len(te)) for k in variants}
    for a, b in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(Xtr, ytr):
        for k, f in variants.items():
            s = f(Xtr.iloc[a], ytr[a])
            oof[k][b] = s(Xtr.iloc[b])
            bag[k] += s(Xte) / FOLDS
    full = {k: f(Xtr, ytr)(Xte) for k, f in variants.items()}
    out.update({"oof": oof, "test": full, "bag": bag})
    CACHE.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def _z(oof, test):
    return (test - oof.mean()) / oof.std()


def combos(r: dict) -> dict:
    """Test AUC of each member and combination on one split (rank-only: calibration by
    a positive slope does not change the AUC)."""
    y = r["y_te"]
    res = {}
    for k, v in r["test"].items():
        res[k] = roc_auc_score(y, v)
        res[k + "_cvbag"] = roc_auc_score(y, r["bag"][k])
    for oh in ("onehot01", "onehot003", "onehot1"):
        for src in ("test", "bag"):
            sets = {"woe+gbm+" + oh: ("woe", "gbm", oh), "woe+" + oh: ("woe", oh),
                    "woe+gbm": ("woe", "gbm"),
                    "woe+woe_free+gbm+" + oh: ("woe", "woe_free", "gbm", oh),
                    "woe_free+gbm+" + oh: ("woe_free", "gbm", oh)}
            for name, ms in sets.items():
                z = sum(_z(r["oof"][m], r[src][m]) for m in ms)
                res[f"eq[{name}]" + ("_cvbag" if src == "bag" else "")] = roc_auc_score(y, z)
                rk = sum(rankdata(r[src][m]) for m in ms)
                res[f"rank[{name}]" + ("_cvbag" if src == "bag" else "")] = \
                    roc_auc_score(y, rk)
    # the current inner choice (blend_fit.choose) over woe, gbm, onehot01
    names = ["woe", "gbm", "onehot"]
    L = np.column_stack([r["oof"]["woe"], r["oof"]["gbm"], r["oof"]["onehot01"]])
    T = np.column_stack([r["test"]["woe"], r["test"]["gbm"], r["test"]["onehot01"]])
    sel = blend_fit.choose(L, r["y_tr"], names, seed=r["seed"])
    a, w = blend_fit._combination(sel["chosen"], L, r["y_tr"], names)
    res["choose(current)"] = roc_auc_score(y, blend_fit._combined_logit(T, names, a, w))
    a, w = blend_fit._combination("learnt", L, r["y_tr"], names)
    res["learnt"] = roc_auc_score(y, blend_fit._combined_logit(T, names, a, w))
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="2000-2019")
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args()
    seeds = parse_seeds(args.seeds)
    if {*seeds} & {*range(1000, 1005), *range(5000, 5005)}:
        raise SystemExit("reporting seeds are not for development")
    with ProcessPoolExecutor(args.jobs) as ex:
        runs = list(ex.map(one_split, seeds))
    rows = []
    for r in runs:
        rows.append({"onehot_lr": r["onehot_lr"], "optbinning_woe_lr": r["optbinning_woe_lr"],
                     **combos(r)})
    out = pd.DataFrame(rows, index=seeds)
    base = max(out["onehot_lr"].mean(), out["optbinning_woe_lr"].mean())
    better = out[["onehot_lr", "optbinning_woe_lr"]].mean().idxmax()
    print(f"{len(seeds)} development splits; better baseline {better} {base:.4f}")
    for col in out.columns:
        d = out[col] - out[better]
        print(f"  {col:<34} {out[col].mean():.4f}  gain {out[col].mean() - base:+.4f}  "
              f"(paired sd {d.std():.4f}, wins {int((d > 0).sum())}/{len(d)})")


if __name__ == "__main__":
    main()
