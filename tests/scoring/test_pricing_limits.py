"""Price = LPR + spread - confirmation discount, capped; limit = the smallest component."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from trellis.accounts.services import grant_consent
from trellis.errors import ValidationError
from trellis.scoring import limits, pricing, service
from trellis.scoring.errors import NoBaseRate, RateAboveCap
from trellis.scoring.models import BaseRate, LimitPolicy

SPREADS = {"A": 150, "B": 250, "C": 400, "D": 650, "E": 800}


@pytest.mark.parametrize("grade,confirmed,as_of,expected", [
    ("A", False, date(2026, 1, 5), "0.0450"),
    ("A", True, date(2026, 1, 5), "0.0400"),
    ("C", True, date(2026, 1, 5), "0.0650"),
    ("E", False, date(2026, 1, 5), "0.1100"),
    ("B", False, date(2025, 3, 1), "0.0560"),  # the LPR was 3.10% before 20 May 2025
])
def test_quote_rate(session, grade, confirmed, as_of, expected):
    rate = pricing.quote_rate(session=session, grade=grade, anchor_confirmed=confirmed,
                              spreads_bps=SPREADS, confirmed_discount_bps=50, as_of=as_of)
    assert rate == Decimal(expected)


def test_discount_never_prices_below_the_lpr(session):
    rate = pricing.quote_rate(session=session, grade="A", anchor_confirmed=True,
                              spreads_bps={"A": 20}, confirmed_discount_bps=100,
                              as_of=date(2026, 1, 5))
    assert rate == Decimal("0.0300")


@pytest.mark.parametrize("spread_bps,raises", [(900, False), (901, True), (2500, True)])
def test_never_above_the_legal_cap(session, spread_bps, raises):
    # cap = min(24%, 4 x 3.00%) = 12.00%
    assert pricing.legal_cap(session=session, as_of=date(2026, 1, 5)) == Decimal("0.1200")
    kw = dict(session=session, grade="E", anchor_confirmed=False, spreads_bps={"E": spread_bps},
              confirmed_discount_bps=0, as_of=date(2026, 1, 5))
    if raises:
        with pytest.raises(RateAboveCap) as err:
            pricing.quote_rate(**kw)
        assert "12.00%" in err.value.message
    else:
        assert pricing.quote_rate(**kw) == Decimal("0.1200")


def test_a_new_lpr_applies_from_its_date(session):
    session.add(BaseRate(tenor="1y", rate=Decimal("0.0280"), effective_from=date(2026, 2, 20)))
    session.flush()
    before = pricing.lpr(session=session, as_of=date(2026, 2, 19))
    after = pricing.lpr(session=session, as_of=date(2026, 2, 20))
    assert (before, after) == (Decimal("0.03"), Decimal("0.028"))
    with pytest.raises(NoBaseRate):
        pricing.lpr(session=session, as_of=date(2020, 1, 1))


def test_unknown_grade_is_a_validation_error(session):
    with pytest.raises(ValidationError):
        pricing.quote_rate(session=session, grade="Z", anchor_confirmed=False,
                           spreads_bps=SPREADS, confirmed_discount_bps=0, as_of=date(2026, 1, 5))


# --- limits ------------------------------------------------------------------------

AS_OF = date(2026, 1, 15)


@pytest.fixture
def scored(session, trade, make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    v = make_firm(cluster_id=cluster.id)
    # 100k on the 5th of each month to Jan 2026, confirmed, paid at 60 days: Dec and Jan open.
    trade.monthly_sales(v, anchor, start=date(2025, 1, 5), months=13, amount_fen=100_000_00,
                        paid_after=60, per_month=1)
    grant_consent(session=session, firm_id=v.id, purpose="trade_data")
    result = service.score_firm(session=session, firm_id=v.id, as_of=AS_OF)
    return v, result


def _policy(session, **kw):
    base = dict(effective_from=date(2025, 12, 1), advance_rate=Decimal("0.8"),
                inflow_multiple=Decimal("3"), inflow_months=6, vendor_cap_fen=10**12,
                anchor_cap_fen=10**12, cluster_cap_fen=10**12,
                grade_factors={g: "1" for g in "ABCDE"})
    base.update(kw)
    session.add(LimitPolicy(**base))
    session.flush()


@pytest.mark.parametrize("overrides,binding,expected_fen", [
    ({}, "receivables", int(0.8 * 2 * 100_000_00)),          # 2 open confirmed invoices
    ({"inflow_multiple": Decimal("1")}, "inflow", 100_000_00),  # 1 x monthly confirmed
    ({"vendor_cap_fen": 50_000_00}, "vendor_cap", 50_000_00),
    ({"cluster_cap_fen": 12_345_67}, "cluster_cap", 12_300_00),  # rounded down to 100 yuan
    ({"anchor_cap_fen": 30_000_00}, "receivables", 30_000_00),  # anchor cap bites per anchor
])
def test_limit_is_the_smallest_component(session, scored, overrides, binding, expected_fen):
    v, result = scored
    assert not result.insufficient
    _policy(session, **overrides)
    out = limits.explain_limit(session=session, firm_id=v.id, result=result, as_of=AS_OF)
    assert out["binding"] == binding
    assert out["limit_fen"] == expected_fen
    assert limits.credit_limit(session=session, firm_id=v.id, result=result,
                               as_of=AS_OF) == expected_fen


def test_grade_factor_zero_gives_no_limit(session, scored):
    v, result = scored
    _policy(session, grade_factors={g: "0" for g in "ABCDE"})
    assert limits.credit_limit(session=session, firm_id=v.id, result=result, as_of=AS_OF) == 0


def test_unscorable_firm_gets_no_limit(session, scored):
    v, result = scored
    result.insufficient, result.grade = True, None
    assert limits.credit_limit(session=session, firm_id=v.id, result=result, as_of=AS_OF) == 0


def test_the_limit_and_its_candidates_are_round_figures(session, scored):
    """Outside reading pages 7: the firm page showed the binding candidate as
    ¥2,376,000.29 beside a limit of ¥2,376,000.00. Each candidate is rounded down to
    whole 100 yuan like the limit, so the binding one is the limit's own figure."""
    from sqlmodel import select

    from trellis.trade.models import Invoice

    v, result = scored
    anchor_id = session.exec(select(Invoice.buyer_id).where(Invoice.seller_id == v.id)).first()
    session.add(Invoice(seller_id=v.id, buyer_id=anchor_id, number="ODD-1",
                        amount_fen=12_345_67, issue_date=date(2026, 1, 10),
                        due_date=date(2026, 3, 10), status="confirmed"))
    session.flush()
    _policy(session, inflow_multiple=Decimal("2.9"), vendor_cap_fen=10**12 + 1_23,
            cluster_cap_fen=10**12 + 99_99)
    out = limits.explain_limit(session=session, firm_id=v.id, result=result, as_of=AS_OF)
    # 0.8 x (2 x 100,000.00 + 12,345.67) = 169,876.536 yuan, down to 169,800
    assert out["binding"] == "receivables"
    assert out["components_fen"]["receivables"] == out["limit_fen"] == 169_800_00
    assert all(isinstance(f, int) and f % 100_00 == 0 for f in out["components_fen"].values())
    assert out["eligible_receivables_fen"] == 212_345_67   # the fact stays exact
