"""Eleventh pass (issue 14) development: the trained cards cross-validated on the cached
outside tables (``bench/scoring_outside_table.py``) with and without the columns of
:mod:`trellis.scoring.dynamics`, or with only some of them, on the same folds:

    .venv/bin/python bench/scoring_outside_dev11.py --seeds 4801 --families woe
    .venv/bin/python bench/scoring_outside_dev11.py --seeds 4801 --families blend \
        --keep past_loans past_default_share

Development seeds only (4701/4702/4801/4802): the table bench refuses 4901 and up.
"""

from __future__ import annotations

import argparse
import time

from bench.scoring_outside_table import table
from trellis.scoring import dynamics, expert, service, training


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4801, 4802])
    p.add_argument("--families", nargs="+", default=["woe"])
    p.add_argument("--keep", nargs="*", default=None,
                   help="only these new columns (default: before = none, after = all)")
    p.add_argument("--variants", nargs="+", default=["before", "after"],
                   help="before (without the new columns), after (with all) or keep")
    args = p.parse_args()
    service.logger.setLevel("WARNING")
    new = list(dynamics.COLUMNS)
    variants = {"before": tuple(new)}
    if args.keep is None:
        variants["after"] = ()
    else:
        variants["keep"] = tuple(c for c in new if c not in args.keep)
    for seed in args.seeds:
        data = table(seed)
        for fam in args.families:
            for name, exclude in variants.items():
                if name not in args.variants and not (name == "keep" and args.keep):
                    continue
                t0 = time.perf_counter()
                cv = training.cross_validate(data, target="y", folds=5, seed=0, family=fam,
                                             exclude=exclude, monotone=expert.monotone())
                print(f"seed {seed} {fam} {name}: 5-fold CV AUC {cv['auc_mean']:.4f} "
                      f"+- {cv['auc_std']:.4f} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)


if __name__ == "__main__":
    main()
