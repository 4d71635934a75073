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

from sqlalchemy import update

from trellis.clock import utcnow
from trellis.db import transaction
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
        """Write pending counts now (the runner calls this when the task returns)."""
        if self._dirty:
            self._write()

    def _changed(self, force: bool = False) -> None:
        self._dirty = True
        if force or time.monotonic() - self._written_at >= self.min_interval:
            self._write()

    def _write(self) -> None:
        values = {"rows_done": self.rows_done, "errors": self.errors,
                  "message": self.message[:2000], "updated_at": utcnow()}
        if self.rows_total is not None:
            values["rows_total"] = self.rows_total
        with transaction(self.session_factory) as session:
            session.connection().execute(
                update(TaskRun)
                .where(TaskRun.id == self.run_id, TaskRun.attempts == self.attempt,
                       TaskRun.state == "running")
                .values(**values))
        self._written_at = time.monotonic()
        self._dirty = False
