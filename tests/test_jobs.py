"""Jobs are data; one scheduler at a time; each run recorded with its outcome."""

from __future__ import annotations

import sys
import types

import pytest
from sqlmodel import select

from trellis import jobs


def test_every_declared_job_resolves_to_a_function():
    for spec in jobs.JOBS:
        assert callable(jobs.resolve(spec)), spec.id


def test_run_job_records_success_and_failure(session_factory, settings_for_jobs, monkeypatch):
    module = types.ModuleType("trellis_test_jobs")
    module.good = lambda *, session_factory, settings: "3 batches anchored"

    def bad(*, session_factory, settings):
        raise RuntimeError("node down")

    module.bad = bad
    monkeypatch.setitem(sys.modules, "trellis_test_jobs", module)
    ok = jobs.run_job(jobs.JobSpec("good", "trellis_test_jobs:good", "interval"),
                      session_factory=session_factory, settings=settings_for_jobs)
    failed = jobs.run_job(jobs.JobSpec("bad", "trellis_test_jobs:bad", "interval"),
                          session_factory=session_factory, settings=settings_for_jobs)
    assert ok.ok and ok.outcome == "3 batches anchored"
    assert not failed.ok and "node down" in failed.outcome
    session = session_factory()
    recorded = session.exec(select(jobs.JobRun).order_by(jobs.JobRun.id)).all()
    assert [(r.job_id, r.ok) for r in recorded][-2:] == [("good", True), ("bad", False)]


@pytest.fixture
def settings_for_jobs(database_url, tmp_path):
    from trellis.config import Settings

    return Settings.from_env({}, env="test", database_url=database_url,
                             instance_path=str(tmp_path))


def test_only_one_scheduler_holds_the_lock(engine, tmp_path):
    first = jobs.SchedulerLock(engine, str(tmp_path))
    second = jobs.SchedulerLock(engine, str(tmp_path))
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def test_scheduler_runs_each_job_at_most_once_at_a_time(session_factory, settings_for_jobs):
    scheduler = jobs.build_scheduler(session_factory=session_factory,
                                     settings=settings_for_jobs)
    scheduler.start(paused=True)
    try:
        for job in scheduler.get_jobs():
            assert job.max_instances == 1 and job.coalesce is True
        assert {j.id for j in scheduler.get_jobs()} == {s.id for s in jobs.JOBS}
    finally:
        scheduler.shutdown(wait=False)


def test_the_scheduler_enqueues_long_jobs_and_a_worker_runs_them(session_factory,
                                                                 settings_for_jobs):
    from huey import MemoryHuey

    from trellis import tasks

    queue = tasks.install(tasks.TaskQueue(settings=settings_for_jobs,
                                          session_factory=session_factory,
                                          huey=MemoryHuey("jobs", results=False)))
    scheduler = jobs.build_scheduler(session_factory=session_factory,
                                     settings=settings_for_jobs)
    by_id = {job.id: job for job in scheduler.get_jobs()}
    assert by_id["rescore_portfolio"].func is jobs.enqueue_job
    assert by_id["anchor_pending"].func is jobs.run_job
    spec = jobs.find("expire_offers")
    run_id = jobs.enqueue_job(spec, session_factory=session_factory,
                              settings=settings_for_jobs)
    session = session_factory()
    assert session.exec(select(jobs.JobRun)).all() == []  # the scheduler ran nothing
    message = queue.huey.dequeue()
    assert queue.execute(*message.args) == "done"  # the worker's side
    assert tasks.get_run(session, run_id).state == "done"
    assert [r.job_id for r in session.exec(select(jobs.JobRun))] == ["expire_offers"]
