"""Benchmark: score a whole portfolio end to end (features, graph, screens, scorecard,
storing the results) beside one pass that only reads the same rows, in the same run; and
one firm on demand.

The data: a cluster from the demo simulator (``--vendors`` vendors, ``--months`` months),
bulk-loaded into a fresh SQLite file (or ``--db URL``), with trade-data consent for every
firm. Defaults are small enough for a few minutes here; the issue's size is
``--vendors 10000 --months 12`` (10,003 firms, about 1.8 million rows over the trade
tables, about 380,000 of them invoices).

Baseline (seventh pass): **the rows the scorer reads**, exactly. One ``score_portfolio``
call (not stored, not timed) is watched at the driver (SQLAlchemy's
``before_cursor_execute``); every statement it sends that reads rows (firms, the dated and
scoped trade tables with their columns, meter and headcount readings, loan outcomes, the
live loans, consents, data bases, tax filings, the champion card, the coverage's firm
lists) is then run again as it was sent, its rows fetched by the cursor and put into a
DataFrame by ``pd.DataFrame.from_records``: the plain reading, no more, no less. Left
out, and listed: the schema reflection (PRAGMA / catalogue queries, once per process) and
the statements that compute in the database instead of reading rows (``EXISTS`` probes,
``GROUP BY`` counts): their cost is the scorer's own work, not a read.

The old baseline is printed beside it for continuity: ``SELECT *`` of every row of nine
tables (firms, relationships, orders, deliveries, invoices, payments, allocations, credit
notes, loan outcomes) with ``from_records``, nothing else. It reads every column and every
date, of every cluster, but not the meter, headcount and loan rows the scorer reads.

    .venv/bin/python bench/scoring_portfolio.py
    .venv/bin/python bench/scoring_portfolio.py --vendors 10000 --months 12

``--existing URL`` measures a cluster already in a database instead (``--cluster`` its code,
default the first; as of ``--as-of``, default today): the read-only pass, then
``score_portfolio`` (not stored), and with ``--before DIR`` the same call by the code in
DIR (a checkout of the commit before a change) in a child process, alternating, each
``--repeat`` times: before and after in one run, on the same rows, results compared.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import event, insert, select

from trellis import clock, db, migrate
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
    p.add_argument("--existing", default=None, help="URL of a database holding the cluster")
    p.add_argument("--cluster", default=None, help="with --existing: the cluster's code")
    p.add_argument("--as-of", default=None, help="with --existing: the scoring date")
    p.add_argument("--before", default=None, help="with --existing: a checkout of the code "
                   "before, timed in a child process on the same cluster")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.existing:
        return existing(args)

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

        service.champion(session=s)
        reads, left = scorer_reads(s, lambda: service.score_portfolio(
            session=s, as_of=END, cluster_id=cid, store=False))
        s.rollback()
        _read_only(s)  # warm the file cache for every measurement alike
        t_old, raw = timed(lambda: _read_only(s))
        t_read, got = timed(lambda: read_as_scorer(s, reads))
        del got
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
    print(describe(reads, left))
    print(f"{'step':42} {'seconds':>9}")
    for name, t in (("old baseline: SELECT * of nine tables", t_old),
                    ("baseline: read the rows the scorer reads", t_read),
                    ("frames.load (read, as of, scoped)", t_frames),
                    ("features.compute (incl. graph)", t_feat),
                    ("screens.run", t_screen),
                    ("scorecard.apply", t_card),
                    ("END TO END score_portfolio + store", t_e2e)):
        print(f"{name:42} {t:9.2f}")
    print(f"\nend to end / read the rows the scorer reads: {t_e2e / t_read:.2f}x "
          f"(/ old SELECT * baseline: {t_e2e / t_old:.2f}x)")
    print(f"one firm on demand (score_firm, {len(one)} firms): median "
          f"{statistics.median(one) * 1000:.0f} ms, max {max(one) * 1000:.0f} ms")
    del raw, scored, flags


# Statements that are not row reads: the schema reflection (SQLite's PRAGMAs and catalogue,
# PostgreSQL's) and those that compute in the database (existence probes, grouped counts).
_SCHEMA = re.compile(r"^\s*PRAGMA\b|sqlite_master|sqlite_temp_master|pg_catalog|"
                     r"information_schema|current_schema\(", re.I)
_COMPUTED = re.compile(r"\bEXISTS\s*\(|\bGROUP\s+BY\b", re.I)


def scorer_reads(s, score) -> tuple[list, list]:
    """Run *score()* once, watching what it sends through *s*'s engine: (the row reads as
    (statement, parameters), the statements left out as (why, statement))."""
    engine = s.connection().engine
    sent: list = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", watch)
    try:
        score()
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    reads, left = [], []
    for statement, parameters, many in sent:
        if _SCHEMA.search(statement):
            left.append(("schema reflection", statement))
        elif many or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            left.append(("not a read", statement))
        elif _COMPUTED.search(statement):
            left.append(("computed in the database", statement))
        else:
            reads.append((statement, parameters))
    return reads, left


def read_as_scorer(s, reads) -> list:
    """The honest baseline: each row read of the scorer sent again to the driver as it was
    sent, its rows fetched by the cursor into a DataFrame (``from_records``), nothing else."""
    raw = s.connection().connection.dbapi_connection
    out = []
    for statement, parameters in reads:
        cur = raw.cursor()
        cur.execute(statement, parameters)
        out.append(pd.DataFrame.from_records(cur.fetchall(),
                                             columns=[d[0] for d in cur.description]))
        cur.close()
    return out


def describe(reads, left) -> str:
    """What the baseline reads (table: statements, columns) and what it leaves out."""
    tables: dict[str, list] = {}
    for statement, _ in reads:
        top = statement
        while (inner := re.sub(r"\([^()]*\)", "", top)) != top:  # subqueries and calls out
            top = inner
        m = re.search(r"\bFROM\s+(\w+)", top, re.I)
        cols = re.split(r"\bFROM\b", top, maxsplit=1, flags=re.I)[0].count(",") + 1
        tables.setdefault(m.group(1) if m else "?", []).append(cols)
    kinds: dict[str, int] = {}
    for why, _ in left:
        kinds[why] = kinds.get(why, 0) + 1
    return (f"baseline reads {len(reads)} statements of the scorer: "
            + ", ".join(f"{t} ({'+'.join(map(str, c))} cols)" for t, c in tables.items())
            + "; left out: " + (", ".join(f"{n} {k}" for k, n in kinds.items()) or "none"))


def _read_only(s) -> dict:
    """The old baseline: SELECT * of nine tables, every row, with from_records."""
    conn = s.connection()
    out = {}
    for t in TABLES:  # the driver's rows straight into pandas, as frames.load does
        cur = conn.exec_driver_sql(f"select * from {t}").cursor
        out[t] = pd.DataFrame.from_records(cur.fetchall(),
                                           columns=[d[0] for d in cur.description])
    return out


def _score_once(url: str, code: str | None, as_of: date) -> tuple[float, float, list]:
    """score_portfolio of the cluster, not stored: (wall s, CPU s, plain results)."""
    factory = db.make_sessionmaker(db.make_engine(url))
    with factory() as s:
        q = select(Cluster.id).order_by(Cluster.id)
        cid = s.execute(q.where(Cluster.code == code) if code else q).scalars().first()
        service.champion(session=s)
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        results, _run = service.score_portfolio(session=s, as_of=as_of, cluster_id=cid,
                                                store=False)
        w, c = time.perf_counter() - w, time.process_time() - c
        s.rollback()
    plain = [json.loads(json.dumps(r.to_dict() | {"record_id": None}, default=str))
             for r in results]
    return w, c, plain


def existing(args) -> None:
    """Before / after on a cluster already in a database (see the module docstring)."""
    as_of = date.fromisoformat(args.as_of) if args.as_of else clock.today()
    if args.child:
        w, c, plain = _score_once(args.existing, args.cluster, as_of)
        Path(args.child).write_text(json.dumps({"wall": w, "cpu": c, "results": plain}))
        return
    factory = db.make_sessionmaker(db.make_engine(args.existing))
    with factory() as s:
        q = select(Cluster.id).order_by(Cluster.id)
        cid = s.execute(q.where(Cluster.code == args.cluster) if args.cluster
                        else q).scalars().first()
        service.champion(session=s)
        scorer, left = scorer_reads(s, lambda: service.score_portfolio(
            session=s, as_of=as_of, cluster_id=cid, store=False))
        s.rollback()
        raw = _read_only(s)  # warm the file cache for every measurement alike
        rows = sum(len(v) for k, v in raw.items() if k != "firms")
        rows_scorer = sum(len(f) for f in read_as_scorer(s, scorer))
        del raw
    times: dict[str, list] = {k: [] for k in ("old", "read", "before", "now")}

    def clocked(key, fn):
        gc.collect()  # outside both clocks, as for score_portfolio (_score_once)
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        times[key].append((time.perf_counter() - w, time.process_time() - c))
        return out

    for _ in range(args.repeat):  # alternating, so that the machine's load falls alike
        with factory() as s:
            s.connection()
            clocked("old", lambda: _read_only(s))
            clocked("read", lambda: read_as_scorer(s, scorer))
        if args.before:
            out = Path(tempfile.mkdtemp()) / "before.json"
            cmd = [sys.executable, __file__, "--existing", args.existing, "--as-of",
                   as_of.isoformat(), "--child", str(out)]
            if args.cluster:
                cmd += ["--cluster", args.cluster]
            subprocess.run(cmd, check=True, cwd=args.before,
                           env=dict(os.environ, PYTHONPATH=str(Path(args.before).resolve())))
            got = json.loads(out.read_text())
            times["before"].append((got["wall"], got["cpu"]))
        w, c, plain = _score_once(args.existing, args.cluster, as_of)
        times["now"].append((w, c))
        if args.before and got["results"] != plain:
            raise SystemExit("the code before gives other results")
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for k, v in times.items() if v}
    print(f"{args.existing}: {len(plain):,} firms, {rows:,} trade rows in the nine tables, "
          f"{rows_scorer:,} rows read by the scorer, as of {as_of}; median of {args.repeat}"
          + (" (results equal before and after)" if args.before else ""))
    print(describe(scorer, left))
    read, rcpu = med["read"]
    old, ocpu = med["old"]
    print(f"{'step':44} {'wall s':>8} {'CPU s':>8} {'/ read, wall':>13} {'/ read, CPU':>12}"
          f" {'/ old, CPU':>11}")
    print(f"{'old baseline: SELECT * of nine tables':44} {old:8.2f} {ocpu:8.2f}")
    print(f"{'baseline: read the rows the scorer reads':44} {read:8.2f} {rcpu:8.2f}")
    for key, name in (("before", f"score_portfolio, before ({args.before})"),
                      ("now", "score_portfolio, now")):
        if key in med:
            w, c = med[key]
            print(f"{name:44} {w:8.2f} {c:8.2f} {w / read:12.2f}x {c / rcpu:11.2f}x"
                  f" {c / ocpu:10.2f}x")

if __name__ == "__main__":
    main()
