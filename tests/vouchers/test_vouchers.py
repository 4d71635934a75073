"""Vouchers: issue against a confirmed payable, split, transfer down the chain; the parts
always sum to the whole, in code and in the database (both SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.chain.models import Document
from trellis.trade.models import DocStatus
from trellis.vouchers import services as vs
from trellis.vouchers.errors import (
    AlreadyIssued,
    BadSplit,
    NotASupplier,
    NotConfirmed,
    NotLive,
    TenorTooLong,
    VoucherNotFound,
)
from trellis.vouchers.models import FragmentStatus, VoucherEvent, VoucherFragment

TODAY = clock.today()


def _issue(session, chain, amount=1_000_000, months=3):
    inv = invoice(session, chain.tier1, chain.anchor, amount)
    return vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                    maturity_date=vs.add_months(TODAY, months), issued_on=TODAY)


def test_issue_gives_the_seller_the_whole_face_value_and_anchors_it(session, chain):
    voucher = _issue(session, chain, 1_234_500)
    (root,) = vs.fragments(session=session, voucher_id=voucher.id)
    assert (root.holder_id, root.amount_fen, root.status) == (chain.tier1.id, 1_234_500, "held")
    assert voucher.face_fen == 1_234_500
    event = session.exec(select(VoucherEvent).where(VoucherEvent.voucher_id == voucher.id)).one()
    doc = session.get(Document, event.document_id)
    assert doc.doc_type == "voucher_event" and '"event":"issue"' in doc.canonical
    assert chain.tier1.uscc in doc.canonical


@pytest.mark.parametrize("status, error", [(DocStatus.PENDING, NotConfirmed),
                                           (DocStatus.REJECTED, NotConfirmed)])
def test_only_a_confirmed_payable_can_be_issued(session, chain, status, error):
    inv = invoice(session, chain.tier1, chain.anchor, status=status)
    with pytest.raises(error):
        vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                 maturity_date=TODAY + timedelta(days=30), issued_on=TODAY)


def test_an_anchor_cannot_issue_another_firms_payable(session, chain):
    inv = invoice(session, chain.tier2, chain.tier1)  # owed by tier1, not the anchor
    with pytest.raises(VoucherNotFound):
        vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                 maturity_date=TODAY + timedelta(days=30), issued_on=TODAY)


def test_a_payable_is_issued_once(session, chain):
    voucher = _issue(session, chain)
    with pytest.raises(AlreadyIssued):
        vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=voucher.invoice_id,
                 maturity_date=TODAY + timedelta(days=30), issued_on=TODAY)


@pytest.mark.parametrize("policy_months, months, ok", [
    (6, 6, True), (6, 7, False), (12, 12, True), (3, 4, False), (1, 1, True)])
def test_tenor_is_limited_by_the_policy(session, chain, policy_months, months, ok):
    vs.set_max_tenor(session=session, months=policy_months)
    inv = invoice(session, chain.tier1, chain.anchor)
    maturity = vs.add_months(TODAY, months)
    if ok:
        voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                           maturity_date=maturity, issued_on=TODAY)
        assert voucher.maturity_date == maturity
    else:
        with pytest.raises(TenorTooLong):
            vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                     maturity_date=maturity, issued_on=TODAY)


@pytest.mark.parametrize("months", [0, 13, 24, -1])
def test_policy_never_allows_more_than_a_year(session, months):
    with pytest.raises(TenorTooLong):
        vs.set_max_tenor(session=session, months=months)


def test_database_refuses_a_tenor_over_a_year(session, chain):
    voucher = _issue(session, chain)
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(text("update vouchers set tenor_days = 400 where id = :id"),
                            {"id": voucher.id})


@pytest.mark.parametrize("amounts", [[600_000, 400_000], [1, 999_999],
                                     [250_000, 250_000, 250_000, 250_000]])
def test_split_parts_sum_to_the_whole(session, chain, amounts):
    voucher = _issue(session, chain)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    parts = vs.split(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                     amounts=amounts)
    assert [p.amount_fen for p in parts] == amounts
    assert all(p.holder_id == chain.tier1.id for p in parts)
    session.refresh(root)
    assert root.status == FragmentStatus.SPLIT
    assert vs.live_total(session=session, voucher_id=voucher.id) == voucher.face_fen


@pytest.mark.parametrize("amounts", [[600_000, 300_000], [600_000, 500_000], [1_000_000],
                                     [1_000_000, 0], [1_200_000, -200_000],
                                     [500_000.0, 500_000]])
def test_bad_splits_are_refused_and_change_nothing(session, chain, amounts):
    voucher = _issue(session, chain)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(BadSplit):
        vs.split(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                 amounts=amounts)
    assert len(vs.fragments(session=session, voucher_id=voucher.id)) == 1
    assert root.status == FragmentStatus.HELD


def test_only_the_holder_can_split_and_a_used_part_cannot_be_reused(session, chain):
    voucher = _issue(session, chain)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(VoucherNotFound):
        vs.split(session=session, holder_id=chain.tier2.id, fragment_id=root.id,
                 amounts=[500_000, 500_000])
    vs.split(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
             amounts=[500_000, 500_000])
    with pytest.raises(NotLive):
        vs.split(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                 amounts=[500_000, 500_000])


def test_transfer_down_three_tiers(session, chain):
    voucher = _issue(session, chain, 900_000)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    to_tier2, kept = vs.pay_supplier(session=session, holder_id=chain.tier1.id,
                                     fragment_id=root.id, to_firm_id=chain.tier2.id,
                                     amount_fen=300_000)
    assert (to_tier2.holder_id, to_tier2.amount_fen) == (chain.tier2.id, 300_000)
    assert (kept.holder_id, kept.amount_fen) == (chain.tier1.id, 600_000)
    to_tier3, none = vs.pay_supplier(session=session, holder_id=chain.tier2.id,
                                     fragment_id=to_tier2.id, to_firm_id=chain.tier3.id,
                                     amount_fen=300_000)
    assert none is None and to_tier3.holder_id == chain.tier3.id
    holders = {f.holder_id: f.amount_fen for f, _ in
               [*vs.holdings(session=session, firm_id=chain.tier1.id),
                *vs.holdings(session=session, firm_id=chain.tier3.id)]}
    assert holders == {chain.tier1.id: 600_000, chain.tier3.id: 300_000}
    assert vs.holdings(session=session, firm_id=chain.tier2.id) == []
    assert vs.live_total(session=session, voucher_id=voucher.id) == 900_000
    kinds = [e.kind for e in vs.events(session=session, voucher_id=voucher.id)]
    assert kinds == ["issue", "split", "transfer", "transfer"]
    docs = session.exec(select(Document).where(Document.doc_type == "voucher_event")).all()
    assert len({d.doc_id for d in docs}) >= 4


@pytest.mark.parametrize("target", ["anchor", "outsider", "tier3", "tier1"])
def test_transfer_only_to_own_suppliers(session, chain, target):
    voucher = _issue(session, chain)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(NotASupplier):
        vs.transfer(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                    to_firm_id=getattr(chain, target).id)
    assert root.status == FragmentStatus.HELD


def test_a_matured_voucher_can_no_longer_be_split(session, chain):
    voucher = _issue(session, chain, months=1)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(NotLive):
        vs.split(session=session, holder_id=chain.tier1.id, fragment_id=root.id,
                 amounts=[1, 999_999], as_of=voucher.maturity_date)


def test_voucher_visible_only_to_issuer_and_holders(session, chain):
    voucher = _issue(session, chain)
    for firm in (chain.anchor, chain.tier1):
        assert vs.get_voucher(session=session, voucher_id=voucher.id, firm_id=firm.id)
    with pytest.raises(VoucherNotFound):
        vs.get_voucher(session=session, voucher_id=voucher.id, firm_id=chain.outsider.id)


# --- the database enforces the balance, whatever the code does ----------------------------

def _raw_insert(session, voucher_id, parent_id, holder_id, amount):
    session.execute(text(
        "insert into voucher_fragments (voucher_id, parent_id, holder_id, amount_fen, status,"
        " created_at) values (:v, :p, :h, :a, 'held', CURRENT_TIMESTAMP)"),
        {"v": voucher_id, "p": parent_id, "h": holder_id, "a": amount})


DB_ERRORS = (IntegrityError, DBAPIError)


def test_database_refuses_parts_that_exceed_the_whole(session, chain):
    voucher = _issue(session, chain, 1_000)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(DB_ERRORS, match="exceed"):
        with session.begin_nested():
            _raw_insert(session, voucher.id, root.id, chain.tier1.id, 600)
            _raw_insert(session, voucher.id, root.id, chain.tier1.id, 600)


def test_database_refuses_closing_a_split_that_loses_money(session, chain):
    voucher = _issue(session, chain, 1_000)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    with pytest.raises(DB_ERRORS, match="sum"):
        with session.begin_nested():
            _raw_insert(session, voucher.id, root.id, chain.tier1.id, 400)
            session.execute(text("update voucher_fragments set status = 'split' where id = :i"),
                            {"i": root.id})


@pytest.mark.parametrize("sql, match", [
    ("update voucher_fragments set amount_fen = amount_fen + 1 where id = :i", "never change"),
    ("update voucher_fragments set holder_id = :o where id = :i", "never change"),
    ("delete from voucher_fragments where id = :i", "never deleted"),
    ("update voucher_fragments set status = 'settled' where id = :i", None),
])
def test_database_keeps_fragments_fixed(session, chain, sql, match):
    voucher = _issue(session, chain, 1_000)
    root = vs.fragments(session=session, voucher_id=voucher.id)[0]
    params = {"i": root.id, "o": chain.outsider.id}
    if match is None:  # a legal move from held: allowed
        with session.begin_nested():
            session.execute(text(sql), params)
        with pytest.raises(DB_ERRORS, match="illegal"):
            with session.begin_nested():
                session.execute(text("update voucher_fragments set status = 'held' "
                                     "where id = :i"), params)
        return
    with pytest.raises(DB_ERRORS, match=match):
        with session.begin_nested():
            session.execute(text(sql), params)


def test_database_refuses_a_second_root_or_a_wrong_face(session, chain):
    voucher = _issue(session, chain, 1_000)
    with pytest.raises(DB_ERRORS, match="root"):
        with session.begin_nested():
            _raw_insert(session, voucher.id, None, chain.tier1.id, 1_000)
    with pytest.raises(DB_ERRORS, match="root"):
        with session.begin_nested():
            _raw_insert(session, voucher.id, None, chain.tier1.id, 999)
    count = session.exec(select(VoucherFragment).where(
        VoucherFragment.voucher_id == voucher.id)).all()
    assert len(count) == 1
