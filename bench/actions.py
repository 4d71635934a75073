"""Benchmark: the POSTs a person waits on, timed through the application (Flask test client).

Reader 12 found these slow on a loaded machine (2.5-4 s): an anchor confirming invoices in
its queue, the relationship manager approving an application, the vendor accepting the
offer, and uploading an import (the vendor's invoice upload and the relationship manager's
bulk import of a small file, both imported during the request). This script copies a
seeded instance (the copy is changed, the instance is not), logs each role in once, and
times each action ``--repeat`` times on fresh documents: wall and CPU (process time) per
request, medians printed, with the SQL statements of each request.

    .venv/bin/python bench/actions.py --instance /tmp/trellis-demo --repeat 7
    .venv/bin/python bench/actions.py --instance /tmp/trellis-demo --before /tmp/base --rounds 2

``--before DIR``: the same on a checkout of the code before (``git archive main | tar -x -C
DIR``), each round before then after, each on its own fresh copy; medians per side.
``--profile ACTION`` prints a cProfile of that action's requests (cumulative, top 40).
"""

# ruff: noqa: B023 (each action's lambda is called at once, inside its own loop pass)
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trellis import clock

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "trellis-demo-2026"
VENDOR, ANCHOR, RM = "vendor@trellis.demo", "anchor@trellis.demo", "rm@trellis.demo"
ACTIONS = ("vendor upload 20", "confirm 1", "confirm 10", "apply", "approve", "accept",
           "rm import 20")


class Timer:
    """Wall and CPU time of each request, and its SQL statements."""

    def __init__(self, engine, profile: bool):
        from sqlalchemy import event

        self.statements = 0
        self.profile = cProfile.Profile() if profile else None
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.statements += 1

    def __call__(self, fn):
        self.statements = 0
        w, c = time.perf_counter(), time.process_time()
        if self.profile:
            self.profile.enable()
        r = fn()
        if self.profile:
            self.profile.disable()
        return r, time.perf_counter() - w, time.process_time() - c, self.statements


def _login(app, email: str):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    if r.status_code not in (302, 303):
        raise SystemExit(f"login as {email} failed: {r.status_code}")
    return client


class Http:
    """A served instance's pages as the test client's calls (``--url``): a logged-in
    session posting its form token, redirects not followed."""

    class Answer:
        def __init__(self, r):
            self.r, self.status_code = r, r.status_code
            self.location = r.headers.get("Location")

        def get_data(self, as_text: bool = True) -> str:
            return self.r.text

    def __init__(self, base: str, email: str):
        import requests

        self.base, self.s = base, requests.Session()
        page = self.s.get(base + "/login").text
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = self.post("/login", data={"email": email, "password": PASSWORD})
        if r.status_code not in (302, 303):
            raise SystemExit(f"login as {email} failed: {r.status_code}")
        page = self.s.get(base + "/login").text   # a token of the logged-in session
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if found:
            self.token = found.group(1)

    def get(self, path: str):
        return self.Answer(self.s.get(self.base + path, allow_redirects=False))

    def post(self, path: str, data: dict, content_type: str | None = None):
        files = {k: v for k, v in data.items() if isinstance(v, tuple)}
        form = {k: v for k, v in data.items() if k not in files}
        return self.Answer(self.s.post(
            self.base + path, data={**form, "csrf_token": self.token},
            files={k: (v[1], v[0]) for k, v in files.items()} or None,
            headers={"X-CSRFToken": self.token}, allow_redirects=False))


def _client_of(fn):
    """The client a timed lambda posts with (the first in its closure)."""
    from flask.testing import FlaskClient

    cells = [c.cell_contents for c in fn.__closure__ or ()]
    return next(c for c in cells if isinstance(c, (FlaskClient, Http)))


def _expect(r, codes: tuple[int, ...], what: str) -> None:
    if r.status_code not in codes:
        flashes = re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', r.get_data(as_text=True), re.S)
        raise SystemExit(f"{what}: {r.status_code} {r.location or ''} {flashes[:3]}")


def run(instance: str, repeat: int, profile: str | None) -> dict:
    """Every action *repeat* times on a fresh copy of *instance*; the figures."""
    tmp = tempfile.mkdtemp(prefix="actions-")
    try:
        copy = str(Path(tmp, "instance"))
        shutil.copytree(instance, copy)
        return _run(copy, repeat, profile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(instance: str, repeat: int, profile: str | None, url: str | None = None) -> dict:
    os.environ.update(TRELLIS_INSTANCE_PATH=instance, TRELLIS_SCHEDULER="off")
    if not url:
        os.environ["TRELLIS_TASKS_URL"] = "sqlite:///" + str(Path(instance, "tasks.db"))
    from datetime import timedelta

    from sqlmodel import col, select

    from trellis.accounts.models import User
    from trellis.platform import create_app
    from trellis.trade.models import Cluster, Firm, Invoice

    app = create_app({"WTF_CSRF_ENABLED": False})
    sessions = app.extensions["trellis.sessions"]
    with app.app_context(), sessions() as s:
        engine = s.get_bind()
        vendor_id = s.scalar(select(User.firm_id).where(User.email == VENDOR))
        anchors = select(Firm.id).where(Firm.role == "anchor")
        vendor_uscc = s.get(Firm, vendor_id).uscc
        buyer = s.scalar(select(Invoice.buyer_id).where(Invoice.seller_id == vendor_id,
                                                        col(Invoice.buyer_id).in_(anchors)))
        buyer_uscc = s.get(Firm, buyer).uscc
        cluster = s.scalar(select(Firm.cluster_id).where(Firm.id == vendor_id))
        code = s.get(Cluster, cluster).code
    timer = Timer(engine, profile is not None)
    clients = {e: Http(url, e) if url else _login(app, e) for e in (VENDOR, ANCHOR, RM)}
    times: dict[str, list[tuple[float, float, int]]] = {
        k: [] for a in ACTIONS for k in (a, a + " page")}

    def timed(action: str, fn, codes: tuple[int, ...]):
        if profile and action != profile and timer.profile:
            timer.profile.disable()
        on = timer.profile if action == profile else None
        saved, timer.profile = timer.profile, on
        r, wall, cpu, n = timer(fn)
        timer.profile = saved
        _expect(r, codes, action)
        times[action].append((wall, cpu, n))
        # and the page it sends the person to, which they wait for as well
        client = _client_of(fn)
        page, wall, cpu, n = timer(lambda: client.get(r.location))
        _expect(page, (200,), action + " page")
        times[action + " page"].append((wall, cpu, n))
        return r

    anchor, vendor, rm = clients[ANCHOR], clients[VENDOR], clients[RM]
    today, tag = clock.today(), f"{os.getpid() % 1000:03d}"
    for i in range(repeat):
        # the vendor's own invoices to the anchor: uploaded, confirmed, then financed
        numbers = [f"B{i:02d}{n:05d}{tag}" for n in range(20)]
        # amounts differ from run to run: equal ones would be near-duplicates
        base = 150_000 + 37 * i + os.getpid() % 97
        rows = "\n".join(f"{buyer_uscc},{number},{base + 1000 * n}.00,"
                         f"{today - timedelta(days=3)},{today + timedelta(days=60)},"
                         for n, number in enumerate(numbers))
        csv = ("买方统一社会信用代码,发票号码,金额,开票日期,到期日,订单号\n" + rows + "\n").encode()
        timed("vendor upload 20", lambda: vendor.post("/vendor/trade/upload", data={
            "kind": "invoices", "file": (io.BytesIO(csv), "invoices.csv")},
            content_type="multipart/form-data"), (303,))
        with app.app_context(), sessions() as s:
            ids = s.scalars(select(Invoice.id).where(Invoice.seller_id == vendor_id,
                                                     col(Invoice.number).in_(numbers))
                            .order_by(col(Invoice.id))).all()
        data = {"decision": "confirm", "checked": "y"}
        timed("confirm 1", lambda: anchor.post(
            "/anchor/queue?kind=invoices", data={**data, "ids": [str(ids[0])],
                                                 "ack": [str(ids[0])]}), (303,))
        timed("confirm 10", lambda: anchor.post(
            "/anchor/queue?kind=invoices", data={**data, "ids": [str(x) for x in ids[1:11]],
                                                 "ack": [str(x) for x in ids[1:11]]}), (303,))
        r = timed("apply", lambda: vendor.post("/vendor/apply", data={
            "product": "RF-STD", "doc_ids": [str(ids[0])], "amount": ""}), (303,))
        application = r.location
        application_id = int(re.search(r"/applications/(\d+)", application).group(1))
        timed("approve", lambda: rm.post(f"/ledger/applications/{application_id}/decide",
                                         data={"decision": "approve",
                                               "reasons": "基准测试：贸易记录良好"}), (302,))
        timed("accept", lambda: vendor.post(application + "/accept", data={"read": "y"}),
              (303,))
        rows = "\n".join(
            f"{vendor_uscc},{buyer_uscc},R{i:02d}{n:05d}{tag},"
            f"{2000 + n}.00,{today - timedelta(days=3)},{today + timedelta(days=60)},,pending"
            for n in range(20))
        csv = ("seller_uscc,buyer_uscc,number,amount,issue_date,due_date,order_number,status\n"
               + rows + "\n").encode()
        timed("rm import 20", lambda: rm.post(f"/network/{code}/import", data={
            "kind": "invoices", "source": "bench", "file": (io.BytesIO(csv), "inv.csv")},
            content_type="multipart/form-data"), (303,))
    if timer.profile:
        out = io.StringIO()
        pstats.Stats(timer.profile, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue(), file=sys.stderr)
    return {a: {"wall": statistics.median(t[0] for t in v),
                "cpu": statistics.median(t[1] for t in v),
                "sql": statistics.median(t[2] for t in v)} for a, v in times.items()}


def _side(tree: str, instance: str, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--instance", instance,
                          "--repeat", str(repeat), "--json"], env=env, cwd=tree,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", required=True, help="a seeded instance (copied)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", help="a checkout of the code before, run beside")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", choices=ACTIONS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--url", help="time a server serving --instance (changed: use a "
                                      "copy); wall time only, the CPU column is this client's")
    args = parser.parse_args()
    if not args.before:
        figures = (_run(args.instance, args.repeat, None, args.url) if args.url
                   else run(args.instance, args.repeat, args.profile))
        if args.json:
            print(json.dumps(figures))
            return
        print(f"{'action':23} {'wall ms':>8} {'CPU ms':>8} {'SQL':>5}   (median of {args.repeat})")
        for a, f in figures.items():
            print(f"{a:23} {f['wall'] * 1000:8.1f} {f['cpu'] * 1000:8.1f} {f['sql']:5.0f}")
        return
    sides: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        sides["before"].append(_side(str(Path(args.before).resolve()), args.instance,
                                     args.repeat))
        sides["after"].append(_side(str(ROOT), args.instance, args.repeat))
    print(f"median of {args.repeat} requests x {args.rounds} round(s); before: {args.before}")
    print(f"{'action':23} {'before wall':>11} {'CPU':>7} {'SQL':>5} {'after wall':>11} "
          f"{'CPU':>7} {'SQL':>5} {'CPU after/before':>17}")
    for a in [k for x in ACTIONS for k in (x, x + " page")]:
        b = {k: statistics.median(r[a][k] for r in sides["before"]) for k in ("wall", "cpu", "sql")}
        f = {k: statistics.median(r[a][k] for r in sides["after"]) for k in ("wall", "cpu", "sql")}
        print(f"{a:23} {b['wall'] * 1000:11.1f} {b['cpu'] * 1000:7.1f} {b['sql']:5.0f} "
              f"{f['wall'] * 1000:11.1f} {f['cpu'] * 1000:7.1f} {f['sql']:5.0f} "
              f"{f['cpu'] / b['cpu']:17.2f}")


if __name__ == "__main__":
    main()
