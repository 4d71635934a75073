"""Task functions for the tests, registered on import (also in worker subprocesses).

``mark`` is idempotent the way real tasks must be: each of its *n* steps writes one row
keyed by (key, step) and ignores a row already there, so running it twice leaves the same
rows as running it once. Every attempt also appends a row to ``probe_attempts`` so the
tests can count how many times the body started.
"""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from trellis.db import transaction
from trellis.tasks import TaskSpec, register

PROBE_TABLES = (
    "create table if not exists probe_marks (key varchar(64) not null, step integer not null,"
    " pid integer not null, primary key (key, step))",
    "create table if not exists probe_attempts (key varchar(64) not null,"
    " pid integer not null)",
)


def create_probe_tables(connection) -> None:
    for statement in PROBE_TABLES:
        connection.execute(text(statement))


def mark(*, session_factory, settings, progress, key: str, n: int, delay: float = 0.0,
         fail_first: int = 0) -> str:
    with transaction(session_factory) as session:
        session.connection().execute(
            text("insert into probe_attempts (key, pid) values (:k, :p)"),
            {"k": key, "p": os.getpid()})
        attempts = session.connection().execute(
            text("select count(*) from probe_attempts where key = :k"), {"k": key}).scalar()
    if attempts <= fail_first:
        raise ValueError(f"planned failure {attempts} of {fail_first}")
    progress.set(total=n)
    for step in range(n):
        with transaction(session_factory) as session:
            session.connection().execute(
                text("insert into probe_marks (key, step, pid) values (:k, :s, :p)"
                     " on conflict do nothing"), {"k": key, "s": step, "p": os.getpid()})
        progress.advance()
        if delay:
            time.sleep(delay)
    return f"{n} marks for {key}"


def plain(*, session_factory, settings, word: str) -> str:
    """A task without progress: it gets no ``progress`` keyword."""
    return word.upper()


register(TaskSpec("test_mark", "tests.tasks.sample:mark", "tests: idempotent marks",
                  lease_seconds=2, max_attempts=3, retry_delay_seconds=0))
# The same body with a lease long enough that a loaded machine never lets it lapse: for
# the tests that count attempts without killing anyone.
register(TaskSpec("test_mark_long_lease", "tests.tasks.sample:mark", "tests: marks, 60 s lease",
                  lease_seconds=60, max_attempts=3, retry_delay_seconds=0))
register(TaskSpec("test_plain", "tests.tasks.sample:plain", "tests: no progress"))
