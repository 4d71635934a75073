"""The task queue in one process: enqueue, claim, progress, retries, sweep (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import text
from sqlmodel import select

from tests.tasks import sample
from trellis import tasks
from trellis.clock import utcnow
from trellis.config import Settings
from trellis.tasks import TaskQueue, TaskRun


@pytest.fixture
def probe(connection):
    sample.create_probe_tables(connection)
    return connection


@pytest.fixture
def settings(database_url):
    return Settings.from_env({}, env="test", database_url=database_url)


@pytest.fixture
def immediate(settings, session_factory, probe):
    assert settings.tasks_url == "immediate"
    return TaskQueue(settings=settings, session_factory=session_factory)


@pytest.fixture
def held(settings, session_factory, probe):
    """A queue whose messages wait in memory until the test delivers them."""
    return TaskQueue(settings=settings, session_factory=session_factory,
                     huey=MemoryHuey("held", results=False), stale_seconds=60)


def count(connection, sql, **params) -> int:
    return connection.execute(text(sql), params).scalar()


def deliver(queue: TaskQueue) -> list:
    """Run every waiting message, as a worker would; return what each execute returned."""
    out = []
    while (task := queue.huey.dequeue()) is not None:
        out.append(queue.execute(*task.args))
    return out


def test_immediate_task_runs_and_keeps_its_progress(immediate, session, probe):
    run_id = immediate.enqueue("test_mark", key="a", n=5)
    run = tasks.get_run(session, run_id)
    assert (run.state, run.attempts, run.rows_done, run.rows_total, run.errors) == (
        "done", 1, 5, 5, 0)
    assert run.outcome == "5 marks for a" and run.percent == 100 and run.finished_at
    assert count(probe, "select count(*) from probe_marks where key='a'") == 5


def test_a_task_without_progress_gets_none(immediate, session):
    run = tasks.get_run(session, immediate.enqueue("test_plain", word="hi"))
    assert (run.state, run.outcome, run.rows_total) == ("done", "HI", None)


def test_a_failing_task_is_retried_then_succeeds(immediate, session, probe):
    run = tasks.get_run(session, immediate.enqueue("test_mark", key="r", n=2, fail_first=1))
    assert (run.state, run.attempts) == ("done", 2)
    assert count(probe, "select count(*) from probe_attempts where key='r'") == 2


def test_a_task_failing_every_attempt_ends_failed_with_the_reason(immediate, session):
    run = tasks.get_run(session, immediate.enqueue("test_mark", key="f", n=1, fail_first=9))
    assert (run.state, run.attempts) == ("failed", 3)
    assert "planned failure 3 of 9" in run.outcome


def test_unknown_task_and_non_json_arguments_are_refused(immediate, session):
    with pytest.raises(tasks.UnknownTask):
        immediate.enqueue("no_such_task")
    with pytest.raises(TypeError):
        immediate.enqueue("test_plain", word=object())
    assert session.exec(select(TaskRun)).all() == []


def test_message_goes_out_only_after_the_callers_commit(held, session):
    run_id = held.enqueue("test_plain", session=session, word="x")
    assert held.huey.pending_count() == 0
    session.commit()
    assert held.huey.pending_count() == 1
    assert deliver(held) == ["done"]
    assert tasks.get_run(session, run_id).outcome == "X"


def test_a_rolled_back_enqueue_sends_nothing(held, session):
    run_id = held.enqueue("test_plain", session=session, word="x")
    session.rollback()
    session.commit()
    assert held.huey.pending_count() == 0
    assert session.get(TaskRun, run_id) is None


def test_a_duplicate_message_does_not_run_the_task_twice(held, session, probe):
    run_id = held.enqueue("test_mark", key="d", n=3)
    held._send(run_id)  # e.g. the sweep resent a message that was not lost after all
    assert deliver(held) == ["done", None]
    assert count(probe, "select count(*) from probe_attempts where key='d'") == 1
    assert tasks.get_run(session, run_id).attempts == 1


def _as_if_a_worker_died(session, run_id, attempts=1):
    run = session.get(TaskRun, run_id)
    run.state, run.attempts, run.worker = "running", attempts, "gone:1:1"
    run.lease_until = utcnow() - timedelta(seconds=1)
    session.add(run)
    session.commit()


def test_the_sweep_requeues_a_task_whose_worker_died(held, session, probe):
    run_id = held.enqueue("test_mark", key="k", n=3)
    held.huey.dequeue()  # the dead worker had taken the message
    _as_if_a_worker_died(session, run_id)
    assert held.sweep() == 1
    run = tasks.get_run(session, run_id)
    assert run.state == "queued" and "gone:1:1 stopped during attempt 1" in run.text
    assert deliver(held) == ["done"]
    run = tasks.get_run(session, run_id)
    assert (run.state, run.attempts, run.rows_done) == ("done", 2, 3)
    assert count(probe, "select count(*) from probe_marks where key='k'") == 3


def test_a_live_lease_is_left_alone(held, session):
    run_id = held.enqueue("test_plain", word="x")
    held.huey.dequeue()
    run = session.get(TaskRun, run_id)
    run.state, run.attempts, run.lease_until = "running", 1, utcnow() + timedelta(minutes=1)
    session.add(run)
    session.commit()
    assert held.sweep() == 0
    assert held.execute(run_id) is None  # claimed by the live worker, not taken over


def test_the_sweep_fails_a_dead_task_on_its_last_attempt(held, session):
    run_id = held.enqueue("test_mark", key="l", n=1)
    held.huey.dequeue()
    _as_if_a_worker_died(session, run_id, attempts=3)
    assert held.sweep() == 0
    assert tasks.get_run(session, run_id).state == "failed"


def test_the_sweep_resends_a_message_lost_before_it_was_sent(held, session):
    run_id = held.enqueue("test_plain", word="late")
    held.huey.dequeue()  # lost between the commit and the queue
    assert held.sweep() == 0  # not stale yet
    run = session.get(TaskRun, run_id)
    run.enqueued_at = utcnow() - timedelta(minutes=5)
    session.add(run)
    session.commit()
    assert held.sweep() == 1
    assert deliver(held) == ["done"]


def test_the_module_api_uses_the_installed_queue(immediate, session):
    tasks.install(immediate)
    run_id = tasks.enqueue("test_plain", session=session, word="via api")
    session.commit()
    assert tasks.get_run(session, run_id).outcome == "VIA API"
    assert tasks.latest(session, "test_plain").id == run_id
