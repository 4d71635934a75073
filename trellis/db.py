"""Engine, sessions, the constraint naming convention and the transaction boundary.

Domain services receive a :class:`sqlmodel.Session` as the keyword argument ``session``
and only ``flush``; the caller (a view, a CLI command, a job) commits once, through
:func:`transaction`.

SQLite runs with foreign keys on, WAL journaling and a busy timeout; its driver's own
transaction handling is switched off so that SAVEPOINTs work (SQLAlchemy's documented
recipe), which the tests rely on to roll back after each test, and every transaction
begins IMMEDIATE so that concurrent writers queue instead of failing, except a reader's
(:func:`set_reading`: a page being shown), which begins deferred and reads beside them.

Conflicts between transactions. Writers take their locks in one order (see
:mod:`trellis.ledger.posting`), but a database may still end a transaction to break a
deadlock or a serialisation conflict (PostgreSQL 40P01, 40001; SQLite "database is
locked" once the busy timeout ran out). Nothing of such a transaction was written, so it is
safe to run again: :func:`run` does, a bounded number of times with a growing, jittered
pause, and the web layer does the same around each request
(:mod:`trellis.platform.retry`). A caller sees such a conflict only if every attempt
failed, then as :func:`is_retryable` errors that the web layer answers with 503.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Table, event
from sqlalchemy import insert as sa_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import class_mapper, sessionmaker
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

# How long a SQLite connection waits for the write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Money columns hold integer fen (1 yuan = 100 fen); SQLite's INTEGER is 64-bit too.
Fen = BigInteger


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
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        # then writes fails at once with "database is locked" when another writer got in
        # between, whatever the busy timeout; an immediate one waits its turn instead.
        # A reader (see :func:`set_reading`) begins deferred: WAL lets it read beside the
        # writer instead of queueing behind every other transaction for the lock.
        conn.exec_driver_sql("BEGIN" if _READING.get() else "BEGIN IMMEDIATE")


#: Whether this context's transactions are expected to read only (:func:`set_reading`).
_READING: ContextVar[bool] = ContextVar("trellis_db_reading", default=False)


def set_reading(expected: bool) -> Token:
    """From now on in this context, SQLite transactions begin deferred (*expected* true)
    instead of taking the write lock up front: for work expected only to read (a page being
    shown), so that readers do not queue behind each other. Work that writes after all may
    meet "database is locked" (another writer committed since it read), which
    :func:`is_retryable` reports: run it again with ``set_reading(False)``. No effect on
    PostgreSQL. Returns the token for :func:`reset_reading`."""
    return _READING.set(expected)


def reset_reading(token: Token) -> None:
    """Back to what was in force before :func:`set_reading` returned *token*."""
    _READING.reset(token)


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


#: PostgreSQL's SQLSTATEs for "run the transaction again": deadlock, serialisation failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
#: Attempts :func:`run` (and each web request) makes before a conflict reaches the caller.
ATTEMPTS = 8


def is_retryable(exc: BaseException) -> bool:
    """Whether *exc* is a database conflict after which the whole transaction may be run
    again (deadlock, serialisation failure, SQLite's lock wait ran out)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> float:
    """Seconds to wait before attempt *attempt* + 1 (0-based): full jitter, capped."""
    return random.uniform(0, min(cap, base * 2 ** attempt))  # noqa: S311 (not for secrets)


def run(factory: sessionmaker, fn: Callable[[Session], object], *,
        attempts: int = ATTEMPTS):
    """Run ``fn(session)`` in a transaction of its own and commit; if the database ends the
    transaction with a conflict (:func:`is_retryable`), roll back and run it again, at most
    *attempts* times, with a jittered pause. Returns what *fn* returned. *fn* must do
    nothing outside the database that it would be wrong to do twice."""
    for attempt in range(attempts):
        try:
            with transaction(factory) as session:
                return fn(session)
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
            logger.info("transaction conflict (%s), attempt %d of %d",
                        type(exc.orig).__name__, attempt + 1, attempts)
            time.sleep(backoff(attempt))
    raise AssertionError("unreachable")


def is_postgres(session_or_engine) -> bool:
    """Whether the session's or engine's database is PostgreSQL."""
    bind = getattr(session_or_engine, "bind", None) or session_or_engine
    if hasattr(session_or_engine, "get_bind"):
        bind = session_or_engine.get_bind()
    return bind.dialect.name == "postgresql"


def id_of(row: Any) -> int:
    """The primary key of *row*, a table row already flushed. SQLModel declares ``id`` as
    ``int | None`` because a new row has none until its INSERT; this says "it has one by
    now" once, and fails loudly (AssertionError) on a row not yet flushed."""
    if row.id is None:
        raise AssertionError(f"{type(row).__name__} has no id yet: flush it first")
    return int(row.id)


# --- bulk writes ------------------------------------------------------------------------

def converters(conn, table, keys: list[str]) -> list | None:
    """The columns' own bind conversions on this connection's dialect (what Core
    applies to every parameter), or None when a column of *keys* is not in *table*."""
    out = []
    for key in keys:
        column = table.c.get(key)
        if column is None:
            return None
        out.append(column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
    return out


def row_tuples(rows: list[dict], keys: list[str], procs: list) -> list[tuple]:
    """The rows as tuples in *keys* order, built column by column."""
    columns = []
    for key, proc in zip(keys, procs, strict=True):
        column = [r[key] for r in rows]
        columns.append(column if proc is None else list(map(proc, column)))
    return list(zip(*columns, strict=True))


def copy_rows(conn, table, keys: list[str], rows: list[tuple]) -> None:
    """PostgreSQL's COPY ... FROM STDIN of *rows* into *keys* of *table* (psycopg)."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(k) for k in keys)
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(
            f"COPY {quote.format_table(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def bulk_insert(conn, table, rows: list[dict]) -> None:
    """INSERT *rows* (dicts with the same keys) into *table* on *conn*, in the caller's
    transaction: COPY on PostgreSQL (psycopg), the driver's own ``executemany`` on SQLite,
    each value converted by its column's type as Core would; Core's ``executemany``
    elsewhere, or when a left-out column has a Python-side default to compute."""
    if not rows:
        return
    keys = list(rows[0])
    shape = rows[0].keys()
    procs = converters(conn, table, keys)
    defaults_left = any(c.default is not None and c.key not in shape for c in table.c)
    fast = (conn.dialect.name in ("sqlite", "postgresql") and procs is not None
            and not defaults_left and all(r.keys() == shape for r in rows))
    if not fast or procs is None:
        conn.execute(sa_insert(table), rows)
        return
    values = row_tuples(rows, keys, procs)
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, keys, values)
        return
    quote = conn.dialect.identifier_preparer
    sql = (f"INSERT INTO {quote.format_table(table)} "
           f"({', '.join(quote.quote(k) for k in keys)}) VALUES "
           f"({', '.join('?' * len(keys))})")
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of the SQLModel table class *model*, for bulk statements
    (``insert(table_of(Model))`` executed on a connection with a list of dicts). SQLModel
    sets ``Model.__table__`` but does not declare it; the mapper has it typed."""
    table = class_mapper(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table
