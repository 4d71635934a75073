"""Import runs: queued file -> outcome, progress figures, the downloadable error report."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.onboarding.test_importer import INV_HEADER, csv_bytes
from trellis.onboarding import runs
from trellis.onboarding.errors import FileTooLarge
from trellis.onboarding.models import ImportFile, ImportRun, RunStatus
from trellis.trade.models import Invoice

TODAY = date(2026, 11, 30)


@pytest.fixture
def park(make_cluster, make_firm):
    cluster = make_cluster()
    return (cluster, make_firm(role="anchor", cluster_id=cluster.id),
            make_firm(cluster_id=cluster.id))


def queue(session, cluster, data, **kw):
    run = runs.create_run(session=session, cluster_id=cluster.id, kind="invoices",
                          filename="invoices.csv", data=data, **kw)
    session.commit()
    return run


def test_a_good_run_succeeds_reports_progress_and_drops_the_file(session, session_factory,
                                                                   park):
    cluster, anchor, vendor = park
    rows = [[vendor.uscc, anchor.uscc, f"N-{i}", "10", "2026-06-01", "2026-08-01"]
            for i in range(4500)]
    run = queue(session, cluster, csv_bytes(INV_HEADER, rows))
    seen = []
    done = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY,
                            on_progress=lambda *a: seen.append(a))
    assert done.status == RunStatus.SUCCEEDED
    assert (done.created, done.rows_done, done.rows_total) == (4500, 4500, 4500)
    assert ("validating", 2000, 4500, 0) in seen and seen[-1][0] == "writing"
    state = runs.progress_of(done)
    assert state["finished"] and state["percent"] == 100 and state["created"] == 4500
    assert session.scalar(select(func.count()).select_from(Invoice)) == 4500
    assert session.get(ImportFile, run.id) is None


def test_a_run_past_its_time_limit_is_stopped_and_writes_nothing(session, session_factory,
                                                                  park):
    cluster, anchor, vendor = park
    rows = [[vendor.uscc, anchor.uscc, f"T-{i}", "10", "2026-06-01", "2026-08-01"]
            for i in range(4500)]
    run = queue(session, cluster, csv_bytes(INV_HEADER, rows))
    done = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY,
                            max_seconds=1e-6)
    assert done.status == RunStatus.REFUSED and "longer than" in done.message
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert session.get(ImportFile, run.id) is None


def test_a_refused_run_keeps_nothing_and_offers_an_error_report(session, session_factory,
                                                                park):
    cluster, anchor, vendor = park
    rows = [[vendor.uscc, anchor.uscc, "N-1", "10", "2026-06-01", "2026-08-01"],
            [vendor.uscc, anchor.uscc, "N-2", "-3", "2026-06-01", "2026-05-01"]]
    run = queue(session, cluster, csv_bytes(INV_HEADER, rows))
    done = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY)
    assert done.status == RunStatus.REFUSED and done.errors_count == 2
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    report = runs.error_report_csv(session=session, run_id=run.id)
    assert report.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "value", "problem"]
    assert [(r[0], r[1]) for r in lines[1:]] == [("3", "amount"), ("3", "due_date")]
    assert "negative" in lines[1][3]


def test_an_unreadable_file_is_refused_with_its_message_in_the_report(
        session, session_factory, park):
    run = queue(session, park[0], b"\xd0\xcf\x11\xe0" + b"\0" * 64)
    done = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY)
    assert done.status == RunStatus.REFUSED and ".xls" in done.message
    assert b".xlsx" in runs.error_report_csv(session=session, run_id=run.id)


def test_create_run_refuses_a_file_over_the_limit(session, park):
    with pytest.raises(FileTooLarge):
        runs.create_run(session=session, cluster_id=park[0].id, kind="invoices",
                        filename="x.csv", data=b"x" * 2048, max_bytes=1024)
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_a_finished_run_is_not_run_twice(session, session_factory, park):
    cluster, anchor, vendor = park
    run = queue(session, cluster, csv_bytes(INV_HEADER, [
        [vendor.uscc, anchor.uscc, "N-1", "10", "2026-06-01", "2026-08-01"]]))
    first = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY)
    again = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY)
    assert first.status == again.status == RunStatus.SUCCEEDED
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_resume_runs_queued_imports_and_fails_interrupted_ones(session, session_factory,
                                                                park):
    from datetime import timedelta

    from trellis import tasks
    from trellis.clock import utcnow
    from trellis.config import Settings
    from trellis.onboarding.jobs import resume_imports

    tasks.install(tasks.TaskQueue(settings=Settings(), session_factory=session_factory))
    cluster, anchor, vendor = park
    waiting = queue(session, cluster, csv_bytes(INV_HEADER, [
        [vendor.uscc, anchor.uscc, "N-1", "10", "2026-06-01", "2026-08-01"]]))
    stuck = queue(session, cluster, b"x")
    waiting.created_at = utcnow() - timedelta(minutes=5)
    stuck.status, stuck.started_at = "running", utcnow() - timedelta(hours=3)
    session.commit()
    outcome = resume_imports(session_factory=session_factory, settings=None)
    assert outcome.startswith("1 queued imports enqueued, 1 interrupted")
    session.refresh(waiting)
    session.refresh(stuck)
    assert (waiting.status, stuck.status) == ("succeeded", "failed")
    assert session.get(ImportFile, stuck.id) is None


def test_a_run_whose_task_ended_while_it_ran_is_failed_at_once(session, session_factory,
                                                                park):
    from trellis import tasks
    from trellis.clock import utcnow
    from trellis.tasks import TaskRun

    run = queue(session, park[0], b"x")
    run.status, run.started_at = "running", utcnow()
    held = tasks.TaskRun(id="a" * 32, name="import_run", kwargs=f'{{"run_id": {run.id}}}',
                         state="running", attempts=2)
    session.add(held)
    session.commit()
    assert runs.resume(session_factory=session_factory) == (0, 0)  # its worker is alive
    held.state = "failed"  # the sweep gave up: the worker died on the last attempt
    session.add(held)
    session.commit()
    assert runs.resume(session_factory=session_factory) == (0, 1)
    session.refresh(run)
    assert run.status == "failed" and session.get(TaskRun, "a" * 32).state == "failed"


def test_the_import_task_keeps_progress_in_the_database(session, session_factory, park):
    from trellis import tasks
    from trellis.config import Settings

    cluster, anchor, vendor = park
    rows = [[vendor.uscc, anchor.uscc, f"T-{i}", "10", "2026-06-01", "2026-08-01"]
            for i in range(2500)]
    run = queue(session, cluster, csv_bytes(INV_HEADER, rows))
    queue_ = tasks.TaskQueue(settings=Settings(), session_factory=session_factory)
    task_id = queue_.enqueue("import_run", run_id=run.id)
    task = tasks.get_run(session, task_id)
    assert (task.state, task.rows_done, task.rows_total) == ("done", 2500, 2500)
    assert task.text.startswith(f"import {run.id}: succeeded")
    session.refresh(run)
    assert run.status == "succeeded" and run.created == 2500


def test_the_error_report_escapes_formulas_from_the_file(session, session_factory, park):
    cluster, anchor, vendor = park
    evil = "=cmd|' /C calc'!A0"
    rows = [[vendor.uscc, anchor.uscc, evil, "@SUM(1+1)", "2026-06-01", "2026-08-01"]]
    run = queue(session, cluster, csv_bytes(INV_HEADER, rows))
    done = runs.execute_run(session_factory=session_factory, run_id=run.id, today=TODAY)
    assert done.status == RunStatus.REFUSED
    text = runs.error_report_csv(session=session, run_id=run.id).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'@SUM(1+1)" in cells
    assert not any(c.startswith(("=", "@", "+")) for c in cells)
