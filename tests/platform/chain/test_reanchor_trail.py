"""Issue 15: re-anchoring a root (chain_reanchors, shown to the auditor) is in the admin
audit trail too, in words: the chain core tells trellis.chain.events, the platform writes
the audit event in the same transaction (the core imports no accounts)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.platform.chain.test_pages import anchor_invoices
from tests.platform.conftest import login
from trellis.accounts.models import AuditEvent
from trellis.chain import client as chain_client
from trellis.chain import events, jobs
from trellis.chain.models import Batch, Reanchor
from trellis.db import transaction


def _lose_and_reanchor(app_settings, session_factory) -> Batch:
    with transaction(session_factory) as s:
        old = s.scalars(select(Batch).where(Batch.block_number.is_not(None))).one()
        s.expunge(old)
    chain_client.use_chain(app_settings, chain_client.Chain.embedded())   # restarted, empty
    jobs.anchor_pending(session_factory=session_factory, settings=app_settings)
    return old


def test_the_admin_reads_each_reanchoring_in_the_audit_trail(chain_app, session_factory,
                                                             make_firm, app_settings,
                                                             make_user):
    anchor_invoices(session_factory, make_firm, app_settings)
    old = _lose_and_reanchor(app_settings, session_factory)
    with transaction(session_factory) as s:
        (reanchor,) = s.scalars(select(Reanchor)).all()
        trail = {e.action: e for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["chain.root_lost", "chain.reanchored"])))}
        new = s.get(Batch, old.id)
        assert set(trail) == {"chain.root_lost", "chain.reanchored"}
        for e in trail.values():
            assert (e.record_type, e.record_id, e.actor_label) == ("chain_batch", str(old.id),
                                                                  "system")
            assert e.detail["reanchor_id"] == reanchor.id and e.detail["root"] == old.root
        assert trail["chain.root_lost"].detail["lost_block"] == old.block_number
        assert trail["chain.root_lost"].detail["lost_tx_hash"] == old.tx_hash
        assert trail["chain.reanchored"].detail["new_block"] == new.block_number
    client = chain_app.test_client()
    login(client, make_user("admin"))
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = {action: row for action, row in re.findall(
        r'data-action="(chain\.[a-z_]+)">.*?</td>(.*?)</tr>', page, re.S)}
    assert "发现已上链的根哈希不在链上，已将其重新排队上链" in page
    assert "已将链上丢失的根哈希重新上链" in page
    lost = rows["chain.root_lost"]
    assert f"批次 {old.id}" in lost and "原因：不在当前链上：内置测试链已重启" in lost, lost
    assert f"原上链区块：{old.block_number}" in lost
    assert f"现上链区块：{new.block_number}" in rows["chain.reanchored"]
    who = re.findall(r'<td data-label="[^"]*">([^<]*)</td><td data-label="[^"]*" '
                     r'title="chain\.[a-z_]+"', page)
    assert who == ["Trellis（系统自动）"] * 2, who


def test_the_core_tells_its_listeners_in_the_same_transaction(chain_app, session_factory,
                                                              make_firm, app_settings):
    heard: list[events.Event] = []
    events.listen("test", lambda session, event: heard.append(event))
    try:
        anchor_invoices(session_factory, make_firm, app_settings)
        old = _lose_and_reanchor(app_settings, session_factory)
    finally:
        events.forget("test")
    lost, back = heard
    assert isinstance(lost, events.RootLost) and isinstance(back, events.RootReanchored)
    assert lost.batch_id == back.batch_id == old.id and lost.root == old.root
    assert lost.block_number == old.block_number == back.old_block_number
    with transaction(session_factory) as s:
        assert s.get(Batch, old.id).block_number == back.block_number
