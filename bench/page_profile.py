"""Profile one page: CPU per request, SQL statements and their time, and a cProfile listing.

Runs in one process through the Flask test client against a seeded instance (no server,
independent of wrk and mostly of the machine's load: CPU time is what a worker spends).

    .venv/bin/python bench/page_profile.py --instance /tmp/trellis-10k \\
        --as anchor@trellis.demo /anchor/queue
    .venv/bin/python bench/page_profile.py --instance /tmp/trellis-10k \\
        --as rm@trellis.demo '/network/{cluster}' '/scoring/firms/{anchor}' --profile 25

``{cluster}`` is the first cluster's code, ``{anchor}`` the demo anchor's firm id,
``{firm}`` the demo vendor's. Prints, per page: the status, the median CPU and wall
milliseconds over ``--repeat`` requests after ``--warm`` ones, the number of SQL statements
of one request and their time, and with ``--profile N`` the N costliest functions
(cumulative) and the slowest statements.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "trellis-demo-2026"


class Statements:
    """Counts the statements an engine runs and their time (an SQLAlchemy event listener)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.rows: list[tuple[float, str]] = []
        self._start: list[float] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._start.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        t = time.perf_counter() - self._start.pop()
        if self.on:
            self.rows.append((t, statement))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--instance", required=True)
    parser.add_argument("--as", dest="email", default="rm@trellis.demo")
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest calls")
    args = parser.parse_args()
    os.environ["TRELLIS_INSTANCE_PATH"] = args.instance
    os.environ.setdefault("TRELLIS_SCHEDULER", "off")
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from trellis.platform import create_app

    app = create_app({"WTF_CSRF_ENABLED": False})
    stmts = Statements(app.extensions["trellis.engine"])
    client = app.test_client()
    r = client.post("/login", data={"email": args.email, "password": PASSWORD})
    if r.status_code not in (302, 303):
        raise SystemExit(f"login as {args.email} failed: {r.status_code}")
    with app.app_context():
        from trellis.trade.models import Cluster, Firm

        with app.extensions["trellis.sessions"]() as s:
            values = {
                "cluster": s.scalar(select(Cluster.code).order_by(Cluster.id).limit(1)),
                "anchor": s.scalar(select(Firm.id).where(Firm.name.like("%江北精工%"))),
                "firm": s.scalar(select(Firm.id).where(Firm.name.like("%信天轴承%"))),
            }
    for template in args.pages:
        path = template.format(**values)
        for _ in range(args.warm):
            client.get(path)
        cpu, wall = [], []
        for _ in range(args.repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            r = client.get(path)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        stmts.rows.clear()
        stmts.on = True
        prof = cProfile.Profile()
        prof.enable()
        r = client.get(path)
        prof.disable()
        stmts.on = False
        sql_ms = sum(t for t, _ in stmts.rows) * 1000
        print(f"{path}  [{args.email}]  status {r.status_code}  {len(r.data):,} bytes  "
              f"cpu {statistics.median(cpu):.1f} ms  wall {statistics.median(wall):.1f} ms  "
              f"(median of {args.repeat})  sql {len(stmts.rows)} statements {sql_ms:.1f} ms")
        if args.profile:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
            for t, sql in sorted(stmts.rows, reverse=True)[:8]:
                text = re.sub(r"\s+", " ", sql)[:300]
                print(f"  {t * 1000:8.2f} ms  {text}")


if __name__ == "__main__":
    main()
