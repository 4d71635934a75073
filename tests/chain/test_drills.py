"""Drills on a REAL anvil node for a misbehaving chain (issue 10): a node on another chain,
a node that is down, a send that fails, fees that climb, a chain that forgets, two
databases sharing one anchoring key."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import requests
from flask.cli import ScriptInfo
from sqlalchemy import select

from tests.chain.conftest import ANVIL_KEYS, deploy_registry, free_port
from trellis.chain import anchoring, client, commitments, jobs, registry
from trellis.chain.errors import ChainUnavailable
from trellis.chain.models import Batch, ChainTx
from trellis.db import transaction
from trellis.jobs import JobRun
from trellis.platform.cli import main
from trellis.trade.models import Invoice

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


# --- defect 4: a nonce gap after a failed send --------------------------------------------


def queue(session_factory, n, prefix):
    with transaction(session_factory) as s:
        for i in range(n):
            commitments.enqueue(session=s, doc_type="ledger_entry", doc_id=f"{prefix}-{i}",
                                payload={"amount_fen": 1 + i, "memo": prefix})


def all_batches(session_factory):
    with transaction(session_factory) as s:
        return list(s.scalars(select(Batch).order_by(Batch.id)))


@pytest.fixture
def invoice(session, make_firm):
    seller, buyer = make_firm(name="乙五金"), make_firm(role="anchor")

    def make(number="N-1"):
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number=number,
                      amount_fen=300_00, issue_date=date(2026, 4, 1),
                      due_date=date(2026, 7, 1))
        session.add(inv)
        session.flush()
        return inv

    return make


def pending(chain) -> int:
    return chain.w3.eth.get_transaction_count(chain.address, "pending")


def drop_one_send(chain):
    """The next eth_sendRawTransaction is lost on the way (the node never sees it)."""
    original = chain.w3.eth.send_raw_transaction
    calls = []

    def lossy(raw):
        if not calls:
            calls.append(raw)
            raise requests.ConnectionError("connection reset by a proxy")
        return original(raw)

    chain.w3.eth.send_raw_transaction = lossy
    return calls


def test_a_failed_registration_send_leaves_no_nonce_gap(session, session_factory,
                                                        anvil_settings, invoice):
    chain = client.get_chain(anvil_settings)
    before = pending(chain)
    inv = invoice("N-1")
    dropped = drop_one_send(chain)
    attempt = session.begin_nested()
    with pytest.raises(ChainUnavailable):
        registry.register_financing(session=session, settings=anvil_settings,
                                    invoice_ids=[inv.id])
    attempt.rollback()  # the caller's transaction is rolled back: no record of it
    assert dropped and pending(chain) == before
    queue(session_factory, 4, "G")
    jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
    (b,) = all_batches(session_factory)
    assert b.state == "included" and b.nonce == before
    registry.register_financing(session=session, settings=anvil_settings,
                                invoice_ids=[inv.id])
    assert pending(chain) == before + 2


def test_a_gap_in_front_of_a_recorded_transaction_is_filled(session_factory, anvil_settings):
    chain = client.get_chain(anvil_settings)
    queue(session_factory, 4, "H")
    gap = pending(chain)
    with transaction(session_factory) as s:
        batch = anchoring.cut_batch(session=s, settings=anvil_settings)
        fn = chain.contract.functions.anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                             bytes.fromhex(batch.manifest_hash[2:]))
        # Signed by an older process with a nonce one past a transaction that was lost.
        anchoring._record(s, batch, chain.sign(fn, nonce=gap + 1), chain)
    with transaction(session_factory) as s:
        assert anchoring.send(session=s, chain=chain, batch=s.get(Batch, batch.id))
    assert all_batches(session_factory)[0].state == "submitted"
    assert pending(chain) == gap  # the node keeps it waiting behind the gap
    outcome = jobs.track_confirmations(session_factory=session_factory,
                                       settings=anvil_settings)
    (b,) = all_batches(session_factory)
    assert b.state in ("included", "safe"), outcome
    assert pending(chain) == gap + 2
    with transaction(session_factory) as s:
        kinds = sorted((t.kind, t.nonce, t.state) for t in s.scalars(select(ChainTx)))
    assert kinds == [("anchor", gap + 1, "mined"), ("filler", gap, "sent")]


# --- defect 5: a fee ceiling ---------------------------------------------------------------


def test_replacements_stop_at_the_fee_ceiling_with_an_alert(session_factory, anvil_settings,
                                                            anvil, caplog):
    from decimal import Decimal

    from trellis.accounts.models import utcnow
    from trellis.chain import health

    today = client.Chain.connect(anvil_settings).fees()[0]  # no ceiling
    ceiling = Decimal(today * 13 // 10) / 10**9  # room for one bump of 25%, not two
    settings = dataclasses.replace(anvil_settings, chain_max_fee_gwei=ceiling)
    chain = client.get_chain(settings)
    later = utcnow().replace(year=utcnow().year + 1)
    anvil.rpc("evm_setAutomine", [False])
    try:
        queue(session_factory, 4, "F")
        jobs.anchor_pending(session_factory=session_factory, settings=settings)
        (b,) = all_batches(session_factory)
        assert b.state == "submitted"
        bumps = []
        for step in range(4):  # a year stuck each time: every look wants a replacement
            with transaction(session_factory) as s:
                new = anchoring.track(session=s, chain=chain, batch=s.get(Batch, b.id),
                                      settings=settings, head=chain.head(),
                                      now=later.replace(second=step))
            if new is None:
                break
            bumps.append(new.max_fee_per_gas)
            with transaction(session_factory) as s:
                anchoring.send(session=s, chain=chain, batch=s.get(Batch, b.id))
        assert 1 <= len(bumps) < 4
        with transaction(session_factory) as s:
            fees = list(s.scalars(select(ChainTx.max_fee_per_gas)))
        assert max(fees) <= ceiling * 10**9
        with caplog.at_level("ERROR", logger="trellis.chain"):
            jobs.track_confirmations(session_factory=session_factory, settings=settings)
        assert "fee ceiling reached" in caplog.text
        with transaction(session_factory) as s:
            report = health.status(settings, session=s)
        assert report["ok"] is False and "fee ceiling reached" in report["error"]
        assert [a["key"] for a in report["alerts"]] == ["fee_ceiling"]
        anvil.rpc("evm_mine")
        jobs.track_confirmations(session_factory=session_factory, settings=settings)
        assert all_batches(session_factory)[0].state == "included"
        with transaction(session_factory) as s:
            report = health.status(settings, session=s)
        assert report["ok"] is True and report["alerts"] == []
    finally:
        anvil.rpc("evm_setAutomine", [True])
