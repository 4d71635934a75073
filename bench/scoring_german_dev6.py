"""German credit, development only (issue 14, sixth pass): more blend members, measured on
*development* split seeds (default 2000-2019), never on the reporting seeds (1000-1004,
5000-5999) of ``bench/scoring_german.py``.

Same protocol as ``bench/scoring_german_dev.py``: per stratified 70/30 split, each member
variant is fitted by 5-fold cross-validation on the training rows (out-of-fold logits)
and refitted on all training rows (its test logits); the test rows are only scored. Each
(split, variant) is cached in /tmp/german6_dev, so a new variant costs only its own fits;
combinations are then scored from the cache:

    .venv/bin/python bench/scoring_german_dev6.py --seeds 2000-2019 [--jobs 2] \
        [--variants woe woe_free gbm onehot rf ...] [--combos "woe+woe_free+gbm+onehot" ...]
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from bench.scoring_german import DATA, TARGET, baselines, parse_seeds
from trellis.scoring import blend, blend_fit, boosting, training

CACHE = Path("/tmp/german6_dev")
FOLDS = 5
CURRENT = ("woe", "woe_free", "gbm", "onehot")

RF = {"boosting_type": "rf", "subsample": 0.632, "subsample_freq": 1,
      "colsample_bytree": 0.5, "num_leaves": 16, "min_child_samples": 10,
      "reg_lambda": 0.0}


def _variant(name, numeric, categorical, seed):
    """A function fitting variant *name* on (X, y) and returning a *bad* logit scorer."""
    free = {c: 0 for c in numeric}

    def member(kind):
        def f(Xa, ya):
            m = blend_fit._fit_member(kind, Xa, ya, numeric, categorical, seed, None)
            return lambda Xb: -blend.member_logodds(m, Xb)
        return f

    def gbm(params=None, monotone=None, n=boosting.N_ESTIMATORS):
        def f(Xa, ya):
            card = boosting.fit(Xa, ya, numeric, categorical, version="dev", seed=seed,
                                monotone=monotone, params=params, n_estimators=n)
            return lambda Xb: -blend.member_logodds({"kind": "gbm", "card": card}, Xb)
        return f

    def woe_nb():
        def f(Xa, ya):
            bp = training._fit_binning(Xa, ya, numeric, categorical)
            names = [str(n) for n in bp.get_support(names=True)]
            return lambda Xb: -training._woe(bp, Xb, names).sum(axis=1).to_numpy()
        return f

    def woe_int(top=6, C=0.1):
        """LR on the WoE columns plus pairwise products of the *top* by IV."""
        def f(Xa, ya):
            bp = training._fit_binning(Xa, ya, numeric, categorical)
            names = [str(n) for n in bp.get_support(names=True)]
            iv = {n: bp.get_binned_variable(n).binning_table.iv for n in names}
            best = sorted(names, key=lambda n: -iv[n])[:top]

            def design(Xb):
                W = training._woe(bp, Xb, names)
                for a, b in itertools.combinations(best, 2):
                    W[f"{a}*{b}"] = W[a] * W[b]
                return W
            Wa = design(Xa)
            mu, sd = Wa.mean(), Wa.std().replace(0, 1)
            lr = LogisticRegression(C=C, max_iter=5000).fit(((Wa - mu) / sd).to_numpy(), ya)
            return lambda Xb: lr.decision_function(((design(Xb) - mu) / sd).to_numpy())
        return f

    table = {
        "woe": member("woe"), "woe_free": member("woe_free"), "gbm": member("gbm"),
        "onehot": member("onehot"),
        "gbm_free": gbm(monotone=free),
        "rf": gbm(params=RF), "rf_free": gbm(params=RF, monotone=free),
        "xt": gbm(params={"extra_trees": True, "num_leaves": 8}, monotone=free),
        "gbm_deep": gbm(params={"num_leaves": 8, "learning_rate": 0.02}),
        "woe_nb": woe_nb(), "woe_int": woe_int(),
    }
    return table[name]


def _split(seed):
    df = pd.read_csv(DATA)
    y = training.parse_target(df[TARGET], TARGET).to_numpy()
    tr, te = train_test_split(np.arange(len(df)), test_size=0.3, stratify=y,
                              random_state=seed)
    return df, y, tr, te


def one(seed: int, variants: list[str]) -> dict:
    warnings.simplefilter("ignore")
    df, y, tr, te = _split(seed)
    train, test = df.iloc[tr], df.iloc[te]
    base = CACHE / f"{seed}_base.pkl"
    if not base.exists():
        CACHE.mkdir(exist_ok=True)
        base.write_bytes(pickle.dumps({"y_te": y[te], "y_tr": y[tr],
                                       **baselines(train, test, y[tr], y[te])}))
    out = pickle.loads(base.read_bytes())
    numeric, categorical, _ = training._columns(train, TARGET, None, ())
    Xtr = training._prepare(train, numeric, categorical)
    Xte = training._prepare(test, numeric, categorical)
    ytr = y[tr]
    for v in variants:
        path = CACHE / f"{seed}_{v}.pkl"
        if not path.exists():
            f = _variant(v, numeric, categorical, seed)
            oof = np.zeros(len(ytr))
            for a, b in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(Xtr, ytr):
                oof[b] = f(Xtr.iloc[a], ytr[a])(Xtr.iloc[b])
            path.write_bytes(pickle.dumps({"oof": oof, "test": f(Xtr, ytr)(Xte)}))
        out[v] = pickle.loads(path.read_bytes())
    out["seed"] = seed
    return out


def _z(m):
    return (m["test"] - m["oof"].mean()) / m["oof"].std()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="2000-2019")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--variants", nargs="+", default=list(CURRENT))
    p.add_argument("--combos", nargs="*", default=[],
                   help="equal-weight combinations, members joined by '+'")
    args = p.parse_args()
    seeds = parse_seeds(args.seeds)
    if any(1000 <= s < 1005 or 5000 <= s < 6000 for s in seeds):
        raise SystemExit("reporting seeds are not for development")
    combos = ["+".join(CURRENT)] + args.combos
    need = sorted({*args.variants, *(m for c in combos for m in c.split("+"))})
    with ProcessPoolExecutor(args.jobs) as ex:
        runs = list(ex.map(one, seeds, [need] * len(seeds)))
    rows = []
    for r in runs:
        y = r["y_te"]
        row = {"onehot_lr": r["onehot_lr"], "optbinning_woe_lr": r["optbinning_woe_lr"]}
        for v in need:
            row[v] = roc_auc_score(y, r[v]["test"])
        for c in combos:
            row[f"eq[{c}]"] = roc_auc_score(y, sum(_z(r[m]) for m in c.split("+")))
        rows.append(row)
    out = pd.DataFrame(rows, index=seeds)
    better = out[["onehot_lr", "optbinning_woe_lr"]].mean().idxmax()
    base = out[better].mean()
    print(f"{len(seeds)} development splits; better baseline {better} {base:.4f}")
    half = len(seeds) // 2
    for col in out.columns:
        d = out[col] - out[better]
        print(f"  {col:<44} {out[col].mean():.4f}  gain {d.mean():+.4f}  "
              f"(halves {d.iloc[:half].mean():+.4f} {d.iloc[half:].mean():+.4f}; "
              f"paired sd {d.std():.4f}, wins {int((d > 0).sum())}/{len(d)})")


if __name__ == "__main__":
    main()
