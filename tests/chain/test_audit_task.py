"""The full audit runs as a task: on a real SQLite file it finishes (no "database is
locked"), keeps its progress in the database, and a re-run after a dead worker completes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from trellis import clock, db, migrate, tasks
from trellis.chain import audit, jobs
from trellis.chain.models import AuditRun
from trellis.db import transaction
from trellis.trade import uscc
from trellis.trade.models import Firm, Invoice


@pytest.fixture
def file_db(tmp_path):
    """A SQLite file with separate connections per session, as in production."""
    url = f"sqlite:///{tmp_path}/audit.db"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    yield db.make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def anchored_file(file_db, embedded, chain_settings):
    """Twelve invoices in three anchored batches of four, committed to the file."""
    with transaction(file_db) as s:
        seller = Firm(uscc=uscc.make("91330100MA0000001"), name="卖方", role="vendor",
                      industry="manufacturing", founded_on=date(2018, 1, 1))
        buyer = Firm(uscc=uscc.make("91330100MA0000002"), name="买方", role="anchor",
                     industry="manufacturing", founded_on=date(2018, 1, 1))
        s.add_all([seller, buyer])
        s.flush()
        for i in range(12):
            s.add(Invoice(seller_id=seller.id, buyer_id=buyer.id, number=f"A-{i}",
                          amount_fen=10_000 + i, issue_date=date(2026, 3, 1),
                          due_date=date(2026, 4, 1)))
    jobs.anchor_pending(session_factory=file_db, settings=chain_settings)
    return file_db


def test_the_audit_task_finishes_on_sqlite_with_progress(anchored_file, chain_settings):
    queue = tasks.TaskQueue(settings=chain_settings, session_factory=anchored_file)
    today = clock.today()
    with transaction(anchored_file) as s:
        run = audit.queue_run(session=s, date_from=today, date_to=today)
        task_id = queue.enqueue("chain_audit", session=s, run_id=run.id)
    with transaction(anchored_file) as s:
        row = s.get(AuditRun, run.id)
        assert (row.state, row.checked, row.total, row.error) == ("done", 12, 12, None)
        assert row.report["documents"] == 12 and row.discrepancy_count == 0
        task = tasks.get_run(s, task_id)
        assert (task.state, task.rows_done, task.rows_total) == ("done", 12, 12)


def test_a_dead_workers_audit_is_run_again_from_the_start(anchored_file, chain_settings):
    today = clock.today()
    with transaction(anchored_file) as s:
        run = audit.queue_run(session=s, date_from=today, date_to=today)
        run.state, run.checked = "running", 4  # as a killed worker left it
    out = audit.audit_task(session_factory=anchored_file, settings=chain_settings,
                           progress=None, run_id=run.id)
    assert out == f"audit {run.id}: done"
    with transaction(anchored_file) as s:
        assert s.get(AuditRun, run.id).checked == 12


def test_the_job_enqueues_only_audits_left_waiting(anchored_file, chain_settings):
    queue = tasks.install(tasks.TaskQueue(settings=chain_settings,
                                          session_factory=anchored_file))
    today = clock.today()
    with transaction(anchored_file) as s:
        fresh = audit.queue_run(session=s, date_from=today, date_to=today)
    assert audit.run_queued_audits(session_factory=anchored_file, settings=chain_settings) \
        == "queued 0 waiting audits"
    assert audit.run_queued_audits(session_factory=anchored_file, settings=chain_settings,
                                   older_than_seconds=0) == "queued 1 waiting audits"
    with transaction(anchored_file) as s:
        assert s.get(AuditRun, fresh.id).state == "done"
        assert s.scalars(select(tasks.TaskRun.state)).all() == ["done"]
    assert queue.immediate
