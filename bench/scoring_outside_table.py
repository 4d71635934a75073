"""The trained cards' table of an outside park, cached (issue 14, tenth pass): generate the
park, import it and write the feature table as of the day after the cut-off with the
cut-off loans' outcomes (``y``), exactly as ``bench/scoring_outside.py`` cross-validates
its trained cards, to /tmp/credit10_outside/table-<seed>.pkl. Then the trained cards (or
a development variant) can be cross-validated on it without the rest of that bench:

    .venv/bin/python bench/scoring_outside_table.py --seeds 4801 4802
    .venv/bin/python bench/scoring_outside_table.py --seeds 4801 --families woe blend

Only for seeds already used (4701/4702/4801/4802); 4901 and up are the lead's (4903 was
run once, in a throwaway copy of this bench, by credit12).
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from bench.scoring_outside import cutoff_loans, generate_park, import_park
from trellis import db, migrate
from trellis.scoring import expert, export, service, training

CACHE = Path("/tmp/credit10_outside")
PARKS = Path("/tmp/credit11-parks")  # the imported parks kept: features rebuilt without them
DROP = ["firm_id", "uscc", "cluster_id", "as_of", "insufficient", "scorable", "role"]


def table(seed: int, vendors: int = 400):
    """The cached table of *seed*; built from the kept imported park when there is one
    (only the features are computed again: delete the pkl after changing them), else
    generated, imported and kept under PARKS."""
    path = CACHE / f"table-{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    if seed >= 4900:
        raise SystemExit("seeds 4901 and up are reserved for the lead's final check")
    kept_db, kept_meta = PARKS / f"outside-{seed}.db", PARKS / f"outside-{seed}.json"
    if kept_db.exists() and kept_meta.exists():
        meta = json.loads(kept_meta.read_text())
        url = f"sqlite:///{kept_db}"
        factory = db.make_sessionmaker(db.make_engine(url))
        as_of = date.fromisoformat(meta["as_of"])
        with db.transaction(factory) as s:
            t = export.feature_table(session=s, as_of=as_of, cluster_id=meta["cluster_id"])
            s.rollback()
        y = pd.DataFrame({"firm_id": meta["firm_id"], "y": meta["y"]})
        t = t.merge(y, on="firm_id")
    else:
        work = Path(tempfile.mkdtemp(prefix="outside-"))
        out, truth, tf = generate_park(seed, vendors, work)
        cutoff = date.fromisoformat(truth["cutoff"])
        as_of = cutoff + timedelta(days=1)
        PARKS.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{kept_db}"
        migrate.upgrade(url)
        factory = db.make_sessionmaker(db.make_engine(url))
        with db.transaction(factory) as s:
            cid = import_park(s, out / "export", f"outside-{seed}", cutoff)
            loans = cutoff_loans(s, cid, as_of, tf).loans
            t = export.feature_table(session=s, as_of=as_of, cluster_id=cid)
            t = t.merge(loans[["firm_id", "y"]], on="firm_id")
        kept_meta.write_text(json.dumps({
            "as_of": as_of.isoformat(), "cluster_id": int(cid),
            "firm_id": [int(f) for f in loans["firm_id"]],
            "y": [int(v) for v in loans["y"]]}))
    data = t.drop(columns=[c for c in DROP if c in t])
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(data))
    return data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4801, 4802])
    p.add_argument("--families", nargs="*", default=[])
    args = p.parse_args()
    service.logger.setLevel("WARNING")
    for seed in args.seeds:
        t0 = time.perf_counter()
        data = table(seed)
        print(f"seed {seed}: {len(data)} rows, {int(data['y'].sum())} bad, "
              f"{data.shape[1] - 1} columns ({time.perf_counter() - t0:.0f} s)", flush=True)
        for fam in args.families:
            t0 = time.perf_counter()
            cv = training.cross_validate(data, target="y", folds=5, seed=0, family=fam,
                                         monotone=expert.monotone())
            print(f"  {fam}: 5-fold CV AUC {cv['auc_mean']:.4f} +- {cv['auc_std']:.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
