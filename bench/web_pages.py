"""Benchmark: pages a person opens, requests per second, beside bare Flask in the same run.

Serves the demo instance with gunicorn (``-w 2``, sync workers, as production) and a bare
Flask "hello world" with the same gunicorn settings, logs each role in once, then drives
every page with ``wrk`` (16 connections, 2 threads) and prints requests/s and the ratio to
bare Flask. Non-2xx answers are counted and reported: a page that fails is not fast.

    make seed                                   # or: trellis db upgrade && trellis demo seed
    .venv/bin/python bench/web_pages.py         # uses $TRELLIS_INSTANCE_PATH (./instance)
    .venv/bin/python bench/web_pages.py --seconds 10 --pages /login,/vendor/

The 10,000-firm cluster (the demo seed at issue 18's size, about 2.6 million trade rows;
some ten minutes to build):

    export TRELLIS_INSTANCE_PATH=/tmp/trellis-10k
    trellis db upgrade && trellis demo seed --vendors 10000
    .venv/bin/python bench/web_pages.py --instance /tmp/trellis-10k

Before and after a change, in the same run (the machine is shared and its load moves from
minute to minute): ``--before DIR`` serves a second checkout (``git worktree add --detach
/tmp/before main``) on the same instance; each page is measured on the checkout before,
then on this one, right after a fresh bare-Flask figure, ``--rounds`` times alternating,
and the medians are printed with each side's ratio to its own bare figure:

    .venv/bin/python bench/web_pages.py --before /tmp/before --rounds 3 \
        --pages /ledger/,/anchor/queue

The demo seed gives the demo vendor no loan and anchors nothing, so four pages (the vendor's
loan and its statement, an anchored batch and a document) have nothing to show and are
reported "(no such page)"; ``--prepare DIR`` copies the instance to DIR and makes them
there through the platform (``bench/prepare_pages.py``: the vendor applies and accepts, the
pay-out and anchoring commands run; some three minutes on the demo), then measures on DIR:

    .venv/bin/python bench/web_pages.py --instance /tmp/trellis-demo --prepare /tmp/pages-demo

Needs ``wrk`` (Debian package ``wrk``) and a seeded instance.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
UA = "trellis-bench/1.0"
PASSWORD = "trellis-demo-2026"

HELLO = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def hello():
    return "Hello, World!"
"""

# (role e-mail or None for anonymous, path): the main pages a person opens in each role.
# {cluster}, {firm}, {loan}, {batch} and {doc} are filled in from the pages (see fill).
V, A, R, U, D = ("vendor@trellis.demo", "anchor@trellis.demo", "rm@trellis.demo",
                 "auditor@trellis.demo", "admin@trellis.demo")
PAGES = [
    (None, "/healthz"),
    (None, "/login"),
    (V, "/vendor/"),
    (V, "/vendor/trade"),
    (V, "/vendor/loans"),
    (V, "/vendor/applications"),
    (V, "/vendor/messages"),
    (V, "/vendor/vouchers"),
    (V, "/vendor/profile"),
    (V, "/ledger/my"),
    (V, "/vendor/loans/{loan}"),
    (V, "/ledger/loans/{loan}/statement"),
    (A, "/anchor/"),
    (A, "/anchor/queue"),
    (A, "/anchor/payables"),
    (A, "/anchor/vouchers"),
    (A, "/anchor/early-warning"),
    (A, "/anchor/network"),
    (R, "/network/"),
    (R, "/network/{cluster}"),
    (R, "/network/registrations"),
    (R, "/scoring/"),
    (R, "/scoring/firms/{firm}"),
    (R, "/ledger/"),
    (R, "/ledger/applications"),
    (R, "/assistant/inbox"),
    (U, "/ledger/trial-balance"),
    (U, "/chain/"),
    (U, "/chain/batches/{batch}"),
    (U, "/chain/documents/{doc}"),
    (U, "/chain/audit"),
    (D, "/admin/users"),
    (D, "/admin/jobs"),
    (D, "/admin/audit"),
    (D, "/admin/clusters"),
]

# Where each filler is found: (whose page, which page, the link's pattern).
FILLERS = {
    "firm": (R, "/scoring/", r'href="/scoring/firms/(\d+)"'),
    "loan": (V, "/vendor/loans", r'href="/vendor/loans/(\d+)"'),
    "batch": (U, "/chain/", r'href="/chain/batches/(\d+)"'),
    "doc": (U, "/chain/batches/{batch}", r'href="/chain/documents/(\d+)"'),
}


# /network/<word> pages that are not a cluster's.
NETWORK_PAGES = {"registrations", "clusters", "firms", "imports", "templates"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start")


def gunicorn(app: str, port: int, cwd: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        cwd=cwd, env=env, start_new_session=True)


def login(base: str, email: str) -> str:
    """Log *email* in; return the Cookie header wrk should send."""
    s = requests.Session()
    s.headers["User-Agent"] = UA
    page = s.get(base + "/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    r = s.post(base + "/login", data=data, allow_redirects=False)
    if r.status_code not in (302, 303):
        raise SystemExit(f"login as {email} failed: {r.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def warm(url: str, cookie: str | None, n: int = 6) -> None:
    """A few requests at once before measuring, so each worker has read what it keeps
    (on a large cluster the first firm page of a worker reads the cluster's part)."""
    from concurrent.futures import ThreadPoolExecutor

    headers = {"User-Agent": UA, **({"Cookie": cookie} if cookie else {})}
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda _: requests.get(url, headers=headers, timeout=900), range(n)))


def wrk(url: str, seconds: int, cookie: str | None) -> tuple[float, int]:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {UA}", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def fill(path: str, base: str, cookies: dict) -> str | None:
    """Fill {cluster} and the ids of FILLERS from the role's own pages (the first link)."""
    if "{" not in path:
        return path
    values: dict[str, str | None] = {}

    def page(email: str, where: str) -> str:
        s = requests.Session()
        s.headers.update({"User-Agent": UA, "Cookie": cookies[email]})
        return s.get(base + where).text

    if "{cluster}" in path:
        # A cluster's page is /network/<code>; the index also links fixed pages.
        codes = re.findall(r'href="/network/([A-Za-z0-9_-]+)"', page(R, "/network/"))
        codes = [c for c in codes if c not in NETWORK_PAGES]
        values["cluster"] = codes[0] if codes else None
    for name, (email, where, pattern) in FILLERS.items():
        if "{" + name + "}" not in path and not (name == "batch" and "{doc}" in path):
            continue
        if "{" in where:
            where = where.format(**values) if None not in values.values() else None
        m = re.search(pattern, page(email, where)) if where else None
        values[name] = m.group(1) if m else None
    if None in values.values():
        return None
    return path.format(**values)


def compare(args, env: dict, hello: str, servers: dict[str, str]) -> None:
    """Each page on the checkout before and on this one, alternating, each beside a bare
    figure taken just before it; medians over ``args.rounds``."""
    cookies = {side: {e: login(base, e) for e in {e for e, _ in PAGES if e}}
               for side, base in servers.items()}
    wanted = {p for p in args.pages.split(",") if p}
    print(f"gunicorn -w 2 (sync), wrk -t2 -c16 -d{args.seconds}s; instance "
          f"{env['TRELLIS_INSTANCE_PATH']}; before: {args.before}; median of {args.rounds}")
    print(f"{'page':30} {'bare':>7} {'before':>7} {'x bare':>7} {'after':>7} {'x bare':>7} "
          f"{'after/before':>12} {'non-2xx':>8}")
    for email, template in PAGES:
        if wanted and template not in wanted:
            continue
        path = fill(template, servers["after"], cookies["after"])
        if path is None:
            print(f"{template:30} (no such page)")
            continue
        figures: dict[str, list[float]] = {"before": [], "after": []}
        ratios: dict[str, list[float]] = {"before": [], "after": []}
        bares, bad = [], 0
        for side, base in servers.items():
            warm(base + urllib.parse.quote(path), cookies[side].get(email) if email else None)
        for _ in range(args.rounds):
            for side, base in servers.items():
                bare, _ = wrk(hello + "/", args.seconds, None)
                rps, n = wrk(base + urllib.parse.quote(path), args.seconds,
                             cookies[side].get(email) if email else None)
                bares.append(bare)
                figures[side].append(rps)
                ratios[side].append(rps / bare)
                bad += n
        b, a = (statistics.median(figures[k]) for k in ("before", "after"))
        rb, ra = (statistics.median(ratios[k]) for k in ("before", "after"))
        print(f"{path:30} {statistics.median(bares):7.0f} {b:7.1f} {rb:7.3f} {a:7.1f} "
              f"{ra:7.3f} {ra / rb:12.2f} {bad:8d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per page")
    parser.add_argument("--pages", default="", help="comma-separated paths to measure only")
    parser.add_argument("--instance", default=None,
                        help="instance folder (default $TRELLIS_INSTANCE_PATH or ./instance)")
    parser.add_argument("--before", default=None,
                        help="a checkout of the code before, measured beside this one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --before: rounds of before/after per page (medians)")
    parser.add_argument("--prepare", default=None, metavar="DIR",
                        help="measure on DIR, a copy of the instance in which the demo vendor "
                             "has a loan and a batch is anchored (made by "
                             "bench/prepare_pages.py unless DIR holds them already), so that "
                             "the loan, statement, batch and document pages exist")
    parser.add_argument("--prepare-documents", type=int, default=None, metavar="N",
                        help="with --prepare: anchor only N of the waiting documents "
                             "(bench/prepare_pages.py --documents)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install wrk)")
    instance = args.instance or os.environ.get("TRELLIS_INSTANCE_PATH", str(ROOT / "instance"))
    if args.prepare:
        from prepare_pages import prepare  # bench/ is this script's folder

        loan, batch = prepare(instance, args.prepare, args.prepare_documents)
        print(f"prepared {args.prepare} from {instance}: loan {loan}, batch {batch}")
        instance = args.prepare
    env = {**os.environ, "TRELLIS_INSTANCE_PATH": instance, "TRELLIS_SCHEDULER": "off",
           "PYTHONPATH": str(ROOT)}
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "hello.py").write_text(HELLO)
            hello_port, app_port = free_port(), free_port()
            procs.append(gunicorn("hello:app", hello_port, tmp, env))
            procs.append(gunicorn("wsgi:app", app_port, str(ROOT), env))
            hello, base = f"http://127.0.0.1:{hello_port}", f"http://127.0.0.1:{app_port}"
            if args.before:
                before = str(Path(args.before).resolve())
                before_port = free_port()
                procs.append(gunicorn("wsgi:app", before_port, before,
                                      {**env, "PYTHONPATH": before}))
                wait_up(hello + "/")
                wait_up(f"http://127.0.0.1:{before_port}/login")
                wait_up(base + "/login")
                compare(args, env, hello, {"before": f"http://127.0.0.1:{before_port}",
                                           "after": base})
                return
            wait_up(hello + "/")
            wait_up(base + "/login")
            bare, _ = wrk(hello + "/", args.seconds, None)
            cookies = {e: login(base, e) for e in {e for e, _ in PAGES if e}}
            wanted = {p for p in args.pages.split(",") if p}
            print(f"gunicorn -w 2 (sync), wrk -t2 -c16 -d{args.seconds}s; instance {instance}")
            print(f"{'page':38} {'role':22} {'req/s':>9} {'x bare':>7} {'non-2xx':>8}")
            print(f"{'bare Flask hello world':38} {'-':22} {bare:9.1f} {1.0:7.3f} {0:8d}")
            for email, template in PAGES:
                if wanted and template not in wanted:
                    continue
                path = fill(template, base, cookies)
                if path is None:
                    print(f"{template:38} {email or 'anonymous':22} {'(no such page)':>9}")
                    continue
                url = base + urllib.parse.quote(path)
                warm(url, cookies.get(email) if email else None)
                rps, bad = wrk(url, args.seconds, cookies.get(email) if email else None)
                print(f"{path:38} {email or 'anonymous':22} {rps:9.1f} {rps / bare:7.3f} "
                      f"{bad:8d}")
    finally:
        for p in procs:
            p.terminate()  # the master stops its workers (no "worker was sent SIGTERM")
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy machine: make sure it ends
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


if __name__ == "__main__":
    main()
