"""Queuing documents, and collecting trade documents by anti-join."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from trellis.chain import commitments
from trellis.chain.errors import DocumentChanged
from trellis.chain.models import Document
from trellis.clock import utcnow
from trellis.trade.models import Invoice, PurchaseOrder


@pytest.fixture
def trade(session, make_firm):
    anchor = make_firm(role="anchor")
    vendor = make_firm()

    def invoice(number, amount_fen=100_000, **kw):
        row = Invoice(seller_id=vendor.id, buyer_id=anchor.id, number=number,
                      amount_fen=amount_fen, issue_date=date(2026, 3, 1),
                      due_date=date(2026, 5, 1), **kw)
        session.add(row)
        session.flush()
        return row

    def order(number, amount_fen=200_000, **kw):
        row = PurchaseOrder(buyer_id=anchor.id, seller_id=vendor.id, number=number,
                            amount_fen=amount_fen, order_date=date(2026, 2, 1), **kw)
        session.add(row)
        session.flush()
        return row

    return anchor, vendor, invoice, order


def count(session, **where):
    query = select(func.count()).select_from(Document)
    for key, value in where.items():
        query = query.where(getattr(Document, key) == value)
    return session.execute(query).scalar_one()


def test_enqueue_is_idempotent_and_refuses_changed_content(session):
    a = commitments.enqueue(session=session, doc_type="ledger_entry", doc_id="J-1",
                            payload={"amount_fen": 100, "account": "1122"})
    b = commitments.enqueue(session=session, doc_type="ledger_entry", doc_id="J-1",
                            payload={"account": "1122", "amount_fen": 100})
    assert a.id == b.id and a.status == "queued"
    assert len(a.salt) == 64 and len(a.content_hash) == 64
    with pytest.raises(DocumentChanged, match="J-1"):
        commitments.enqueue(session=session, doc_type="ledger_entry", doc_id="J-1",
                            payload={"account": "1122", "amount_fen": 101})


def test_salts_differ_for_identical_content(session):
    docs = [commitments.enqueue(session=session, doc_type="voucher_event", doc_id=str(i),
                                payload={"kind": "issue"}) for i in range(2)]
    assert docs[0].content_hash == docs[1].content_hash
    assert docs[0].salt != docs[1].salt


def test_collect_commits_each_trade_document_once(session, trade):
    anchor, vendor, invoice, order = trade
    po = order("PO-1")
    inv = invoice("INV-1", order_id=po.id)
    invoice("INV-2", status="confirmed", confirmed_at=utcnow())
    counts = commitments.collect(session=session)
    assert counts == {"invoice": 2, "order": 1, "confirmation": 1}
    assert commitments.collect(session=session) == {}

    doc = session.scalars(select(Document).where(Document.doc_type == "invoice",
                                                 Document.source_id == inv.id)).one()
    body = json.loads(doc.canonical)
    assert (body["seller_uscc"], body["buyer_uscc"], body["order_number"]) == (
        vendor.uscc, anchor.uscc, "PO-1")
    # Confirming later produces a confirmation document on the next run.
    inv.status, inv.confirmed_at = "confirmed", utcnow()
    session.flush()
    assert commitments.collect(session=session) == {"confirmation": 1}
    conf = session.scalars(select(Document).where(Document.doc_id == f"invoice:{inv.id}")).one()
    assert json.loads(conf.canonical)["decision"] == "confirmed"


def test_collect_limit_and_queue_length(session, trade):
    *_, invoice, _order = trade
    for i in range(5):
        invoice(f"L-{i}")
    before = commitments.queue_length(session=session)
    assert commitments.collect(session=session, limit=3) == {"invoice": 3}
    assert commitments.collect(session=session) == {"invoice": 2}
    assert commitments.queue_length(session=session) == before + 5


def test_read_sources_rebuilds_the_same_bytes(session, trade):
    *_, invoice, _order = trade
    inv = invoice("R-1")
    commitments.collect(session=session)
    doc = session.scalars(select(Document).where(Document.doc_type == "invoice",
                                                 Document.source_id == inv.id)).one()
    again = commitments.read_sources(session=session, doc_type="invoice", table="invoices",
                                     ids=[inv.id])
    assert again[inv.id].decode() == doc.canonical
    inv.amount_fen += 1
    session.flush()
    changed = commitments.read_sources(session=session, doc_type="invoice",
                                       table="invoices", ids=[inv.id])
    assert changed[inv.id].decode() != doc.canonical
