"""Benchmark: repayment posting throughput on PostgreSQL beside pgbench's TPC-B-like run.

Both are small balanced money transfers committed one per transaction. In the same run,
on the same server, with the same number of clients (default 4) and duration (default 20 s):

- Trellis: threads each calling :func:`trellis.ledger.lifecycle.repay` on random loans of
  a book of ``--loans`` active loans, one commit each. The payments are on time, so each
  takes the hot path of :mod:`trellis.ledger.repaying`: lock the loan; look up the key,
  sum its balances from the journal and lock its shard's head in one statement; write
  the hash-chained entry, its postings, the head, the loan's figures and the repayment
  row in one more;
- pgbench ``-b tpcb-like`` (scale 1) in its own schema: UPDATE account, SELECT balance,
  UPDATE teller, UPDATE branch, INSERT history.

Prints transactions per second of each and the ratio. Every repayment entry goes through
its loan's shard head (32 shards on PostgreSQL), as every TPC-B transaction at scale 1 goes
through the single branch row. Afterwards the ledger is checked.

    .venv/bin/python bench/ledger_posting.py
    .venv/bin/python bench/ledger_posting.py --clients 8 --seconds 60
    .venv/bin/python bench/ledger_posting.py --processes   # a process per client
    .venv/bin/python bench/ledger_posting.py --shards 32    # more head rows first

With ``--processes`` each client is its own Python process (its own interpreter and
connection, as each pgbench client is): with threads the four clients share one
interpreter's lock, and the figure measures Python, not the ledger's serialisation.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ledger_accrual import D0, PG_URL, fresh_database, real_problems, seed_book  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from trellis import db  # noqa: E402
from trellis.ledger import accrual, lifecycle, posting, reports  # noqa: E402
from trellis.ledger.models import Loan  # noqa: E402


def trellis_tps(factory, clients: int, seconds: float) -> tuple[float, int]:
    with db.transaction(factory) as s:
        ids = list(s.scalars(select(Loan.id)))
    day = D0 + timedelta(days=1)
    done = [0] * clients
    stop = time.perf_counter() + seconds
    errors: list[BaseException] = []

    def worker(n: int):
        rng = random.Random(n)
        try:
            while time.perf_counter() < stop:
                loan_id = rng.choice(ids)
                with db.transaction(factory) as s:
                    lifecycle.repay(session=s, loan_id=loan_id, amount_fen=rng.randint(1, 500),
                                    paid_on=day, idempotency_key=f"b{n}-{done[n]}")
                done[n] += 1
        except BaseException as exc:
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(done) / elapsed, sum(done)


def _process_client(url: str, n: int, ids: list[int], seconds: float, out, start,
                    go, began) -> None:
    """One client in its own process (own interpreter, own connection), like pgbench's;
    once every client is connected (the barrier *start*) it posts from the moment the
    parent sets *go* until *seconds* after the time the parent stored in *began*: one
    window for every client, so a client the scheduler starts late loses that time
    instead of stretching the run."""
    engine = db.make_engine(url, pool_size=1)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:   # connect and warm the chart's cache
        s.execute(select(Loan.id).limit(1))
        from trellis.ledger.posting import account_ids

        account_ids(s)
    rng = random.Random(n)
    day = D0 + timedelta(days=1)
    done = 0
    start.wait()
    go.wait()
    stop = began.value + seconds
    try:
        while time.perf_counter() < stop:
            loan_id = rng.choice(ids)
            db.run(factory, lambda s, i=loan_id, k=f"p{n}-{done}": lifecycle.repay(
                session=s, loan_id=i, amount_fen=rng.randint(1, 500), paid_on=day,
                idempotency_key=k))
            done += 1
        out.put((n, done, None))
    except BaseException as exc:   # reported by the parent
        out.put((n, done, repr(exc)))
    finally:
        engine.dispose()


def trellis_tps_processes(url: str, factory, clients: int, seconds: float
                          ) -> tuple[float, int]:
    import multiprocessing as mp

    with db.transaction(factory) as s:
        ids = list(s.scalars(select(Loan.id)))
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = ctx.Barrier(clients + 1)
    go = ctx.Event()
    began = ctx.Value("d", 0.0)
    procs = [ctx.Process(target=_process_client,
                         args=(url, n, ids, seconds, out, start, go, began))
             for n in range(clients)]
    for p in procs:
        p.start()
    start.wait()
    started = began.value = time.perf_counter()   # CLOCK_MONOTONIC: one clock for all
    go.set()
    results = [out.get() for _ in procs]   # each client's last repayment is committed
    elapsed = time.perf_counter() - started   # not counting the interpreters' shutdown
    for p in procs:
        p.join()
    failed = [r for r in results if r[2]]
    if failed:
        raise SystemExit(f"a client failed: {failed[0][2]}")
    total = sum(r[1] for r in results)
    return total / elapsed, total


def pgbench_tps(clients: int, seconds: int) -> float:
    exe = shutil.which("pgbench")
    if exe is None:
        raise SystemExit("pgbench is not installed (Debian: postgresql-client)")
    u = urlparse(PG_URL.replace("postgresql+psycopg", "postgresql"))
    schema = f"ledger_pgbench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    env = dict(os.environ, PGOPTIONS=f"-c search_path={schema}", PGHOST=u.hostname or "",
               PGPORT=str(u.port or 5432), PGUSER=u.username or "",
               PGDATABASE=u.path.lstrip("/"))
    try:
        subprocess.run([exe, "-i", "-s", "1", "-q"], env=env, check=True,
                       capture_output=True, text=True)
        out = subprocess.run([exe, "-b", "tpcb-like", "-n", "-c", str(clients), "-j",
                              str(clients), "-T", str(seconds)], env=env, check=True,
                             capture_output=True, text=True).stdout
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if match is None:
        raise SystemExit(f"could not read pgbench's output:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loans", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--shards", type=int, default=None,
                        help="give the journal this many shards (head rows) before the run; "
                             "default: what the migrations create (32 on PostgreSQL)")
    parser.add_argument("--processes", action="store_true",
                        help="one process per client (as pgbench), not threads sharing "
                             "one interpreter")
    args = parser.parse_args()
    url, cleanup = fresh_database("postgresql")
    engine = db.make_engine(url, pool_size=args.clients + 2)
    factory = db.make_sessionmaker(engine)
    try:
        seed_book(factory, args.loans)
        with db.transaction(factory) as s:
            if args.shards is not None:
                posting.set_shard_count(s, args.shards)
            shards = posting.shard_count(s)
        with db.transaction(factory) as s:
            accrual.accrue(session=s, as_of=D0 + timedelta(days=1))
        if args.processes:
            ours, count = trellis_tps_processes(url, factory, args.clients, args.seconds)
        else:
            ours, count = trellis_tps(factory, args.clients, args.seconds)
        theirs = pgbench_tps(args.clients, args.seconds)
        with db.transaction(factory) as s:
            problems = real_problems(reports.check(session=s))
    finally:
        engine.dispose()
        cleanup()
    mode = "processes" if args.processes else "threads"
    print(f"repayment posting, PostgreSQL, {args.clients} clients ({mode}), {args.seconds} s "
          f"each, {args.loans:,} loans, {shards} shards")
    print(f"{'Trellis repay (tps)':>22} {'pgbench tpcb-like (tps)':>24} {'ratio':>7} "
          f"{'repayments':>11} {'problems':>9}")
    print(f"{ours:22.1f} {theirs:24.1f} {ours / theirs:7.3f} {count:11,} {len(problems):9}")
    for p in problems[:10]:
        print("problem:", p)


if __name__ == "__main__":
    main()
