"""Benchmark: bulk import (CSV -> validated rows -> database) against a plain bulk insert.

For each database (SQLite file; PostgreSQL with --pg) it imports, into a fresh database,
one CSV file per kind in the natural order (firms, relationships, invoices, payments with
one settled invoice each) through :func:`trellis.onboarding.importer.import_file`, each in
its own committed transaction, and times it. Beside it, the baseline: the very same rows
the importer wrote (captured from its run, ids already mapped) inserted into another fresh
database with the DB-API driver's plain ``executemany``, one transaction per kind (for
payments also the allocations and the invoices' ``paid_fen`` updates the importer does).
Finally the invoice file is imported a second time, unchanged (nothing is written).

    .venv/bin/python bench/network_import.py              # 2,000 firms, 10,000 rels, 100,000 rows
    .venv/bin/python bench/network_import.py --pg         # PostgreSQL too
    .venv/bin/python bench/network_import.py --full --pg  # 10,000 / 50,000 / 1,000,000
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel

from trellis import db, schema
from trellis.onboarding import importer
from trellis.trade.uscc import make

PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
TODAY = date(2026, 11, 30)
SIZES = {"small": (2_000, 10_000, 60_000, 40_000), "full": (10_000, 50_000, 600_000, 400_000)}


def _tables():
    schema.import_models()
    from trellis.accounts.models import User
    from trellis.trade import models as t

    return [User.__table__] + [m.__table__ for m in (
        t.Cluster, t.Firm, t.Relationship, t.PurchaseOrder, t.Delivery, t.Invoice,
        t.Payment, t.PaymentAllocation, t.CreditNote)]


def fresh(kind: str, workdir: Path, name: str):
    if kind == "sqlite":
        engine = db.make_engine(f"sqlite:///{workdir / (name + '.db')}")
    else:
        schema = f"bench_network_{name}"
        admin = db.make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))
            conn.execute(text(f'create schema "{schema}"'))
        admin.dispose()
        engine = db.make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    SQLModel.metadata.create_all(engine, tables=_tables())
    with engine.begin() as conn:
        conn.execute(text("insert into clusters (code, name, kind, region, data_version, "
                          "created_at) values ('bench', '基准园区', 'industrial_park', '', 0, "
                          "'2026-11-30 00:00:00')"))
    return engine


def drop(kind: str, engine, name: str) -> None:
    engine.dispose()
    if kind == "postgresql":
        admin = db.make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "bench_network_{name}" cascade'))
        admin.dispose()


def _csv(header, rows) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def generate(n_firms: int, n_rels: int, n_invoices: int, n_payments: int, seed: int = 7):
    """CSV bytes per kind for a synthetic cluster (10 anchors, the rest vendors)."""
    rng = random.Random(seed)
    usccs = [make(f"91330100MB{i:07d}") for i in range(n_firms)]
    firms = [[u, f"基准企业{i:05d}有限公司", "anchor" if i < 10 else "vendor", "manufacturing",
              f"1380000{i:04d}"[-11:]] for i, u in enumerate(usccs)]
    pairs = set()
    while len(pairs) < n_rels:
        s, b = rng.randrange(10, n_firms), rng.randrange(n_firms)
        if s != b:
            pairs.add((s, b))
    pairs = sorted(pairs)
    rels = [[usccs[s], usccs[b], "2023-01-01", "60"] for s, b in pairs]
    invoices, payments = [], []
    for n in range(n_invoices):
        s, b = pairs[rng.randrange(len(pairs))]
        issued = TODAY - timedelta(days=rng.randint(1, 360))
        fen = rng.randint(1_000_00, 500_000_00)
        number = f"INV{n:08d}"
        invoices.append([usccs[s], usccs[b], number, f"{fen // 100}.{fen % 100:02d}",
                         issued.isoformat(), (issued + timedelta(days=60)).isoformat()])
        if n < n_payments:
            payments.append([usccs[b], usccs[s], f"PAY{n:08d}", f"{fen // 100}.{fen % 100:02d}",
                             min(TODAY, issued + timedelta(days=55)).isoformat(), number])
    return [
        ("firms", _csv(["uscc", "name", "role", "industry", "phone"], firms)),
        ("relationships", _csv(["supplier_uscc", "buyer_uscc", "since", "payment_terms_days"],
                               rels)),
        ("invoices", _csv(["seller_uscc", "buyer_uscc", "number", "amount", "issue_date",
                           "due_date"], invoices)),
        ("payments", _csv(["payer_uscc", "payee_uscc", "reference", "amount", "paid_on",
                           "invoice_numbers"], payments)),
    ]


def run_import(engine, kind: str, data: bytes, captured: list | None):
    """Seconds and result of one committed import; captures the rows written."""
    original = importer._write

    def spy(plan, session, progress):
        if captured is not None:
            captured.append((kind, list(plan.inserts), list(plan.updates), dict(plan.extra)))
        original(plan, session, progress)

    importer._write = spy
    factory = db.make_sessionmaker(engine)
    try:
        gc.collect()
        t0 = time.perf_counter()
        with db.transaction(factory) as session:
            # A trusted bulk load: the row limit raised past the file (uploads keep the
            # default limit of 100,000 rows a file).
            result = importer.import_file(session=session, cluster_id=1, kind=kind, data=data,
                                          filename=f"{kind}.csv", today=TODAY,
                                          max_rows=1_000_000)
        return time.perf_counter() - t0, result
    finally:
        importer._write = original


TABLE = {"firms": "firms", "relationships": "relationships", "invoices": "invoices",
         "payments": "payments"}


def _plain(value):
    return value.isoformat(sep=" ") if hasattr(value, "tzinfo") and hasattr(value, "hour") \
        else value


def baseline(engine, kind: str, inserts: list[dict], extra: dict) -> float:
    """The same rows with the DB-API's executemany, one transaction."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        gc.collect()
        t0 = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
        cols = list(inserts[0])
        cur.executemany(f"INSERT INTO {TABLE[kind]} ({', '.join(cols)}) VALUES "
                        f"({', '.join([mark] * len(cols))})",
                        [tuple(_plain(r[c]) for c in cols) for r in inserts])
        if kind == "payments":
            # Fresh database, same order: payment ids are 1..n as in the import run.
            allocs = [(i + 1, inv, share) for i, a in enumerate(extra["allocations"])
                      for inv, share in a]
            cur.executemany(f"INSERT INTO payment_allocations (payment_id, invoice_id, "
                            f"amount_fen) VALUES ({mark}, {mark}, {mark})", allocs)
            cur.executemany(f"UPDATE invoices SET paid_fen = {mark} WHERE id = {mark}",
                            [(paid, inv) for inv, paid in extra["paid"].items()])
        raw.commit()
        return time.perf_counter() - t0
    finally:
        raw.close()


def bench(kind_db: str, files, workdir: Path) -> list[tuple]:
    imp = fresh(kind_db, workdir, "import")
    base = fresh(kind_db, workdir, "baseline")
    rows = []
    try:
        for kind, data in files:
            captured: list = []
            seconds, result = run_import(imp, kind, data, captured)
            (_, inserts, _updates, extra), = captured
            base_s = baseline(base, kind, inserts, extra)
            rows.append((kind, result.rows, seconds, base_s, len(data)))
        inv = dict(files)["invoices"]
        seconds, result = run_import(imp, "invoices", inv, None)
        assert result.created == 0 and result.unchanged == result.rows
        rows.append(("invoices again (unchanged)", result.rows, seconds, None, len(inv)))
    finally:
        drop(kind_db, imp, "import")
        drop(kind_db, base, "baseline")
    return rows


def report(name: str, rows: list[tuple]) -> None:
    print(f"\n## {name}\n")
    print("| file | rows | MB | import s | import rows/s | baseline s | baseline rows/s "
          "| import / baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total_rows = total_s = total_b = 0
    for kind, n, s, b, size in rows:
        ratio = f"{s / b:.1f}" if b else "—"
        bs = f"{b:.2f}" if b else "—"
        br = f"{n / b:,.0f}" if b else "—"
        print(f"| {kind} | {n:,} | {size / 1e6:.1f} | {s:.2f} | {n / s:,.0f} | {bs} | {br} "
              f"| {ratio} |")
        if b:
            total_rows, total_s, total_b = total_rows + n, total_s + s, total_b + b
    print(f"| **all four files** | {total_rows:,} | | {total_s:.2f} | {total_rows / total_s:,.0f} "
          f"| {total_b:.2f} | {total_rows / total_b:,.0f} | {total_s / total_b:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="10,000 firms, 50,000 relationships, 1,000,000 invoice+payment "
                             "rows")
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    size = SIZES["full" if args.full else "small"]
    t0 = time.perf_counter()
    files = generate(*size)
    print(f"generated {size[0]:,} firms, {size[1]:,} relationships, {size[2]:,} invoices, "
          f"{size[3]:,} payments in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            report("SQLite (file, WAL)", bench("sqlite", files, Path(tmp)))
        if args.pg:
            report("PostgreSQL (psycopg 3)", bench("postgresql", files, Path(tmp)))


if __name__ == "__main__":
    main()
