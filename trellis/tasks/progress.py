"""Progress of a running task, written to ``task_runs`` so every process can read it.

A task that declares a ``progress`` keyword gets a :class:`Progress`. Its writes go
through their own short transactions (never the task's), at most every
``min_interval`` seconds, so a page polling the row sees rows done, total, errors and
rate while the task runs. Writes are guarded by the attempt number: a worker whose lease
was taken over can no longer move the row.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from trellis.clock import utcnow
from trellis.db import SQLITE_BUSY_TIMEOUT_MS, transaction
from trellis.tasks.models import TaskRun

logger = logging.getLogger(__name__)


class Progress:
    """Counts of one attempt of one task: ``rows_done`` of ``rows_total``, ``errors``."""

    def __init__(self, session_factory, run_id: str, attempt: int,
                 min_interval: float = 0.5):
        self.session_factory = session_factory
        self.run_id = run_id
        self.attempt = attempt
        self.min_interval = min_interval
        self.rows_done = 0
        self.rows_total: int | None = None
        self.errors = 0
        self.message = ""
        self._written_at = 0.0
        self._dirty = False

    def set(self, *, done: int | None = None, total: int | None = None,
            errors: int | None = None, message: str | None = None) -> None:
        """Set absolute counts (a resumed task starts from what is already done)."""
        if done is not None:
            self.rows_done = done
        if total is not None:
            self.rows_total = total
        if errors is not None:
            self.errors = errors
        if message is not None:
            self.message = message
        self._changed(force=True)

    def advance(self, rows: int = 1, *, errors: int = 0, message: str | None = None) -> None:
        """Count *rows* more done (and *errors* more rows refused)."""
        self.rows_done += rows
        self.errors += errors
        if message is not None:
            self.message = message
        self._changed()

    def flush(self) -> None:
        """Write pending counts now, waiting for the lock if need be (the runner calls
        this when the task has returned, so the task holds no lock any more)."""
        if self._dirty:
            self._write(wait=True)

    def _changed(self, force: bool = False) -> None:
        self._dirty = True
        if force or time.monotonic() - self._written_at >= self.min_interval:
            self._write()

    def _write(self, wait: bool = False) -> None:
        values = {"rows_done": self.rows_done, "errors": self.errors,
                  "message": self.message[:2000], "updated_at": utcnow()}
        if self.rows_total is not None:
            values["rows_total"] = self.rows_total
        statement = (update(TaskRun)
                     .where(col(TaskRun.id) == self.run_id, col(TaskRun.attempts) == self.attempt,
                            col(TaskRun.state) == "running")
                     .values(**values))
        bind = self.session_factory.kw.get("bind")
        if not wait and isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            if not _write_sqlite_nowait(bind, statement):
                return  # the task itself holds the write lock: stay dirty, try later
        else:
            with transaction(self.session_factory) as session:
                session.connection().execute(statement)
        self._written_at = time.monotonic()
        self._dirty = False


def _write_sqlite_nowait(engine: Engine, statement) -> bool:
    """Run *statement* on SQLite unless the write lock is taken; True if it ran.

    SQLite has one writer. A task that writes in one long transaction (an import, so that
    a refused file writes nothing) holds the lock from the same thread that reports
    progress: waiting for the lock would wait for ourselves until the busy timeout and
    then fail the task with "database is locked". So progress does not wait.
    """
    with engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute(statement)
            conn.commit()
            return True
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            conn.rollback()
            logger.debug("progress of a task skipped: the database is locked")
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
