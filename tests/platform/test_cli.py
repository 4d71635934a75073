"""The `trellis` command."""

from __future__ import annotations

from flask.cli import ScriptInfo
from sqlmodel import select

from trellis.accounts.models import User
from trellis.platform.cli import main


def invoke(app, args, **kw):
    runner = app.test_cli_runner()
    return runner.invoke(main, args, obj=ScriptInfo(create_app=lambda: app), **kw)


def test_every_command_has_help(app):
    result = invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("db", "users", "demo", "jobs", "serve"):
        assert group in result.output
    for args in (["db", "upgrade", "--help"], ["users", "create", "--help"],
                 ["jobs", "run", "--help"], ["demo", "seed", "--help"]):
        sub = invoke(app, args)
        assert sub.exit_code == 0 and "Usage" in sub.output, args


def test_users_create_makes_a_firm_user(app, session, make_firm):
    firm = make_firm(role="anchor")
    result = invoke(app, ["users", "create", "--role", "anchor", "--email", "erp@anchor.cn",
                          "--firm", firm.uscc],
                    env={"TRELLIS_NEW_USER_PASSWORD": "long password 1"})
    assert result.exit_code == 0, result.output
    user = session.exec(select(User).where(User.email == "erp@anchor.cn")).one()
    assert user.role == "anchor" and user.firm_id == firm.id


def test_users_create_refuses_bad_input_clearly(app):
    result = invoke(app, ["users", "create", "--role", "vendor", "--email", "v@x.cn"],
                    env={"TRELLIS_NEW_USER_PASSWORD": "long password 1"})
    assert result.exit_code != 0
    assert "必须隶属于一家企业" in result.output, result.output


def test_jobs_run_once_unknown_job(app):
    result = invoke(app, ["jobs", "run", "--once", "nope"])
    assert result.exit_code != 0 and "no job 'nope'" in result.output


def test_jobs_list(app):
    result = invoke(app, ["jobs", "list"])
    assert result.exit_code == 0 and "anchor_pending" in result.output


def test_demo_seed_prints_logins_and_scores_the_portfolio(app, session):
    from trellis.scoring.models import ScoreRecord

    result = invoke(app, ["demo", "seed", "--vendors", "40"])
    assert result.exit_code == 0, result.output
    for email in ("admin@trellis.demo", "admin2@trellis.demo", "rm@trellis.demo",
                  "vendor@trellis.demo", "anchor@trellis.demo", "auditor@trellis.demo"):
        assert email in result.output
    assert "trellis-demo-2026" in result.output
    # what the scoring core says is in the deployment's language (Chinese by default)
    assert "scoring: 截至" in result.output and "重新评分" in result.output, result.output
    assert session.exec(select(ScoreRecord)).first() is not None
