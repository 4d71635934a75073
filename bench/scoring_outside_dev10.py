"""Outside parks, development only (issue 14, tenth pass): blend member variants under the
very 5-fold cross-validation ``bench/scoring_outside.py`` reports (``training.
cross_validate``: folds by seed 0, the expert card's directions), on the tables cached by
``bench/scoring_outside_table.py`` (seeds 4701/4702/4801/4802 only). Per outer fold, each
variant gets out-of-fold logits on the fold's training rows (inner 5-fold, as the blend
fits) and logits on the held-out fold from a refit on all its training rows; an
equal-weight combination is the mean of the members' logits standardised by their
out-of-fold spread (what ``blend_fit`` ships). Cached in /tmp/credit10_outside/dev.

    .venv/bin/python bench/scoring_outside_dev10.py --seeds 4801 4802 \
        --variants woe woe_free gbm_xt rf onehot svm --combos "woe+woe_free+gbm_xt+rf+onehot"
"""

from __future__ import annotations

import argparse
import pickle
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold

from bench.scoring_german_dev10 import _variant
from bench.scoring_outside_table import CACHE, table
from trellis.scoring import expert, metrics, training

DEV = CACHE / "dev"
CURRENT = "woe+woe_free+gbm_xt+rf+onehot"


def fold_logits(seed: int, variant: str) -> list[dict]:
    path = DEV / f"{seed}_{variant}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    warnings.simplefilter("ignore")
    data = table(seed)
    y = training.parse_target(data["y"], "y").to_numpy()
    numeric, categorical, _ = training._columns(data, "y", None, ())
    X = training._prepare(data, numeric, categorical)
    mono = expert.monotone()
    out = []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(data, y):
        f = _variant(variant, numeric, categorical, 0, mono)
        Xtr, ytr = X.iloc[tr], y[tr]
        oof = np.zeros(len(tr))
        for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(Xtr, ytr):
            oof[b] = f(Xtr.iloc[a], ytr[a])(Xtr.iloc[b])
        out.append({"oof": oof, "test": f(Xtr, ytr)(X.iloc[te]), "y_te": y[te]})
    DEV.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4801, 4802])
    p.add_argument("--variants", nargs="+", default=CURRENT.split("+"))
    p.add_argument("--combos", nargs="*", default=[])
    args = p.parse_args()
    combos = [CURRENT] + args.combos
    for seed in args.seeds:
        if seed >= 4900:
            raise SystemExit("seeds 4901 and up are reserved for the lead's final check")
        need = sorted({*args.variants, *(m for c in combos for m in c.split("+"))})
        runs = {v: fold_logits(seed, v) for v in need}
        print(f"seed {seed} (mean of the 5 folds' AUC, as scoring_outside reports)")
        for v in need:
            a = [metrics.auc(f["y_te"], f["test"]) for f in runs[v]]
            print(f"  {v:<40} {np.mean(a):.4f} +- {np.std(a):.4f}")
        for c in combos:
            a = []
            for k in range(5):
                z = sum((runs[m][k]["test"] - runs[m][k]["oof"].mean()) / runs[m][k]["oof"].std()
                        for m in c.split("+"))
                a.append(metrics.auc(runs[c.split("+")[0]][k]["y_te"], z))
            print(f"  eq[{c}] {np.mean(a):.4f} +- {np.std(a):.4f}", flush=True)


if __name__ == "__main__":
    main()
