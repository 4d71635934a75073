"""``trellis.db.bulk_insert`` (COPY on PostgreSQL, the driver's executemany on SQLite)
stores exactly what Core's ``insert`` stores, and falls back to Core when a left-out
column has a Python-side default."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from trellis import db
from trellis.jobs import JobRun

TABLE = JobRun.__table__


def _rows(prefix: str) -> list[dict]:
    return [{"job_id": f"{prefix}-{i}", "started_at": datetime(2026, 12, 6, 5, i, 7, 123456,
                                                                 tzinfo=UTC),
             "seconds": i / 4, "ok": i % 2 == 0, "outcome": f"结果 {i}, 'quoted'\ttab",
             "host": "" if i else "h\\1"} for i in range(5)]


def _read(connection, prefix: str) -> list[tuple]:
    got = connection.execute(select(TABLE).where(TABLE.c.job_id.like(f"{prefix}-%"))
                             .order_by(TABLE.c.job_id)).all()
    return [tuple(r)[1:] for r in got]  # without the id


def test_bulk_insert_stores_what_core_stores(connection):
    connection.execute(insert(TABLE), _rows("core"))
    db.bulk_insert(connection, TABLE, _rows("bulk"))
    core, bulk = _read(connection, "core"), _read(connection, "bulk")
    assert len(bulk) == 5
    assert [r[1:] for r in bulk] == [r[1:] for r in core]
    assert [r[0].replace("bulk", "core") for r in bulk] == [r[0] for r in core]


def test_a_left_out_column_with_a_default_goes_through_core(connection):
    rows = [{k: v for k, v in r.items() if k != "outcome"} for r in _rows("dflt")]
    db.bulk_insert(connection, TABLE, rows)
    assert [r[4] for r in _read(connection, "dflt")] == [""] * 5
