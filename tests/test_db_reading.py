"""SQLite readers (pages being shown) begin deferred and read beside a writer; a reader that
writes after another writer committed meets a conflict that is retryable, and runs again as
a writer (issue 15: two workers no longer queue behind each other for the write lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from trellis import db


@pytest.fixture
def engine(tmp_path):
    eng = db.make_engine(f"sqlite:///{tmp_path / 'r.db'}",
                         connect_args={"check_same_thread": False, "timeout": 1})
    with eng.begin() as conn:
        conn.exec_driver_sql("create table t (n integer)")
        conn.exec_driver_sql("insert into t values (1)")
    yield eng
    eng.dispose()


def test_a_reader_reads_while_a_writer_holds_the_lock(engine):
    writer = engine.connect()
    writer.begin()
    writer.execute(text("update t set n = 2"))  # holds the write lock, not committed
    token = db.set_reading(True)
    try:
        with engine.connect() as reader, reader.begin():
            assert reader.execute(text("select n from t")).scalar() == 1
    finally:
        db.reset_reading(token)
        writer.rollback()
        writer.close()


def test_a_writer_waits_for_the_lock_up_front(engine):
    writer = engine.connect()
    writer.begin()
    writer.execute(text("update t set n = 2"))
    released = threading.Timer(0.3, lambda: (writer.commit(), writer.close()))
    released.start()
    # Not reading: BEGIN IMMEDIATE waits for the writer, then sees its row and writes.
    with engine.connect() as other, other.begin():
        assert other.execute(text("select n from t")).scalar() == 2
        other.execute(text("update t set n = 3"))
    released.join()


def test_a_reader_that_writes_after_another_commit_gets_a_retryable_conflict(engine):
    token = db.set_reading(True)
    try:
        with engine.connect() as reader:
            reader.begin()
            assert reader.execute(text("select n from t")).scalar() == 1
            db.set_reading(False)
            with engine.connect() as writer, writer.begin():
                writer.execute(text("update t set n = 2"))
            with pytest.raises(OperationalError) as caught:
                reader.execute(text("update t set n = n + 10"))
            assert db.is_retryable(caught.value)
            reader.rollback()
            # Again as a writer (what the web layer's retry does): it sees the commit.
            reader.begin()
            reader.execute(text("update t set n = n + 10"))
            reader.commit()
            assert reader.execute(text("select n from t")).scalar() == 12
    finally:
        db.reset_reading(token)
