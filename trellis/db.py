"""Engine, sessions, the constraint naming convention and the transaction boundary.

Domain services receive a :class:`sqlmodel.Session` as the keyword argument ``session``
and only ``flush``; the caller (a view, a CLI command, a job) commits once, through
:func:`transaction`.

SQLite runs with foreign keys on, WAL journaling and a busy timeout; its driver's own
transaction handling is switched off so that SAVEPOINTs work (SQLAlchemy's documented
recipe), which the tests rely on to roll back after each test, and every transaction
begins IMMEDIATE so that concurrent writers queue instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import BigInteger, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel, create_engine

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Set before any table class is imported, so every constraint gets a stable name.
metadata = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION

# Money columns hold integer fen (1 yuan = 100 fen); SQLite's INTEGER is 64-bit too.
Fen = BigInteger


def import_models() -> None:
    """Import every area's tables so that ``metadata`` knows them all."""
    import trellis.accounts.models  # noqa: F401
    import trellis.jobs  # noqa: F401
    import trellis.tasks.models  # noqa: F401
    import trellis.trade.models  # noqa: F401

    for optional in ("trellis.network.models", "trellis.chain.models",
                     "trellis.scoring.models", "trellis.ledger.models",
                     "trellis.vouchers.models", "trellis.protection.models"):
        try:
            __import__(optional)
        except ModuleNotFoundError as exc:
            if not exc.name or not optional.startswith(exc.name):
                raise


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for *url* with Trellis's connection settings."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN, so SAVEPOINT works.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        # then writes fails at once with "database is locked" when another writer got in
        # between, whatever the busy timeout; an immediate one waits its turn instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(bind, **kwargs) -> sessionmaker:
    """A factory of SQLModel sessions bound to an engine or a connection."""
    kwargs.setdefault("expire_on_commit", False)
    return sessionmaker(bind=bind, class_=Session, **kwargs)


@contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """The transaction boundary: one session, committed on success, rolled back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine) -> bool:
    bind = getattr(session_or_engine, "bind", None) or session_or_engine
    if hasattr(session_or_engine, "get_bind"):
        bind = session_or_engine.get_bind()
    return bind.dialect.name == "postgresql"
