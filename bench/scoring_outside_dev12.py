"""Twelfth pass (issue 14) development: the trained cards cross-validated on the cached
outside tables (``bench/scoring_outside_table.py``) with and without the VAT filing
history columns of :mod:`trellis.scoring.taxhistory` (or only some of them), on the same
folds, with each column's univariate AUC where it is known:

    .venv/bin/python bench/scoring_outside_dev12.py --seeds 4801 4802 --families woe blend
    .venv/bin/python bench/scoring_outside_dev12.py --seeds 4801 --keep vat_gap_median

Development seeds only (4701/4702/4801/4802): the table bench refuses 4901 and up. The
tables are rebuilt from the kept parks when the cached pickles are deleted.
"""

from __future__ import annotations

import argparse
import time

from bench.scoring_outside_table import table
from trellis.scoring import expert, metrics, service, taxhistory, training


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4801, 4802])
    p.add_argument("--families", nargs="+", default=["woe"])
    p.add_argument("--keep", nargs="*", default=None,
                   help="only these new columns (default: before = none, after = all)")
    p.add_argument("--variants", nargs="+", default=["before", "after"])
    args = p.parse_args()
    service.logger.setLevel("WARNING")
    new = list(taxhistory.COLUMNS)
    keep = new if args.keep is None else args.keep
    variants = {"before": tuple(new), "after": tuple(c for c in new if c not in keep)}
    for seed in args.seeds:
        data = table(seed)
        for c in new:
            ok = data[c].notna()
            if ok.sum() > 20 and data.loc[ok, "y"].nunique() == 2:
                print(f"seed {seed} {c}: known for {int(ok.sum())}, univariate AUC "
                      f"{metrics.auc(data.loc[ok, 'y'], data.loc[ok, c]):.3f}", flush=True)
        for fam in args.families:
            got = {}
            for name, exclude in variants.items():
                if name not in args.variants:
                    continue
                t0 = time.perf_counter()
                cv = training.cross_validate(data, target="y", folds=5, seed=0, family=fam,
                                             exclude=exclude, monotone=expert.monotone())
                print(f"seed {seed} {fam} {name}: 5-fold CV AUC {cv['auc_mean']:.4f} "
                      f"+- {cv['auc_std']:.4f} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
                got[name] = cv["aucs"]
            if len(got) == 2:  # the same folds: the gain fold by fold
                d = [a - b for a, b in zip(got["after"], got["before"], strict=True)]
                print(f"seed {seed} {fam}: gain {sum(d) / len(d):+.4f}, fold by fold "
                      f"{' '.join(f'{x:+.3f}' for x in d)}", flush=True)


if __name__ == "__main__":
    main()
