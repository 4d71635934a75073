"""Anchoring on the embedded chain: batches, confirmations, crashes, a restarted chain."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import func, select

from tests.chain.conftest import free_port, make_settings
from trellis.chain import anchoring, client, commitments, health, jobs, rpc
from trellis.chain.errors import ChainMisconfigured, ChainUnavailable
from trellis.chain.models import Batch, ChainTx, Document
from trellis.db import transaction


def queue(session_factory, n, prefix="E"):
    with transaction(session_factory) as s:
        return [commitments.enqueue(session=s, doc_type="ledger_entry",
                                    doc_id=f"{prefix}-{i}",
                                    payload={"amount_fen": 100 + i, "memo": prefix}).id
                for i in range(n)]


def batches(session_factory):
    with transaction(session_factory) as s:
        return list(s.scalars(select(Batch).order_by(Batch.id)))


def anchored_events(chain, root=None) -> int:
    args = {"root": bytes.fromhex(root[2:])} if root else {}
    return len(chain.contract.events.Anchored.get_logs(argument_filters=args, from_block=0))


def test_full_batches_are_cut_and_anchored_the_rest_waits(session_factory, embedded,
                                                          chain_settings):
    queue(session_factory, 9)
    outcome = jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    assert "cut 2 batches" in outcome and "1 documents queued" in outcome
    got = batches(session_factory)
    assert [b.state for b in got] == ["included", "included"]
    for b in got:
        assert embedded.anchored_at(b.root) == b.block_number
        assert b.block_hash == embedded.block_hash(b.block_number)
        assert b.gas_used > 21_000 and b.fee_wei == b.gas_used * b.effective_gas_price
        assert b.chain_id == embedded.chain_id and b.anchor_count == 1
    # The oldest has now waited long enough: a zero wait cuts the last one.
    settings = replace(chain_settings, batch_max_wait_seconds=0)
    jobs.anchor_pending(session_factory=session_factory, settings=settings)
    got = batches(session_factory)
    assert len(got) == 3 and got[2].leaf_count == 1 and got[2].state == "included"


def test_confirmations_reach_safe_then_finalized(session_factory, embedded, chain_settings):
    queue(session_factory, 4)
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    tester = embedded.w3.provider.ethereum_tester
    seen = []
    for _ in range(4):
        jobs.track_confirmations(session_factory=session_factory, settings=chain_settings)
        b = batches(session_factory)[0]
        seen.append((b.state, b.confirmations))
        tester.mine_blocks(1)
    assert seen == [("included", 1), ("safe", 2), ("safe", 3), ("finalized", 4)]


def test_documents_keep_queueing_while_the_node_is_down(session_factory, embedded,
                                                        chain_settings):
    down = make_settings(chain_url=f"http://127.0.0.1:{free_port()}",
                         chain_key="0x" + "11" * 32, chain_contract=embedded.contract_address)
    queue(session_factory, 5)
    with pytest.raises(ChainUnavailable) as failed:
        jobs.anchor_pending(session_factory=session_factory, settings=down)
    outcome = failed.value.message
    assert "does not answer" in outcome and "1 batches waiting" in outcome
    assert health.last_error(down)[0].startswith("The Ethereum node does not answer")
    # people read catalogued words; the library's text (requests') is only the detail,
    # which the log and the English message keep (issue 15)
    error = failed.value
    assert "Connection" not in error.template and "Connection" not in str(error.params["why"])
    assert "Connection" in error.params["detail"] and "Connection" in error.message
    assert error.params["why"].template == rpc.NODE_DOWN_TEXT
    assert [b.state for b in batches(session_factory)] == ["pending"]
    queue(session_factory, 3, prefix="F")  # still accepted
    # The node is back (here: the embedded chain): everything goes through.
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    assert [b.state for b in batches(session_factory)] == ["included", "included"]
    with transaction(session_factory) as s:
        queued = s.execute(select(func.count()).select_from(Document)
                           .where(Document.status == "queued")).scalar_one()
    assert queued == 0


@pytest.mark.parametrize("sent_before_crash", [False, True])
def test_crash_between_send_and_record_anchors_once(session_factory, embedded,
                                                    chain_settings, sent_before_crash):
    queue(session_factory, 4)
    with transaction(session_factory) as s:
        batch = anchoring.cut_batch(session=s, settings=chain_settings)
        tx = anchoring.prepare(session=s, chain=embedded, batch=batch)
        raw, root = tx.raw, batch.root
    if sent_before_crash:
        embedded.send_raw(raw)  # the process dies here, before recording "submitted"
    embedded.forget_nonce()  # a new process knows no nonces
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    (b,) = batches(session_factory)
    assert b.state == "included" and embedded.anchored_at(root) == b.block_number
    assert anchored_events(embedded, root) == 1
    with transaction(session_factory) as s:
        states = sorted(s.scalars(select(ChainTx.state).where(ChainTx.batch_id == b.id)))
    assert states == ["mined"]


def test_a_root_already_anchored_is_adopted_not_sent_again(session_factory, embedded,
                                                           chain_settings):
    queue(session_factory, 4)
    with transaction(session_factory) as s:
        batch = anchoring.cut_batch(session=s, settings=chain_settings)
        root, count, manifest = batch.root, batch.leaf_count, batch.manifest_hash
    # Anchored by us in a run whose record was lost entirely.
    fn = embedded.contract.functions.anchor(bytes.fromhex(root[2:]), count,
                                            bytes.fromhex(manifest[2:]))
    signed = embedded.sign(fn)
    embedded.send_raw(signed.raw)
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    (b,) = batches(session_factory)
    assert b.state == "included" and b.tx_hash == signed.tx_hash
    assert anchored_events(embedded, root) == 1


def test_a_restarted_embedded_chain_gets_its_batches_back(session_factory, embedded,
                                                          chain_settings, caplog):
    queue(session_factory, 8)
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    roots = [b.root for b in batches(session_factory)]
    fresh = client.Chain.embedded()  # the process restarted: a new, empty chain
    client.use_chain(chain_settings, fresh)
    assert [fresh.anchored_at(r) for r in roots] == [0, 0]
    with caplog.at_level(logging.WARNING, logger="trellis.chain"):
        outcome = jobs.anchor_pending(session_factory=session_factory,
                                      settings=chain_settings)
    assert "2 lost batches re-anchored" in outcome
    assert "are not on the embedded chain" in caplog.text
    got = batches(session_factory)
    assert [b.state for b in got] == ["included", "included"]
    assert all(fresh.anchored_at(b.root) == b.block_number for b in got)
    assert [b.anchor_count for b in got] == [2, 2]


def test_a_lost_root_is_recorded_with_its_old_and_new_anchoring(session_factory, embedded,
                                                                 chain_settings):
    """Issue 15, F20: re-anchoring a lost root was visible only as anchor_count 2; each
    one is now a Reanchor row: which batch, when and why it was lost, the transaction
    and block it had, and the new ones."""
    from trellis.chain.models import Reanchor
    from trellis.messages import Message

    queue(session_factory, 8)
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    before = {b.id: (b.tx_hash, b.block_number, b.root) for b in batches(session_factory)}
    fresh = client.Chain.embedded()  # the process restarted: a new, empty chain
    client.use_chain(chain_settings, fresh)
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    after = {b.id: (b.tx_hash, b.block_number) for b in batches(session_factory)}
    with transaction(session_factory) as s:
        events = anchoring.reanchors(session=s)
        assert len(events) == 2 and {e.batch_id for e in events} == set(before)
        for e in events:
            old_tx, old_block, root = before[e.batch_id]
            assert (e.root, e.old_tx_hash, e.old_block_number) == (root, old_tx, old_block)
            assert (e.new_tx_hash, e.new_block_number) == after[e.batch_id]
            assert e.new_chain_id == fresh.chain_id and e.reanchored_at is not None
            assert str(Message.loads(e.reason)) == \
                "not on this chain: the embedded chain restarted"
        assert s.scalar(select(func.count()).select_from(Reanchor)) == 2
        # a batch anchored once and never lost has no such record
        assert anchoring.reanchors(session=s, batch_id=max(before) + 1) == []


def test_wrong_chain_id_stops_anchoring_with_a_clear_message(session_factory, embedded,
                                                             chain_settings):
    embedded.expected_chain_id = 1
    queue(session_factory, 4)
    with pytest.raises(ChainMisconfigured) as failed:
        jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    assert "not TRELLIS_CHAIN_ID=1" in failed.value.message
    assert [b.state for b in batches(session_factory)] == ["pending"]
    with transaction(session_factory) as s:
        report = health.status(chain_settings, session=s)
    assert report["ok"] is False and "TRELLIS_CHAIN_ID=1" in report["error"]
    assert report["batches"] == {"pending": 1}


@pytest.mark.parametrize("address, message", [
    ("0x" + "12" * 20, "no contract at TRELLIS_CHAIN_CONTRACT"),
    (None, "TRELLIS_CHAIN_CONTRACT is not set"),
])
def test_a_missing_contract_stops_anchoring(session_factory, embedded, chain_settings,
                                            address, message):
    embedded.contract_address = address and to_checksum_address(address)
    queue(session_factory, 4)
    with pytest.raises(ChainMisconfigured) as failed:
        jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    assert message in failed.value.message
    assert health.status(chain_settings)["error"].startswith(message.split(" TRELLIS")[0])


def test_a_foreign_contract_is_refused(embedded):
    # Deploy some other code: a contract that only returns (the registry's code differs).
    tx = {"from": embedded.address, "nonce": embedded.next_nonce(), "gas": 100_000,
          "chainId": embedded.chain_id, "maxFeePerGas": 3 * 10**9,
          "maxPriorityFeePerGas": 10**9, "data": "0x600a600c600039600a6000f3602a60005260206000f3",
          "value": 0}
    receipt = embedded.wait(embedded.send_raw(embedded.resign(tx).raw))
    embedded.contract_address = receipt.contract_address
    with pytest.raises(ChainMisconfigured, match="not Trellis's registry"):
        embedded.check(force=True)


def test_signing_key_from_a_keystore(tmp_path):
    from eth_account import Account

    key = "0x" + "7" * 64
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(key, "s3cret")))
    good = make_settings(chain_url="http://127.0.0.1:1", chain_keystore=str(path),
                         chain_keystore_password="s3cret")
    assert client.load_account(good).address == Account.from_key(key).address
    bad = make_settings(chain_url="http://127.0.0.1:1", chain_keystore=str(path),
                        chain_keystore_password="wrong")
    with pytest.raises(ChainMisconfigured, match="keystore"):
        client.load_account(bad)
