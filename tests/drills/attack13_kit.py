"""Shared tools of the attack13 drills (forge, race, bypass), written from the
specification without reading ``trellis/``.

What was read: README.md, ``issues show 15``, the pages and the JSON API of a running demo
(``/api/v1/openapi.json``), ``tests/conftest.py`` and ``tests/drills/`` (how drills start
an app, log in and seed a book). Table and column names used by the oracles were read from
the seeded database's own schema (``sqlite_master``, ``PRAGMA table_info``).

The books are made as the other drills make them (``trellis db upgrade`` and ``trellis
demo seed --vendors 30 --no-score`` run as subprocesses, once per session, copied per
test: a file copy, or ``pg_dump`` into a new schema). ``a13_site`` runs a drill on SQLite
and PostgreSQL (races, where the database's locking is what is attacked);
``a13_sqlite_site`` on SQLite only (forged fields, validation, IDOR). The fixtures are
registered in ``tests/drills/conftest.py`` so that one seeding serves every file.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, _pg_answers, need
from tests.drills.conftest import base_env, csrf_of, log_in, make_app, trellis

ADMIN = "admin@trellis.demo"
ADMIN2 = "admin2@trellis.demo"
RM = "rm@trellis.demo"
VENDOR = "vendor@trellis.demo"
VENDOR2 = "vendor2@trellis.demo"
ANCHOR = "anchor@trellis.demo"
AUDITOR = "auditor@trellis.demo"
CJK = re.compile(r"[\u4e00-\u9fff]")
THREADS = 16


def _chinese(env: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    env.pop("TRELLIS_DEFAULT_LOCALE", None)      # the product's default: Chinese
    return env


def _pg() -> dict[str, str]:
    u = make_url(PG_URL)
    return {"host": u.host or "127.0.0.1", "port": str(u.port or 5432),
            "user": u.username or "root", "db": u.database or "test"}


def _psql(sql_text: str) -> None:
    pg = _pg()
    subprocess.run(["psql", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "-q",
                    "-v", "ON_ERROR_STOP=1", pg["db"]], input=sql_text, text=True,
                   capture_output=True, check=True)


def _seed(env: dict[str, str]) -> None:
    trellis(env, "db", "upgrade", check=True, timeout=1200)
    trellis(env, "demo", "seed", "--vendors", "30", "--no-score", check=True, timeout=1800)


@dataclass
class Site:
    env: dict[str, str]
    app: object
    engine: object

    def q(self, sql_text: str, **params) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql_text), params).all()]


@pytest.fixture(scope="session")
def a13_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("a13-sqlite")
    _seed(_chinese(base_env(folder)))
    return folder


@pytest.fixture(scope="session")
def a13_pg_book(tmp_path_factory):
    need(_pg_answers(PG_URL), f"no PostgreSQL server answers at {PG_URL}")
    schema = f"drilla13_{uuid.uuid4().hex[:10]}"
    folder = tmp_path_factory.mktemp("a13-pg")
    _psql(f'create schema "{schema}";')
    try:
        env = _chinese(base_env(folder))
        env["TRELLIS_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{schema}"
        _seed(env)
        yield schema, folder
    finally:
        _psql(f'drop schema if exists "{schema}" cascade;')


def _site(request, tmp_path, kind: str):
    from trellis import db

    folder = tmp_path / "instance"
    schema = None
    if kind == "sqlite":
        shutil.copytree(request.getfixturevalue("a13_book"), folder)
        env = _chinese(base_env(folder))
    else:
        template_schema, template = request.getfixturevalue("a13_pg_book")
        schema = f"drilla13_{uuid.uuid4().hex[:10]}"
        pg = _pg()
        dump = subprocess.run(["pg_dump", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"],
                               "-n", template_schema, "--no-owner", "--no-privileges",
                               pg["db"]], capture_output=True, text=True, check=True).stdout
        _psql(dump.replace(template_schema, schema))
        shutil.copytree(template, folder)
        env = _chinese(base_env(folder))
        env["TRELLIS_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = db.make_engine(env["TRELLIS_DATABASE_URL"])
    try:
        yield Site(env=env, app=make_app(env), engine=engine)
    finally:
        engine.dispose()
        if schema:
            _psql(f'drop schema if exists "{schema}" cascade;')


@pytest.fixture(params=["sqlite", "postgresql"])
def a13_site(request, tmp_path):
    """A private copy of the seeded book, on SQLite and on PostgreSQL."""
    yield from _site(request, tmp_path, request.param)


@pytest.fixture
def a13_sqlite_site(request, tmp_path):
    """A private SQLite copy of the seeded book."""
    yield from _site(request, tmp_path, "sqlite")


def page_text(body: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def login(site: Site, email: str):
    client = site.app.test_client()
    answer = log_in(client, email)
    assert answer.status_code in (302, 303), (email, answer.status_code)
    return client


def token(client, url: str = "/") -> str:
    return csrf_of(client, url)


def outcome(client, resp) -> tuple[int, str]:
    """The status and the readable text a person ends up seeing (a redirect followed
    once, so its flash message is read)."""
    if resp.status_code in (301, 302, 303):
        page = client.get(resp.headers["Location"])
        return resp.status_code, page_text(page.get_data(as_text=True))
    return resp.status_code, page_text(resp.get_data(as_text=True))


def run_together(calls, timeout: float = 180):
    """Run the calls at the same moment from threads; their results. An exception in a
    thread fails the drill (a request must never blow up)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:   # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def no_server_error(responses, what: str) -> None:
    codes = [r.status_code for r in responses]
    assert all(c < 500 for c in codes), f"{what}: server errors among {codes}"


def me(client) -> dict:
    answer = client.get("/api/v1/me")
    assert answer.status_code == 200, answer.status_code
    return answer.get_json()


def ledger_clean(site: Site) -> None:
    check = trellis(site.env, "ledger", "check", timeout=900)
    assert check.returncode == 0, f"ledger check:\n{check.stdout[-2000:]}{check.stderr[-2000:]}"
