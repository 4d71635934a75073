"""The IRR solver and offer quotes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from trellis.ledger.apr import NoSolution, fee_for, npv, quote, rate_micro, xirr


def test_xirr_matches_excel_documentation_example():
    # Microsoft's XIRR documentation example shows 0.373362535 (Excel stops at 1e-8)
    flows = [(date(2008, 1, 1), -10000), (date(2008, 3, 1), 2750),
             (date(2008, 10, 30), 4250), (date(2009, 2, 15), 3250), (date(2009, 4, 1), 2750)]
    assert abs(xirr(flows) - Decimal("0.373362535")) < Decimal("1e-8")


@pytest.mark.parametrize("rate", ["0.01", "0.065", "0.24", "1.5", "-0.2"])
def test_xirr_recovers_a_known_rate(rate):
    r = Decimal(rate)
    start = date(2026, 1, 1)
    flows = [(start, Decimal(-1_000_000))]
    for days in (30, 95, 400):
        flows.append((start + timedelta(days=days),
                      Decimal(400_000) * (1 + r) ** (Decimal(days) / 365)))
    flows[0] = (start, -sum(Decimal(400_000) for _ in range(3)))
    found = xirr(flows)
    assert abs(found - r) < Decimal("1e-10")
    assert abs(npv(found, flows)) < Decimal("1e-6")


def test_order_of_flows_does_not_matter():
    flows = [(date(2026, 4, 1), 10_300), (date(2026, 1, 1), -10_000)]
    assert xirr(flows) == xirr(sorted(flows))


@pytest.mark.parametrize("flows", [
    [(date(2026, 1, 1), 100), (date(2026, 2, 1), 100)],
    [(date(2026, 1, 1), -100)],
])
def test_flows_without_a_sign_change_have_no_irr(flows):
    with pytest.raises(NoSolution):
        xirr(flows)


def test_one_year_bullet_irr_equals_its_simple_rate():
    flows = [(date(2025, 1, 1), -1_000_000), (date(2026, 1, 1), 1_065_000)]
    assert abs(xirr(flows) - Decimal("0.065")) < Decimal("1e-12")


@pytest.mark.parametrize("amount, bps, minimum, fee", [
    (1_000_000, 30, 0, 3_000), (1_000_000, 0, 5_000, 0), (100_000, 30, 500, 500),
    (333_333, 25, 0, 833),   # 833.3325 half up
    (333_334, 15, 0, 500),   # 500.001
])
def test_fee_for(amount, bps, minimum, fee):
    assert fee_for(amount, bps, minimum) == fee


@pytest.mark.parametrize("rate, micro", [("0.065", 65_000), ("0.0725", 72_500),
                                         ("0.1234565", 123_457)])
def test_rate_micro(rate, micro):
    assert rate_micro(Decimal(rate)) == micro


def test_quote_of_a_90_day_loan():
    q = quote(amount_fen=1_000_000, rate=Decimal("0.072"), fee_fen=3_000,
              start=date(2026, 1, 1), due=date(2026, 4, 1))
    # 90 days x 200 fen a day (1,000,000 x 7.2 % / 360)
    assert q.interest_fen == 18_000 and q.tenor_days == 90
    assert q.total_cost_fen == 21_000
    assert q.schedule[0]["total_fen"] == 1_021_000
    expected = (Decimal("1.021") ** (Decimal(365) / 90)) - 1
    assert abs(q.apr - expected) < Decimal("1e-8")
    # the fee shows in the annualised rate: well above the 7.2 % contract rate
    assert q.apr > Decimal("0.08")


def test_apr_of_a_fee_free_loan_is_close_to_its_rate():
    q = quote(amount_fen=1_000_000, rate=Decimal("0.05"), fee_fen=0,
              start=date(2026, 1, 1), due=date(2027, 1, 1), day_count=365)
    assert abs(q.apr - Decimal("0.05")) < Decimal("0.0001")
