"""A firm behind on its own Trellis loan: its grade is capped, its reason says why, a
flag names the loan and forces review (trellis.scoring.policy)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from tests.ledger import conftest as ledger_fixtures
from trellis.ledger import accrual
from trellis.scoring import expert, policy, scorecard, service

AS_OF = date(2026, 1, 15)
# the ledger tests' loan factory and strong vendor (grade A on its trade alone)
make_loan, product = ledger_fixtures.make_loan, ledger_fixtures.product


@pytest.fixture
def world(session, make_cluster, make_firm):
    return ledger_fixtures.World(session, make_cluster, make_firm)


def _strong_row(**extra) -> pd.DataFrame:
    """A firm the expert card grades A on its trade alone."""
    row = {"sales_trend_3v12": 0.0, "sales_drawdown_3m": 0.1, "sales_yoy_3m": 0.05,
           "active_share_12m": 1.0, "own_late_days_3m": 0.0, "buyer_late_days_12m": 0.0,
           "overdue_share_now": 0.0, "sales_cv_12m": 0.2, "top_buyer_share_12m": 0.5,
           "anchor_confirmed_share_12m": 0.9, "anchor_tenure_days": 1500,
           "credit_note_rate_12m": 0.0, "order_conversion_12m": 0.95, "debt_to_inflow": 0.5,
           "neighbours_defaulted_share": 0.0, "past_defaults": 0, "history_months": 36,
           "sales_12m_fen": 3_000_000_000, "headcount_trend_12m": 0.1,
           "power_trend_3v6_vs_peers": 0.1}
    return pd.DataFrame([{**row, **extra}], index=[7])


@pytest.mark.parametrize(("dpd", "written_off", "grade", "code"), [
    (0, 0, "A", None),
    (20, 0, "A", None),                       # 1-30 days: left to the card and collectors
    (31, 0, "D", "own_loan_overdue"),
    (40, 0, "D", "own_loan_overdue"),
    (90, 0, "D", "own_loan_overdue"),
    (91, 0, "E", "own_loan_in_default"),
    (0, 1, "E", "own_loan_written_off"),
    (45, 1, "E", "own_loan_written_off"),     # the most severe rule wins
])
def test_arrears_with_trellis_cap_the_grade(dpd, written_off, grade, code):
    spec = expert.spec()
    s = scorecard.apply(spec, _strong_row(own_loan_dpd_now=dpd,
                                          own_loans_written_off=written_off))
    assert s.grade.iloc[0] == grade
    reasons = scorecard.all_reasons(spec, s)[7]
    if code is None:
        assert s.policy.iloc[0] is None and all(r.code != "own_loan_overdue" for r in reasons)
        return
    first = reasons[0]
    assert first.code == code and first.points_lost > 0
    assert (str(dpd) in first.en and str(dpd) in first.zh) if code != "own_loan_written_off" \
        else ("wrote off" in first.en and "核销" in first.zh)
    # one consistent triple: the best score of the capped grade, its PD inside the band
    cap = {g["grade"]: g for g in spec["grades"]}
    above = spec["grades"][[g["grade"] for g in spec["grades"]].index(grade) - 1]
    assert s.score.iloc[0] == above["min_score"] - 1
    assert above["max_pd"] < s.pd.iloc[0] <= cap[grade]["max_pd"]
    assert scorecard.reasons(spec, s.points.iloc[0], s.bins.iloc[0],
                             ruled=s.policy.iloc[0]) == reasons


def test_a_firm_the_card_grades_lower_keeps_its_grade():
    spec = expert.spec()
    weak = _strong_row(sales_trend_3v12=-0.5, sales_drawdown_3m=0.7, sales_yoy_3m=-0.7,
                       active_share_12m=0.4, own_late_days_3m=40, past_defaults=2)
    before = scorecard.apply(spec, weak)
    after = scorecard.apply(spec, weak.assign(own_loan_dpd_now=40))
    assert before.grade.iloc[0] == after.grade.iloc[0] == "E"
    assert after.score.iloc[0] == before.score.iloc[0]
    assert scorecard.all_reasons(spec, after)[7][0].code == "own_loan_overdue"


def test_a_strong_vendor_40_days_overdue_is_not_graded_a_or_b(session, world, make_loan):
    good = service.score_firm(session=session, firm_id=world.vendor.id, as_of=AS_OF)
    assert good.grade in ("A", "B") and not good.flags
    loan = make_loan(firm=world.vendor, amount_fen=50_000_00, disburse=date(2025, 9, 1),
                     due_date=AS_OF - timedelta(days=40))
    accrual.mark_overdue(session=session, as_of=AS_OF)
    r = service.score_firm(session=session, firm_id=world.vendor.id, as_of=AS_OF)
    assert r.grade not in ("A", "B") and r.grade == "D"
    assert r.reasons[0].code == "own_loan_overdue"
    assert "40 days past due" in r.reasons[0].en and "逾期 40 天" in r.reasons[0].zh
    flag = next(f for f in r.flags if f.code == policy.FLAG_CODE)
    assert f"#{loan.id}" in flag.en and f"#{loan.id}" in flag.zh
    assert flag.evidence == {"loans": [loan.id], "days_past_due": [40]}
    assert r.needs_review and r.features["own_loan_dpd_now"] == 40
    again = service.reproduce(session=session, record_id=r.record_id)
    assert (again.score, again.pd, again.grade, again.reasons) == (r.score, r.pd, r.grade,
                                                                   r.reasons)


def test_a_loan_not_yet_due_or_repaid_changes_nothing(session, world, make_loan):
    good = service.score_firm(session=session, firm_id=world.vendor.id, as_of=AS_OF)
    make_loan(firm=world.vendor, amount_fen=50_000_00, disburse=date(2025, 12, 1),
              due_date=AS_OF + timedelta(days=30))
    r = service.score_firm(session=session, firm_id=world.vendor.id, as_of=AS_OF)
    assert (r.grade, r.flags) == (good.grade, [])
    assert r.features["own_loan_dpd_now"] == 0 and r.features["own_loans_written_off"] == 0
