"""The eleventh pass's features (trellis.scoring.dynamics): values checked by hand, loans
and rows after as_of left out, absence missing rather than zero, words for every one."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from trellis.scoring import dynamics, expert, features, frames

AS_OF = date(2026, 1, 15)
NAN = float("nan")


@pytest.fixture
def firms(make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    other = make_firm(role="anchor", cluster_id=cluster.id)
    vendor = make_firm(cluster_id=cluster.id)
    idle = make_firm(cluster_id=cluster.id)
    return cluster, anchor, other, vendor, idle


def _features(session, cluster, firm_ids=None):
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id, firm_ids=firm_ids)
    return features.compute(fr)


@pytest.mark.parametrize("row,least,expected", [
    ([3.0, 2.0, 1.0], 3, 0.5),            # latest first: rising by 1 a month, mean 2
    ([1.0, 2.0, 3.0], 3, -0.5),           # falling
    ([2.0, NAN, 2.0, 2.0], 3, 0.0),       # flat, a month without a record skipped
    ([3.0, NAN, 1.0], 3, NAN),            # too few records
    ([0.0, 0.0, 0.0], 3, NAN),            # a mean of 0
])
def test_slope_by_hand(row, least, expected):
    got = dynamics.slope(np.array([row]), least)[0]
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_momentum_orders_and_loans_by_hand(session, trade, firms):
    cluster, anchor, _, vendor, idle = firms
    # January to December 2025, 100k a month on the 5th (each order 10 days before): as of
    # 15 January 2026 the last sale is December's, one month back; month 0 has none.
    trade.monthly_sales(vendor, anchor, start=date(2025, 1, 5), months=12,
                        amount_fen=100_000_00)
    trade.outcome(vendor, date(2024, 6, 1), defaulted=True)
    trade.outcome(vendor, date(2025, 3, 1), defaulted=False)
    trade.outcome(vendor, date(2025, 9, 1), defaulted=True)  # not known by as_of: left out
    f = _features(session, cluster).loc[vendor.id]
    assert f["months_since_last_sale"] == 1
    assert f["sales_gap_months_12m"] == 1
    # orders: months 1 and 2 of the last 3, every month of the 6 before
    assert f["orders_trend_3v6"] == pytest.approx((2 / 3) / 1.0 - 1)
    assert f["orders_to_sales_3m"] == pytest.approx(1.0)
    assert f["past_loans"] == 2
    assert f["past_default_share"] == pytest.approx(0.5)
    assert f["months_since_last_default"] == pytest.approx(
        (date(2026, 1, 15) - date(2024, 6, 1)).days / dynamics.MONTH_DAYS)
    assert f["months_since_last_loan"] == pytest.approx(
        (date(2026, 1, 15) - date(2025, 3, 1)).days / dynamics.MONTH_DAYS)
    assert f["last_loan_to_sales_12m"] == pytest.approx(10_000_00 / (11 * 100_000_00))
    # a firm without sales, orders, payments, loans or readings: missing, never zero
    g = _features(session, cluster).loc[idle.id]
    for col in ("months_since_last_sale", "sales_gap_months_12m", "orders_trend_3v6",
                "orders_slope_12m", "past_default_share", "months_since_last_loan",
                "receivable_days", "payable_days", "inflow_trend_3v12", "power_slope_12m",
                "headcount_trend_2v6", "top_buyer_share_change", "lost_buyer_share_6m"):
        assert math.isnan(g[col]), col
    assert math.isnan(g["orders_to_sales_3m"])
    assert g["past_loans"] == 0


def test_losing_the_main_buyer(session, trade, firms):
    cluster, anchor, other, vendor, _ = firms
    # The anchor bought every month from January 2024 to June 2025 (100k); the other buys
    # 50k a month from July 2025.
    trade.monthly_sales(vendor, anchor, start=date(2024, 1, 5), months=18,
                        amount_fen=100_000_00)
    trade.monthly_sales(vendor, other, start=date(2025, 7, 5), months=7,
                        amount_fen=50_000_00)
    f = _features(session, cluster).loc[vendor.id]
    # months 4-15 back (15 Oct 2024 - 14 Oct 2025): the anchor 8 x 100k, the other 4 x 50k;
    # the last 3 months: the other only
    assert f["top_buyer_share_change"] == pytest.approx(0.0 - 800 / 1000)
    # months 7-18 back: the anchor 11 x 100k, the other once; the anchor bought nothing since
    assert f["lost_buyer_share_6m"] == pytest.approx(1100 / 1150)
    assert f["new_buyer_share_6m"] == pytest.approx(0.0)  # the other bought before too
    assert f["buyer_count_trend_6v6"] == pytest.approx(1 / 2 - 1)
    one = _features(session, cluster, firm_ids=[vendor.id]).loc[vendor.id]
    assert features.to_jsonable(one) == features.to_jsonable(f)


def test_every_column_is_computed_and_has_words():
    assert set(dynamics.REASONS) == set(dynamics.COLUMNS)
    reasons = expert.labels()
    for col in dynamics.COLUMNS:
        assert reasons[col]["zh"] and reasons[col]["en"], col
    # added, never altering the expert card: it reads none of them
    assert not {ch["name"] for ch in expert.CHARACTERISTICS} & set(dynamics.COLUMNS)


def test_an_order_dated_after_as_of_changes_nothing(session, trade, firms):
    from trellis.trade.models import PurchaseOrder

    cluster, anchor, _, vendor, _ = firms
    trade.monthly_sales(vendor, anchor, start=date(2025, 1, 5), months=12,
                        amount_fen=100_000_00)
    before = features.to_jsonable(_features(session, cluster).loc[vendor.id])
    session.add(PurchaseOrder(buyer_id=anchor.id, seller_id=vendor.id, number="PO-LATE",
                              amount_fen=900_000_00, order_date=AS_OF))
    session.flush()
    assert features.to_jsonable(_features(session, cluster).loc[vendor.id]) == before


def test_a_card_that_reads_no_dynamics_is_scored_without_them():
    """Issue 18: the portfolio computes the dynamics columns only for a card that reads
    one of them (the expert card reads none); a trained card naming one gets them."""
    from trellis.scoring import dynamics, expert, scorecard

    assert not scorecard.reads_any(expert.spec(), dynamics.COLUMNS)
    trained = {"model": {"features": ["sales_3m_fen", "orders_trend_3v6"]}}
    assert scorecard.reads_any(trained, dynamics.COLUMNS)


def test_reads_any_is_kept_per_card_version(monkeypatch):
    """Issue 15: the whole card was dumped on every scoring to answer reads_any; the answer
    is kept per card version (a version's document never changes), and a card without a
    version is read every time."""
    from trellis.scoring import dynamics, scorecard

    dumped = []
    real = scorecard.json.dumps

    def counting(obj, *a, **k):
        if isinstance(obj, dict):
            dumped.append(obj.get("version"))
        return real(obj, *a, **k)

    monkeypatch.setattr(scorecard.json, "dumps", counting)
    card = {"version": "test-kept-1", "model": {"features": ["orders_trend_3v6"]}}
    assert all(scorecard.reads_any(card, dynamics.COLUMNS) for _ in range(5))
    assert dumped == ["test-kept-1"]
    bare = {"model": {"features": ["own_late_days_12m"]}}
    assert not any(scorecard.reads_any(bare, dynamics.COLUMNS) for _ in range(3))
    assert dumped == ["test-kept-1", None, None, None]
