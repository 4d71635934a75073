"""Loading a simulated cluster into the trade tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import func, select

from tests.meters import ensure_reading_tables
from trellis.demo.errors import ClusterExists, FirmExists
from trellis.demo.loader import cluster_counts, load
from trellis.trade.models import (
    Cluster,
    CreditNote,
    Delivery,
    Firm,
    Invoice,
    LoanOutcome,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)


@pytest.fixture
def loaded(session, small):
    counts = load(session=session, data=small, cluster_code="test-park",
                  cluster_name="测试产业园")
    cluster = session.exec(select(Cluster).where(Cluster.code == "test-park")).one()
    return cluster, counts


def test_counts_match_the_simulation(session, small, loaded):
    cluster, counts = loaded
    assert counts == {"clusters": 1, **small.counts()}
    assert cluster_counts(session=session, cluster_id=cluster.id) == small.counts()
    assert cluster.data_version == 1 and cluster.name == "测试产业园"


def test_every_invoice_links_firms_of_the_cluster(session, loaded):
    cluster, _ = loaded
    ids = set(session.exec(select(Firm.id).where(Firm.cluster_id == cluster.id)))
    pairs = session.exec(select(Invoice.seller_id, Invoice.buyer_id)
                         .where(Invoice.seller_id.in_(ids))).all()
    assert pairs and all(s in ids and b in ids and s != b for s, b in pairs)


@pytest.mark.parametrize("model,date_col", [
    (Invoice, Invoice.issue_date), (PurchaseOrder, PurchaseOrder.order_date),
    (Payment, Payment.paid_on), (CreditNote, CreditNote.issued_on),
    (LoanOutcome, LoanOutcome.disbursed_on), (Delivery, Delivery.delivered_on)])
def test_money_positive_and_dates_not_after_end(session, small, loaded, model, date_col):
    low, latest = session.exec(select(func.min(model.amount_fen), func.max(date_col))).one()
    assert low > 0 and isinstance(low, int)
    assert latest <= small.end


def test_firms_were_founded_and_began_trading_before_the_end(session, small, loaded):
    cluster, _ = loaded
    latest_founding = session.exec(select(func.max(Firm.founded_on))
                                   .where(Firm.cluster_id == cluster.id)).one()
    latest_since = session.exec(select(func.max(Relationship.since))).one()
    assert latest_founding <= small.end and latest_since <= small.end


def test_paid_amounts_match_allocations_in_the_database(session, loaded):
    allocated = Counter(dict(session.exec(
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_fen))
        .group_by(PaymentAllocation.invoice_id)).all()))
    paid = dict(session.exec(select(Invoice.id, Invoice.paid_fen)).all())
    assert any(paid.values())
    assert all(allocated[i] == p for i, p in paid.items())


def test_invoices_keep_their_orders(session, small, loaded):
    with_order = sum(1 for v in small.invoices if v["order_number"])
    linked = session.exec(select(func.count()).select_from(Invoice)
                          .where(Invoice.order_id.is_not(None))).one()
    assert linked == with_order
    mismatched = session.exec(
        select(func.count()).select_from(Invoice).join(PurchaseOrder,
                                                       Invoice.order_id == PurchaseOrder.id)
        .where(PurchaseOrder.buyer_id != Invoice.buyer_id)).one()
    assert mismatched == 0


def test_a_taken_cluster_code_is_refused(session, small, loaded):
    with pytest.raises(ClusterExists, match="test-park"):
        load(session=session, data=small, cluster_code="test-park", cluster_name="again")


def test_reloading_the_same_firms_under_another_code_is_refused(session, small, loaded):
    with pytest.raises(FirmExists):
        load(session=session, data=small, cluster_code="other-park", cluster_name="另一个")
    assert session.exec(select(Cluster).where(Cluster.code == "other-park")).first() is None


def test_meter_readings_are_loaded_where_the_tables_exist(session, small):
    import sqlalchemy as sa

    from trellis.trade import readings

    ensure_reading_tables(session)
    load(session=session, data=small, cluster_code="metered", cluster_name="计量园区")
    n_power = session.execute(sa.select(sa.func.count()).select_from(
        readings.UTILITY_READINGS)).scalar()
    n_heads = session.execute(sa.select(sa.func.count()).select_from(
        readings.HEADCOUNT_RECORDS)).scalar()
    assert n_power == len(small.utility_readings) > 0
    assert n_heads == len(small.headcount_records) > 0
