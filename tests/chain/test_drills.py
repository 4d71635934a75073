"""Drills on a REAL anvil node for a misbehaving chain (issue 10): a node on another chain,
a node that is down, a send that fails, fees that climb, a chain that forgets, two
databases sharing one anchoring key."""

from __future__ import annotations

import dataclasses

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select

from tests.chain.conftest import ANVIL_KEYS, deploy_registry, free_port
from trellis.chain import client
from trellis.jobs import JobRun
from trellis.platform.cli import main

pytestmark = pytest.mark.chain_node


def cli(app, *args):
    runner = app.test_cli_runner()
    return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


@pytest.fixture
def make_app(app_settings, session_factory):
    from trellis.platform import create_app

    def make(**chain):
        settings = dataclasses.replace(app_settings, **chain)
        return create_app({"TESTING": True}, settings=settings,
                          session_factory=session_factory)

    yield make
    client.reset_chains()


def test_deploy_refuses_a_node_on_another_chain(make_app, anvil):
    app = make_app(chain_url=anvil.url, chain_key=ANVIL_KEYS[0], chain_id=1)
    head = int(anvil.rpc("eth_blockNumber"), 16)
    out = cli(app, "chain", "deploy")
    assert out.exit_code != 0
    assert "on chain 31337, not TRELLIS_CHAIN_ID=1" in out.output
    assert int(anvil.rpc("eth_blockNumber"), 16) == head  # nothing was deployed
    ok = cli(make_app(chain_url=anvil.url, chain_key=ANVIL_KEYS[0], chain_id=31337),
             "chain", "deploy")
    assert ok.exit_code == 0 and ok.output.startswith("0x")


@pytest.mark.parametrize("job", ["anchor_pending", "track_confirmations"])
@pytest.mark.parametrize("fault", ["node down", "wrong chain id"])
def test_chain_jobs_fail_when_the_chain_is_down_or_another(make_app, anvil, session, job,
                                                           fault):
    if fault == "node down":
        chain = {"chain_url": f"http://127.0.0.1:{free_port()}", "chain_key": ANVIL_KEYS[0],
                 "chain_contract": "0x" + "12" * 20}
        expected = "does not answer"
    else:
        chain = {"chain_url": anvil.url, "chain_key": ANVIL_KEYS[0], "chain_id": 1,
                 "chain_contract": deploy_registry(anvil.url)}
        expected = "not TRELLIS_CHAIN_ID=1"
    out = cli(make_app(**chain), "jobs", "run", "--once", job)
    assert out.exit_code == 1, out.output
    assert f"{job}: FAILED" in out.output and expected in out.output
    run = session.scalars(select(JobRun).where(JobRun.job_id == job)
                          .order_by(JobRun.id.desc())).first()
    assert run is not None and run.ok is False and expected in run.outcome
