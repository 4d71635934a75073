"""Shared fixtures.

Every test that uses ``session`` (or ``app``/``client``) runs twice: on SQLite and on
PostgreSQL. Each test runs inside a transaction that is rolled back afterwards; the
schema is built once per database by the real Alembic migrations.

PostgreSQL is taken from ``TRELLIS_TEST_PG_URL`` (default: database ``test`` on
127.0.0.1:5432). Without a server the PostgreSQL half is skipped with the reason, except
with ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import text

from trellis import db, migrate
from trellis.trade import uscc

CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TRELLIS_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def need(condition: bool, reason: str) -> None:
    """Skip when *condition* is false, except under CI, where a missing part fails."""
    if condition:
        return
    if CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """argon2id with small parameters, in tests only: production keeps the library's
    RFC 9106 profile (64 MiB, 3 passes), which costs 0.1-0.5 s a hash here."""
    from argon2 import PasswordHasher

    from trellis.accounts import services

    real = services._hasher
    services._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    services._hasher = real


def _pg_answers(url: str) -> bool:
    try:
        engine = db.make_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database: a SQLite file or a fresh PostgreSQL schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "trellis.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    need(_pg_answers(PG_URL), f"no PostgreSQL server answers at {PG_URL}")
    schema = f"t_{worker}_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    eng = db.make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection):
    """Sessions on the test's connection; their commits only release savepoints."""
    return db.make_sessionmaker(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(session_factory):
    s = session_factory()
    yield s
    s.close()


# --- factories -----------------------------------------------------------------------

_counter = iter(range(1, 10**9))


def next_uscc() -> str:
    n = next(_counter)
    return uscc.make(f"91330100MA{n:07d}")


@pytest.fixture
def make_cluster(session):
    from trellis.trade.models import Cluster

    def make(**kw):
        n = next(_counter)
        cluster = Cluster(code=kw.pop("code", f"park-{n}"), name=kw.pop("name", f"园区{n}"),
                          **kw)
        session.add(cluster)
        session.flush()
        return cluster

    return make


def give_payout_account(session, firm):
    """Give *firm* a consented payout account in its own name (loans are paid out only to
    one); returns it."""
    from trellis.protection import payout

    return payout.install(session=session, firm_id=firm.id, bank_name="招商银行测试支行",
                          account_number=firm.bank_account or f"6214{firm.id:012d}",
                          holder_name=firm.name, consented_by_id=None, source="seed")


@pytest.fixture
def make_firm(session):
    from trellis.trade.models import Firm

    def make(**kw):
        """A firm; a vendor gets a consented payout account (as the demo's vendors do)
        unless ``payout_account=False``."""
        n = next(_counter)
        with_account = kw.pop("payout_account", True)
        firm = Firm(uscc=kw.pop("uscc", None) or next_uscc(), name=kw.pop("name", f"企业{n}"),
                    role=kw.pop("role", "vendor"), industry=kw.pop("industry", "manufacturing"),
                    founded_on=kw.pop("founded_on", date(2018, 1, 1)), **kw)
        session.add(firm)
        session.flush()
        if with_account and firm.role == "vendor":
            give_payout_account(session, firm)
        return firm

    return make


@pytest.fixture
def make_user(session):
    from trellis.accounts import services

    def make(role="admin", *, email=None, password="correct horse battery", firm=None,
             **kw):
        n = next(_counter)
        return services.create_user(session=session, email=email or f"user{n}@example.cn",
                                    password=password, role=role,
                                    firm_id=firm.id if firm is not None else None, **kw)

    return make


def pytest_collection_modifyitems(config, items):
    """Drop the SQLite half of tests marked ``postgres_only`` (instead of skipping it).

    Such tests exercise what only PostgreSQL has (row locks under concurrent commits,
    triggers); their SQLite variant is not a missing part, it does not exist.
    """
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        if on_sqlite and item.get_closest_marker("postgres_only"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- the browser ---------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright, one per test process.

    Playwright's sync API allows one running instance per thread, so every browser test
    shares this one (never a downloaded browser).
    """
    need(os.path.exists(CHROMIUM), f"Debian's chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def auto_approve_grade_c(session) -> None:
    """Let RF-STD approve grade C on its own, in the small demo clusters of the journey
    tests: there the demo vendor (a healthy vendor with steady meters, picked from a park
    simulated up to today) grades B or C under the expert card depending on the day's
    data, and a C would send every journey that expects an offer to an RM. The product's
    grades are unchanged."""

    from sqlmodel import select as _select

    from trellis.ledger.models import Product

    rf = session.exec(_select(Product).where(Product.code == "RF-STD")).one()
    rf.auto_approve_grades = sorted({*(rf.auto_approve_grades or []), "C"})
    session.add(rf)
    session.flush()
