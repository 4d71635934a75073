"""The admin's "run now" enqueues the job as a task; a worker, not the web request, runs it."""

from __future__ import annotations

from sqlmodel import select

from tests.platform.conftest import csrf_token
from trellis import tasks
from trellis.config import Settings
from trellis.jobs import JobRun
from trellis.platform import create_app


def run_now(client, job_id="expire_offers"):
    token = csrf_token(client, "/admin/jobs")
    return client.post(f"/admin/jobs/{job_id}/run", data={"csrf_token": token})


def test_run_now_queues_a_task_that_runs_the_job(client, logged_in, session):
    logged_in("admin")
    response = run_now(client)
    assert response.status_code == 302
    run = tasks.latest(session, "run_job")
    assert run is not None and run.kwargs == '{"job_id": "expire_offers"}'
    # Under test the queue is immediate: the task ran right after the view committed.
    assert run.state == "done" and run.attempts == 1
    assert session.exec(select(JobRun).where(JobRun.job_id == "expire_offers")).first()
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "run_job" in page and "后台任务" in page


def test_the_web_request_only_enqueues(database_url, session_factory, session, make_user,
                                       tmp_path):
    settings = Settings.from_env({}, env="test", database_url=database_url,
                                 instance_path=str(tmp_path),
                                 tasks_url=f"sqlite:///{tmp_path}/tasks.db")
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    client = app.test_client()
    from tests.platform.conftest import login

    login(client, make_user("admin"))
    assert run_now(client).status_code == 302
    run = tasks.latest(session, "run_job")
    assert run.state == "queued"  # waiting for `trellis worker`
    assert app.extensions["trellis.tasks"].huey.pending_count() == 1
    assert session.exec(select(JobRun)).first() is None


def test_an_unknown_job_is_not_queued(client, logged_in, session):
    logged_in("admin")
    response = run_now(client, "no_such_job")
    assert response.status_code == 302
    assert tasks.latest(session, "run_job") is None


def test_jobs_and_users_read_as_words_not_json_or_ids(client, logged_in, make_firm,
                                                     make_user):
    firm = make_firm(name="杭州小河五金加工厂")
    make_user("vendor", firm=firm)
    logged_in("admin")
    jobs = client.get("/admin/jobs").get_data(as_text=True)
    assert '{"seconds"' not in jobs and "&#34;seconds&#34;" not in jobs
    assert "每 30 秒" in jobs and "每天 00:05" in jobs
    users = client.get("/admin/users").get_data(as_text=True)
    assert "杭州小河五金加工厂" in users and "供应商" in users
