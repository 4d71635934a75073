"""The transaction boundary runs a transaction again after a deadlock, a bounded number of
times, and lets every other error through at once."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from trellis import db


class PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def conflict(code="40P01"):
    return OperationalError("UPDATE ...", {}, PgError(code))


@pytest.mark.parametrize("exc, retryable", [
    (conflict("40P01"), True), (conflict("40001"), True), (conflict("23505"), False),
    (OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
     True),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
    (ValueError("no"), False),
])
def test_is_retryable(exc, retryable):
    assert db.is_retryable(exc) is retryable


def test_run_retries_conflicts_then_commits(session_factory, monkeypatch):
    monkeypatch.setattr(db, "backoff", lambda attempt: 0)
    calls = []

    def fn(session):
        calls.append(1)
        if len(calls) < 3:
            raise conflict()
        return "done"

    assert db.run(session_factory, fn) == "done" and len(calls) == 3


def test_run_gives_up_after_the_bound_and_never_retries_other_errors(session_factory,
                                                                    monkeypatch):
    monkeypatch.setattr(db, "backoff", lambda attempt: 0)
    calls = []

    def always(session):
        calls.append(1)
        raise conflict()

    with pytest.raises(OperationalError):
        db.run(session_factory, always, attempts=4)
    assert len(calls) == 4
    calls.clear()

    def broken(session):
        calls.append(1)
        raise conflict("23505")

    with pytest.raises(OperationalError):
        db.run(session_factory, broken)
    assert len(calls) == 1
