"""The ``task_runs`` table: one row per enqueued task, the state every process sees.

The row, not the queue's message, is the source of truth. The message carries only the
row's id; a worker *claims* the row (``queued`` -> ``running`` with a lease), keeps the
lease alive while it works and closes the row (``done`` or ``failed``). A worker killed
mid-task stops renewing its lease; the sweep puts the row back to ``queued`` and sends a
new message (Huey removes a message from the queue before running it and never
acknowledges, so a killed consumer's message is gone).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow
from trellis.messages import Message

STATES = ("queued", "running", "done", "failed")


class TaskRun(SQLModel, table=True):
    """One task: its arguments, state, attempts, lease and progress."""

    __tablename__ = "task_runs"
    __table_args__ = (
        CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name="state"),
        CheckConstraint("attempts >= 0 and rows_done >= 0 and errors >= 0",
                        name="counts_not_negative"),
    )

    id: str = Field(primary_key=True, max_length=32)  # uuid4 hex
    name: str = Field(max_length=64, index=True)
    kwargs: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    state: str = Field(default="queued", max_length=16, index=True)
    attempts: int = 0
    max_attempts: int = 3
    # Progress: rows are whatever unit the task counts (import rows, documents, loans).
    rows_done: int = 0
    rows_total: int | None = None
    errors: int = 0
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    worker: str = Field(default="", max_length=160)
    created_at: datetime = Field(default_factory=utcnow)
    # When a message for this row was last sent (or is due): the sweep resends stale ones.
    enqueued_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    lease_until: datetime | None = None

    @property
    def text(self) -> str:
        """The outcome in English, for logs and tests (pages render the stored message in
        the reader's language)."""
        return str(Message.loads(self.outcome))

    @property
    def finished(self) -> bool:
        """Whether the run has ended (done or failed)."""
        return self.state in ("done", "failed")

    @property
    def rate(self) -> float | None:
        """Rows per second since the current attempt started (a rate, not money)."""
        if self.started_at is None or not self.rows_done:
            return None
        end = self.finished_at or self.updated_at
        seconds = (_aware(end) - _aware(self.started_at)).total_seconds()
        return self.rows_done / seconds if seconds > 0 else None

    @property
    def percent(self) -> int | None:
        """Whole percent of rows done, 0-100, when the total is known."""
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
