"""Benchmark: one firm scored on demand, the cluster's part kept vs read afresh, same run.

``service.score_firm`` (not stored) for a sample of scored firms of one large cluster:

- *fresh* (the baseline, the path before issue 18): every call reads the cluster's firms,
  the trade graph's edge aggregate and relationships, builds the graph and its analytics
  (tiers, PageRank x2), reads the cluster's meter readings, and groups them again
  (``score_firm(cache=False)``);
- *kept*: the cluster's part is kept per cluster data version (``frames.load``), so a call
  reads the firm's own rows by index and a few highest-id look-ups.

The same firms, in the same order, both ways; results are compared (they must be equal).
Wall time and CPU time (this process) are reported: the machine is shared, and the CPU
figure is what a quiet machine would show.

``--before DIR`` also times the kept path of the code in DIR (a checkout of the commit
before a change, e.g. ``git worktree add /tmp/before main``) on the same firms, in a
child process run right before this one's timings, and checks that both give the same
results: the before/after figures of one run.

    .venv/bin/python bench/scoring_one_firm.py --db sqlite:////tmp/trellis-10k/trellis.db
    .venv/bin/python bench/scoring_one_firm.py --vendors 10000     # builds the cluster first

The 10,000-firm database is the demo seed at that size::

    TRELLIS_INSTANCE_PATH=/tmp/trellis-10k trellis db upgrade
    TRELLIS_INSTANCE_PATH=/tmp/trellis-10k trellis demo seed --vendors 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select

from trellis import clock, db, migrate
from trellis.scoring import frames, service
from trellis.scoring.models import ScoreRecord
from trellis.trade.models import Firm

END = date(2026, 10, 31)


def build(vendors: int) -> tuple[str, date]:
    from trellis.accounts.models import Consent
    from trellis.demo.loader import load
    from trellis.demo.simulator import simulate

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    data = simulate(n_vendors=vendors, months=12, seed=31, end=END)
    with db.transaction(factory) as s:
        load(session=s, data=data, cluster_code="bench", cluster_name="bench")
        ids = s.execute(select(Firm.id)).scalars().all()
        s.execute(insert(Consent), [{"firm_id": i, "purpose": "trade_data", "version": "bench"}
                                    for i in ids])
        service.score_portfolio(session=s, as_of=END)
    return url, END


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=None, help="database URL of a scored cluster")
    p.add_argument("--as-of", default=None, help="scoring date (default today, or the "
                   "simulation's end with --vendors)")
    p.add_argument("--vendors", type=int, default=10000, help="cluster size to build "
                   "when no --db is given")
    p.add_argument("--firms", type=int, default=20, help="firms scored each way")
    p.add_argument("--before", default=None, help="a checkout of the code before: its kept "
                   "path is timed on the same firms in a child process")
    p.add_argument("--kept-only", default=None, help=argparse.SUPPRESS)  # the child's mode
    args = p.parse_args()
    if args.kept_only:
        return _kept_only(args)
    if args.db:
        url, as_of = args.db, date.fromisoformat(args.as_of) if args.as_of else clock.today()
    else:
        url, as_of = build(args.vendors)
    before = None
    if args.before:
        before = _run_before(args.before, url, as_of, args.firms)
    factory = db.make_sessionmaker(db.make_engine(url))
    with factory() as s:
        n_firms = s.execute(select(func.count(Firm.id))).scalar()
        pick = _picked(s, args.firms)
        frames.clear_cache()
        # The first kept call reads and builds the cluster's part once (reported apart).
        t_first, c_first, _ = timed(lambda: service.score_firm(
            session=s, firm_id=pick[0], as_of=as_of, store=False))
        fresh, kept, fresh_cpu, kept_cpu = [], [], [], []
        for fid in pick:
            w, c, a = timed(lambda f=fid: service.score_firm(
                session=s, firm_id=f, as_of=as_of, store=False, cache=False))
            fresh.append(w)
            fresh_cpu.append(c)
            w, c, b = timed(lambda f=fid: service.score_firm(
                session=s, firm_id=f, as_of=as_of, store=False))
            kept.append(w)
            kept_cpu.append(c)
            if a.to_dict() | {"record_id": None} != b.to_dict() | {"record_id": None}:
                raise SystemExit(f"firm {fid}: kept and fresh results differ")
            if before is not None and before["results"][str(fid)] != _plain(b):
                raise SystemExit(f"firm {fid}: the code before gives another result")
        s.rollback()

    def ms(xs):
        return f"{statistics.median(xs) * 1000:7.0f} {max(xs) * 1000:7.0f}"

    print(f"{url}: {n_firms:,} firms, as of {as_of}; {len(pick)} scored firms, each both ways "
          "(results equal)")
    print(f"first kept call (reads and builds the cluster part): {t_first * 1000:.0f} ms wall, "
          f"{c_first * 1000:.0f} ms CPU")
    print(f"{'score_firm':34} {'median ms':>9} {'max ms':>7}   {'CPU median':>10} {'CPU max':>7}")
    print(f"{'baseline: fresh (cache=False)':34} {ms(fresh)}   {ms(fresh_cpu)}")
    if before is not None:
        print(f"{'before (' + args.before + '), kept':34} {ms(before['wall'])}   "
              f"{ms(before['cpu'])}")
    print(f"{'kept cluster part':34} {ms(kept)}   {ms(kept_cpu)}")
    if before is not None:
        print(f"before / now (median wall): "
              f"{statistics.median(before['wall']) / statistics.median(kept):.1f}x; "
              f"(median CPU): {statistics.median(before['cpu']) / statistics.median(kept_cpu):.1f}x"
              " (results equal)")
    print(f"speed-up (median wall): {statistics.median(fresh) / statistics.median(kept):.1f}x; "
          f"(median CPU): {statistics.median(fresh_cpu) / statistics.median(kept_cpu):.1f}x")


def _plain(result) -> dict:
    """A result as JSON-comparable values (what the child process reports)."""
    return json.loads(json.dumps(result.to_dict() | {"record_id": None}, default=str))


def _picked(s, n: int) -> list[int]:
    scored = sorted(set(s.execute(select(ScoreRecord.firm_id)
                                  .where(ScoreRecord.score.is_not(None))).scalars()))
    return random.Random(1).sample(scored, min(n, len(scored)))


def _run_before(tree: str, url: str, as_of: date, firms: int) -> dict:
    """Time the kept path of the code in *tree* on the same firms (a child process)."""
    out = Path(tempfile.mkdtemp()) / "before.json"
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
    subprocess.run([sys.executable, __file__, "--db", url, "--as-of", as_of.isoformat(),
                    "--firms", str(firms), "--kept-only", str(out)], env=env, check=True,
                   cwd=tree)
    return json.loads(out.read_text())


def _kept_only(args) -> None:
    """The child's part: the kept path only, first call apart; times and results to JSON."""
    import trellis

    factory = db.make_sessionmaker(db.make_engine(args.db))
    as_of = date.fromisoformat(args.as_of)
    wall, cpu, results = [], [], {}
    with factory() as s:
        pick = _picked(s, args.firms)
        frames.clear_cache()
        service.score_firm(session=s, firm_id=pick[0], as_of=as_of, store=False)
        for fid in pick:
            w, c, r = timed(lambda f=fid: service.score_firm(
                session=s, firm_id=f, as_of=as_of, store=False))
            wall.append(w)
            cpu.append(c)
            results[str(fid)] = _plain(r)
        s.rollback()
    Path(args.kept_only).write_text(json.dumps(
        {"code": str(Path(trellis.__file__).parent), "wall": wall, "cpu": cpu,
         "results": results}))


if __name__ == "__main__":
    main()
