"""Benchmark: simulate and bulk-load the demo cluster on SQLite (PostgreSQL with --pg).

For each size it times ``simulate`` and ``loader.load`` into a fresh database, and beside
them the baseline: the very same rows (ids already mapped, captured from the loader run)
inserted into another fresh database with the driver's plain ``executemany`` and no
SQLAlchemy. The ratio load / baseline is what the loader's mapping, read-backs and
SQLAlchemy cost over the bare minimum.

    .venv/bin/python bench/demo_simulate.py                 # 300 and 2000 vendors, SQLite
    .venv/bin/python bench/demo_simulate.py --vendors 300 --pg
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel

from trellis import db, schema
from trellis.demo import loader
from trellis.demo.simulator import simulate

END = date(2026, 11, 30)
PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def _tables():
    schema.import_models()
    from trellis.accounts.models import User
    from trellis.trade import models as t

    return [User.__table__] + [m.__table__ for m in (
        t.Cluster, t.Firm, t.Relationship, t.PurchaseOrder, t.Delivery, t.Invoice,
        t.Payment, t.PaymentAllocation, t.CreditNote, t.LoanOutcome)]


def _fresh(kind: str, workdir: Path, name: str):
    """An engine on an empty database holding the trade tables."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / (name + '.db')}"
        engine = db.make_engine(url)
    else:
        engine = db.make_engine(PG_URL)
        schema = f"bench_demo_{name}"
        with engine.begin() as conn:
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))
            conn.execute(text(f'create schema "{schema}"'))
        engine.dispose()
        engine = db.make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    SQLModel.metadata.create_all(engine, tables=_tables())
    return engine


def _drop(kind: str, engine, name: str) -> None:
    engine.dispose()
    if kind == "postgresql":
        admin = db.make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "bench_demo_{name}" cascade'))
        admin.dispose()


def _load(engine, data) -> float:
    """Seconds for ``loader.load`` of *data* into *engine*, committed."""
    factory = db.make_sessionmaker(engine)
    t0 = time.perf_counter()
    with db.transaction(factory) as session:
        loader.load(session=session, data=data, cluster_code="bench", cluster_name="基准园区")
    return time.perf_counter() - t0


def _capture(engine, data) -> list:
    """The rows the loader inserts, per table (from an untimed run)."""
    captured = []
    original = loader._insert

    def spy(session, model, rows):
        table = model.__table__
        extra = {"created_at": "2026-11-30 00:00:00"} if "created_at" in table.c else {}
        captured.append((table, [{**r, **extra} for r in rows]))
        original(session, model, rows)

    loader._insert = spy
    try:
        _load(engine, data)
    finally:
        loader._insert = original
    return captured


def _baseline(engine, captured, cluster_row) -> float:
    """Insert the captured rows with the DB-API's executemany, one transaction."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        t0 = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
        statements = [(cluster_row[0], [cluster_row[1]])] + captured
        for table, rows in statements:
            if not rows:
                continue
            cols = list(rows[0])
            sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) "
                   f"VALUES ({', '.join([mark] * len(cols))})")
            cur.executemany(sql, [tuple(_plain(r[c]) for c in cols) for r in rows])
        raw.commit()
        return time.perf_counter() - t0
    finally:
        raw.close()


def _plain(value):
    # The loader's types do this conversion too; sqlite3 wants strings for dates.
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def run(kind: str, vendors: int, months: int, repeat: int) -> dict:
    sims = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        data = simulate(n_vendors=vendors, months=months, seed=7, end=END)
        sims.append(time.perf_counter() - t0)
    rows = sum(data.counts().values())
    loads, bases = [], []
    from trellis.trade.models import Cluster

    cluster_row = (Cluster.__table__, {"id": 1, "code": "bench", "name": "基准园区",
                                       "kind": "industrial_park", "region": "",
                                       "data_version": 1, "created_at": "2026-11-30 00:00:00"})
    with tempfile.TemporaryDirectory() as tmp:
        engine = _fresh(kind, Path(tmp), f"c{vendors}")
        captured = _capture(engine, data)
        _drop(kind, engine, f"c{vendors}")
        for i in range(repeat):
            engine = _fresh(kind, Path(tmp), f"l{vendors}_{i}")
            loads.append(_load(engine, data))
            _drop(kind, engine, f"l{vendors}_{i}")
            engine = _fresh(kind, Path(tmp), f"b{vendors}_{i}")
            bases.append(_baseline(engine, captured, cluster_row))
            _drop(kind, engine, f"b{vendors}_{i}")
    return {"vendors": vendors, "months": months, "rows": rows, "counts": data.counts(),
            "simulate": statistics.median(sims), "load": statistics.median(loads),
            "baseline": statistics.median(bases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, nargs="+", default=[300, 2000])
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    kind = "postgresql" if args.pg else "sqlite"
    print(f"database: {kind}; months: {args.months}; median of {args.repeat} runs")
    print(f"{'vendors':>7} {'rows':>8} {'simulate s':>10} {'load s':>8} "
          f"{'baseline s':>10} {'load/base':>9} {'sim+load s':>10} {'rows/s':>9}")
    for vendors in args.vendors:
        r = run(kind, vendors, args.months, args.repeat)
        total = r["simulate"] + r["load"]
        print(f"{r['vendors']:>7} {r['rows']:>8} {r['simulate']:>10.2f} {r['load']:>8.2f} "
              f"{r['baseline']:>10.2f} {r['load'] / r['baseline']:>9.2f} {total:>10.2f} "
              f"{r['rows'] / total:>9.0f}", flush=True)
        print("        rows per table:", r["counts"])


if __name__ == "__main__":
    main()
