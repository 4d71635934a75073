"""End to end on a REAL anvil node (started by the fixtures from node_modules): anchoring,
a reorg, the node stopped and restarted mid-queue, a process killed between send and
record, a stuck transaction replaced, double financing refused, a tampered row caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import select, update

from tests.chain.conftest import ANVIL_KEYS, deploy_registry, make_settings
from trellis import clock, db, migrate
from trellis.chain import anchoring, audit, bundles, client, commitments, jobs, registry, verify
from trellis.chain.errors import ChainUnavailable, DoubleFinancing
from trellis.chain.models import Batch, ChainTx, Document
from trellis.clock import utcnow
from trellis.db import transaction
from trellis.trade.models import Invoice

pytestmark = pytest.mark.chain_node
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def queue(session_factory, n, prefix="A"):
    with transaction(session_factory) as s:
        for i in range(n):
            commitments.enqueue(session=s, doc_type="ledger_entry", doc_id=f"{prefix}-{i}",
                                payload={"amount_fen": 1 + i, "memo": prefix})


def all_batches(session_factory):
    with transaction(session_factory) as s:
        return list(s.scalars(select(Batch).order_by(Batch.id)))


def first_doc_bundle(session_factory, batch_id):
    with transaction(session_factory) as s:
        doc = s.scalars(select(Document).where(Document.batch_id == batch_id)).first()
        return bundles.make_bundle(session=s, document=doc)


def events(chain, root):
    return len(chain.contract.events.Anchored.get_logs(
        argument_filters={"root": bytes.fromhex(root[2:])}, from_block=0))


def test_anchoring_end_to_end_and_a_bundle_verified_by_the_node(session_factory,
                                                                 anvil_settings, tmp_path):
    queue(session_factory, 8)
    outcome = jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
    assert "cut 2 batches, sent 2" in outcome
    got = all_batches(session_factory)
    assert [b.state for b in got] == ["included", "included"]
    assert {b.chain_id for b in got} == {31337}
    path = tmp_path / "bundle.json"
    path.write_text(bundles.dumps(first_doc_bundle(session_factory, got[0].id)))
    lines: list[str] = []
    assert verify.run_cli(str(path), None, anvil_settings.chain_url, echo=lines.append,
                          contracts=[anvil_settings.chain_contract]) == 0
    assert lines[-1] == "VERIFIED"


def test_a_reorg_that_drops_the_anchoring_is_detected_and_healed(session_factory,
                                                                 anvil_settings, anvil):
    queue(session_factory, 4)
    jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
    (before,) = all_batches(session_factory)
    old_bundle = first_doc_bundle(session_factory, before.id)
    chain = client.get_chain(anvil_settings)
    anvil.rpc("anvil_reorg", [1, []])  # replace the last block, dropping our tx
    assert chain.anchored_at(before.root) == 0
    outcome = jobs.track_confirmations(session_factory=session_factory,
                                       settings=anvil_settings)
    assert "re-anchored 1" in outcome
    (after,) = all_batches(session_factory)
    assert after.state == "included" and after.anchor_count == 2
    assert chain.anchored_at(after.root) == after.block_number
    assert after.block_hash != before.block_hash
    assert events(chain, after.root) == 1
    from trellis.chain import trust

    trusted = trust.of_instance(chain)
    stale = verify.verify_bundle(old_bundle, rpc_url=anvil.url, trust=trusted)
    assert {s.name for s in stale.steps if s.ok is False} >= {"canonical_block"}
    fresh = verify.verify_bundle(first_doc_bundle(session_factory, after.id),
                                 rpc_url=anvil.url, trust=trusted)
    assert fresh.ok, fresh.as_dict()


def test_the_node_stopped_and_restarted_mid_queue(session_factory, anvil_factory):
    node = anvil_factory()
    address = deploy_registry(node.url)
    settings = make_settings(chain_url=node.url, chain_key=ANVIL_KEYS[0],
                             chain_contract=address)
    try:
        queue(session_factory, 4, "B")
        jobs.anchor_pending(session_factory=session_factory, settings=settings)
        node.stop()
        queue(session_factory, 6, "C")
        with pytest.raises(ChainUnavailable) as failed:
            jobs.anchor_pending(session_factory=session_factory, settings=settings)
        outcome = failed.value.message
        assert "does not answer" in outcome and "2 documents queued, 1 batches waiting" in outcome
        assert [b.state for b in all_batches(session_factory)] == ["included", "pending"]
        node.start()  # same port, chain state restored from --state
        jobs.anchor_pending(session_factory=session_factory,
                            settings=settings.__class__(**{**settings.__dict__,
                                                           "batch_max_wait_seconds": 0}))
        got = all_batches(session_factory)
        assert [b.state for b in got] == ["included"] * 3
        chain = client.get_chain(settings)
        assert all(chain.anchored_at(b.root) == b.block_number for b in got)
    finally:
        client.reset_chains()


CRASH_SCRIPT = r"""
import os, sys
from trellis import db
from trellis.chain import client, jobs
from tests.chain.conftest import make_settings
url, chain_url, key, contract, when = sys.argv[1:6]
original = client.Chain.send_raw
def send_raw(self, raw):
    if when == "before_send":
        os._exit(9)
    original(self, raw)
    os._exit(9)  # killed after sending, before recording "submitted"
client.Chain.send_raw = send_raw
settings = make_settings(chain_url=chain_url, chain_key=key, chain_contract=contract,
                         database_url=url)
factory = db.make_sessionmaker(db.make_engine(url))
jobs.anchor_pending(session_factory=factory, settings=settings)
"""


@pytest.mark.parametrize("when", ["before_send", "after_send"])
def test_a_process_killed_around_sending_anchors_exactly_once(anvil, tmp_path, when):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    migrate.upgrade(url)
    address = deploy_registry(anvil.url)
    factory = db.make_sessionmaker(db.make_engine(url))
    queue(factory, 4, "K")
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, url, anvil.url, ANVIL_KEYS[0],
                           address, when], cwd=ROOT_DIR, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 9, proc.stderr
    settings = make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[0],
                             chain_contract=address)
    chain = client.Chain.connect(settings)
    (crashed,) = all_batches(factory)
    assert crashed.state == "pending" and crashed.tx_hash  # recorded before sending
    assert bool(chain.anchored_at(crashed.root)) is (when == "after_send")
    try:
        jobs.anchor_pending(session_factory=factory, settings=settings)
        (b,) = all_batches(factory)
        assert b.state == "included" and b.tx_hash == crashed.tx_hash
        assert events(chain, b.root) == 1
        with transaction(factory) as s:
            assert list(s.scalars(select(ChainTx.state))) == ["mined"]
    finally:
        client.reset_chains()


def test_a_stuck_transaction_is_replaced_with_higher_fees(session_factory, anvil_settings,
                                                          anvil):
    anvil.rpc("evm_setAutomine", [False])
    try:
        queue(session_factory, 4, "S")
        jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
        (b,) = all_batches(session_factory)
        assert b.state == "submitted"
        chain = client.get_chain(anvil_settings)
        later = utcnow().replace(year=utcnow().year + 1)
        with transaction(session_factory) as s:
            batch = s.get(Batch, b.id)
            new_tx = anchoring.track(session=s, chain=chain, batch=batch,
                                     settings=anvil_settings, head=chain.head(), now=later)
            assert new_tx is not None and new_tx.nonce == b.nonce
            assert new_tx.max_fee_per_gas >= b.max_fee_per_gas * 5 // 4
        with transaction(session_factory) as s:
            assert anchoring.send(session=s, chain=chain, batch=s.get(Batch, b.id))
        anvil.rpc("evm_mine")
        jobs.track_confirmations(session_factory=session_factory, settings=anvil_settings)
        (after,) = all_batches(session_factory)
        assert after.state == "included" and after.tx_hash == new_tx.tx_hash
        with transaction(session_factory) as s:
            states = {t.tx_hash: t.state for t in s.scalars(select(ChainTx))}
        assert states == {b.tx_hash: "replaced", new_tx.tx_hash: "mined"}
    finally:
        anvil.rpc("evm_setAutomine", [True])


@pytest.mark.parametrize("stuck_seconds, replaced", [(60, True), (600, False)])
def test_the_stuck_timeout_is_a_setting(session_factory, anvil, stuck_seconds, replaced):
    import dataclasses
    from datetime import timedelta

    settings = make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[0],
                             chain_contract=deploy_registry(anvil.url))
    settings = dataclasses.replace(settings, chain_stuck_seconds=stuck_seconds)
    anvil.rpc("evm_setAutomine", [False])
    try:
        queue(session_factory, 4, "T")
        jobs.anchor_pending(session_factory=session_factory, settings=settings)
        (b,) = all_batches(session_factory)
        chain = client.get_chain(settings)
        two_minutes_later = utcnow() + timedelta(seconds=120)
        with transaction(session_factory) as s:
            new_tx = anchoring.track(session=s, chain=chain, batch=s.get(Batch, b.id),
                                     settings=settings, head=chain.head(),
                                     now=two_minutes_later)
        assert (new_tx is not None) is replaced
    finally:
        anvil.rpc("evm_mine")
        anvil.rpc("evm_setAutomine", [True])
        client.reset_chains()


def test_double_financing_across_two_financiers(session, anvil, make_firm):
    address = deploy_registry(anvil.url)
    bank_a = make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[0],
                           chain_contract=address)
    bank_b = make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[1],
                           chain_contract=address)
    owner = client.get_chain(bank_a)
    owner.wait(owner.send_raw(owner.sign(owner.contract.functions.addSubmitter(
        client.get_chain(bank_b).address)).raw))
    seller, buyer = make_firm(name="甲五金"), make_firm(role="anchor")
    inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number="D-1", amount_fen=500_00,
                  issue_date=date(2026, 3, 3), due_date=date(2026, 6, 3))
    session.add(inv)
    session.flush()
    bank_b_db = session.begin_nested()  # bank B keeps its own records, not in ours
    registry.register_financing(session=session, settings=bank_b, invoice_ids=[inv.id],
                                financed_by="bank-b")
    bank_b_db.rollback()
    try:
        with pytest.raises(DoubleFinancing) as err:
            registry.register_financing(session=session, settings=bank_a,
                                        invoice_ids=[inv.id])
        assert "invoice D-1" in err.value.message and "another financier" in err.value.message
    finally:
        client.reset_chains()


def test_the_audit_catches_a_tampered_row_against_the_node(session_factory, anvil_settings,
                                                           make_firm):
    with transaction(session_factory) as s:
        seller, buyer = make_firm(), make_firm(role="anchor")
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number="T-1",
                      amount_fen=700_00, issue_date=date(2026, 3, 4),
                      due_date=date(2026, 6, 4))
        s.add(inv)
        s.flush()
        inv_id = inv.id
    jobs.anchor_pending(session_factory=session_factory,
                        settings=anvil_settings.__class__(**{**anvil_settings.__dict__,
                                                             "batch_max_wait_seconds": 0}))
    chain = client.get_chain(anvil_settings)
    today = clock.today()
    with transaction(session_factory) as s:
        s.execute(update(Invoice).where(Invoice.id == inv_id).values(number="T-1-EDITED"))
    with transaction(session_factory) as s:
        report = audit.run_audit(session=s, date_from=today, date_to=today, chain=chain)
    kinds = [(d["kind"], d["doc_type"]) for d in report.discrepancies]
    assert ("source_changed", "invoice") in kinds
    assert "T-1-EDITED" in json.dumps(report.as_dict(), ensure_ascii=False)
