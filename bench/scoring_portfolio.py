"""Benchmark: score a whole portfolio end to end (features, graph, screens, scorecard,
storing the results) beside one pass that only reads the same rows, in the same run; and
one firm on demand.

The data: a cluster from the demo simulator (``--vendors`` vendors, ``--months`` months),
bulk-loaded into a fresh SQLite file (or ``--db URL``), with trade-data consent for every
firm. Defaults are small enough for a few minutes here; the issue's size is
``--vendors 10000 --months 12`` (10,003 firms, about 1.8 million rows over the trade
tables, about 380,000 of them invoices).

Baseline: ``SELECT *`` of every row of the tables the scorer reads (firms, relationships,
orders, deliveries, invoices, payments, allocations, credit notes, loan outcomes), the
driver's rows put straight into pandas DataFrames, nothing else.

    .venv/bin/python bench/scoring_portfolio.py
    .venv/bin/python bench/scoring_portfolio.py --vendors 10000 --months 12
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select

from trellis import db, migrate
from trellis.accounts.models import Consent
from trellis.demo.loader import load
from trellis.demo.simulator import simulate
from trellis.scoring import features, frames, scorecard, screens, service
from trellis.trade.models import Cluster, Firm

END = date(2026, 10, 31)
TABLES = ("firms", "relationships", "purchase_orders", "deliveries", "invoices", "payments",
          "payment_allocations", "credit_notes", "loan_outcomes")


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vendors", type=int, default=2000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--seed", type=int, default=31)
    p.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    p.add_argument("--on-demand", type=int, default=20, help="firms scored one by one")
    args = p.parse_args()

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    t_sim, data = timed(lambda: simulate(n_vendors=args.vendors, months=args.months,
                                         seed=args.seed, end=END))
    with db.transaction(factory) as s:
        t_load, counts = timed(lambda: load(session=s, data=data, cluster_code="bench",
                                            cluster_name="bench"))
        ids = s.execute(select(Firm.id)).scalars().all()
        s.execute(insert(Consent), [{"firm_id": i, "purpose": "trade_data", "version": "bench"}
                                    for i in ids])
    rows = sum(v for k, v in counts.items() if k in TABLES and k != "firms")
    print(f"simulated {args.vendors} vendors x {args.months} months in {t_sim:.1f}s; "
          f"loaded in {t_load:.1f}s")
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; trade rows {rows:,}")

    with factory() as s:
        cid = s.execute(select(Cluster.id)).scalar_one()

        def read_only():
            conn = s.connection()
            out = {}
            for t in TABLES:  # the driver's rows straight into pandas, as frames.load does
                cur = conn.exec_driver_sql(f"select * from {t}").cursor
                out[t] = pd.DataFrame.from_records(cur.fetchall(),
                                                   columns=[d[0] for d in cur.description])
            return out

        read_only()  # warm the file cache for both measurements alike
        t_read, raw = timed(read_only)
        t_frames, fr = timed(lambda: frames.load(session=s, as_of=END, cluster_id=cid))
        t_feat, X = timed(lambda: features.compute(fr))
        t_screen, flags = timed(lambda: screens.run(fr, X))
        spec = service.champion(session=s).spec
        t_card, scored = timed(lambda: scorecard.apply(spec, X))
        s.rollback()
        t_e2e, (results, run) = timed(lambda: service.score_portfolio(
            session=s, as_of=END, cluster_id=cid, store=True))
        s.rollback()

        vendors = [r.firm_id for r in results if r.score is not None]
        pick = random.Random(1).sample(vendors, min(args.on_demand, len(vendors)))
        one = []
        for fid in pick:
            t, _ = timed(lambda f=fid: service.score_firm(session=s, firm_id=f, as_of=END,
                                                          store=False))
            one.append(t)
        s.rollback()

    n = len(results)
    print(f"\n{n:,} firms scored ({sum(r.score is not None for r in results):,} with a score, "
          f"{sum(r.insufficient for r in results):,} insufficient, "
          f"{sum(bool(r.flags) for r in results):,} flagged)")
    print(f"{'step':38} {'seconds':>9}")
    for name, t in (("baseline: read the same rows only", t_read),
                    ("frames.load (read, as of, scoped)", t_frames),
                    ("features.compute (incl. graph)", t_feat),
                    ("screens.run", t_screen),
                    ("scorecard.apply", t_card),
                    ("END TO END score_portfolio + store", t_e2e)):
        print(f"{name:38} {t:9.2f}")
    print(f"\nend to end / read-only baseline: {t_e2e / t_read:.2f}x")
    print(f"one firm on demand (score_firm, {len(one)} firms): median "
          f"{statistics.median(one) * 1000:.0f} ms, max {max(one) * 1000:.0f} ms")
    del raw, scored, flags


if __name__ == "__main__":
    main()
