"""The admin's "run now" enqueues the job as a task; a worker, not the web request, runs it."""

from __future__ import annotations

import html
import re
import sqlite3

from sqlmodel import select

from tests.platform.conftest import csrf_token
from trellis import jobs as job_registry
from trellis import tasks
from trellis.config import Settings
from trellis.jobs import JobRun, JobSpec
from trellis.messages import Message, stored, technical_detail, unexpected
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
    assert "后台任务" in page and "任务：过期报价处理" in page


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
    assert "每 30 秒" in jobs and "每天 00:05（北京时间）" in jobs
    users = client.get("/admin/users").get_data(as_text=True)
    assert "杭州小河五金加工厂" in users and "供应商" in users


def _visible(page: str) -> str:
    """The page's text as read: without tags, attributes and the admin's collapsed
    technical sections."""
    body = page.split("<main", 1)[-1]
    body = re.sub(r"<details class=\"technical[^>]*>.*?</details>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_jobs_read_as_names_schedules_arguments_and_last_runs(client, logged_in, session):
    """Issue 15: each job by its Chinese name and what it does, its schedule in words
    (a weekly job is not "daily"), its last run in words; a task's arguments labelled,
    never its JSON nor a job's code."""
    logged_in("admin")
    run_now(client, "settle_vouchers")
    page = client.get("/admin/jobs").get_data(as_text=True)
    text = _visible(page)
    for words in ("每日计息", "计提每日利息并更新逾期天数", "每天 00:05（北京时间）",
                  "每周一 03:00（北京时间）", "评分卡重新校准", "每 5 分钟",
                  "任务：到期凭证兑付", "尚无运行记录"):
        assert words in text, words
    row = page.split('data-job="settle_vouchers"', 1)[1].split("</tr>", 1)[0]
    assert "成功" in _visible(row) and "秒" in row
    for code in ("settle_vouchers", "accrue_daily", "run_job", "job_id", "{"):
        assert code not in text, code
    assert 'title="{' not in page and "&#34;job_id" not in page


def boom(*, session_factory, settings):
    raise sqlite3.OperationalError("database is locked (driver detail)")


def test_an_unforeseen_failure_reads_in_words_with_a_reference(client, logged_in, session,
                                                               session_factory, monkeypatch,
                                                               make_user):
    """Issue 15: a job stopped by a driver's error: people read a message in their
    language with a reference; the driver's English stays in the log and in a labelled,
    collapsed technical section only an admin sees."""
    spec = JobSpec("boom", f"{__name__}:boom", "interval", {"seconds": 5}, "Blow up",
                   name="Blow up")
    monkeypatch.setattr(job_registry, "JOBS", (*job_registry.JOBS, spec))
    run = job_registry.run_job(spec, session_factory=session_factory, settings=None)
    assert not run.ok and "OperationalError" not in run.text
    reference = Message.loads(run.outcome).params["reference"]
    assert re.fullmatch(r"E-[0-9A-F]{8}", reference)
    logged_in("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    text = _visible(page)
    assert f"因意外错误而中止（参考编号 {reference}）" in text
    assert "OperationalError" not in text and "database is locked" not in text
    technical = re.findall(r'<details class="technical[^>]*>.*?</details>', page, flags=re.S)
    assert technical and "技术详情" in technical[0] and "database is locked" in technical[0]
    assert " open" not in technical[0].split(">", 1)[0]   # collapsed


def test_a_task_stopped_by_an_unforeseen_error_keeps_words_and_detail(app, session):
    from trellis.platform import words

    error = unexpected(KeyError("anchor_root"), "E-0000ABCD")
    kept = stored(error, 4000)
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        shown = words.message_text(kept)
    assert "E-0000ABCD" in shown and "KeyError" not in shown and "意外错误" in shown
    assert technical_detail(kept) == "KeyError: 'anchor_root'"
    assert technical_detail("a plain outcome") == ""
