"""Issue 14 (card13): a published grade moves only when the score is past the edge of the
grade's band by the margin in force (trellis.scoring.grade_hold); the hold is recorded,
reproduced and explained; a policy cap, a new card or a pre-assessment is never held."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from trellis.scoring import expert, grade_hold, service
from trellis.scoring.models import GradeHoldPolicy, ScoreRecord
from trellis.scoring.result import Reason, ScoreResult

SPEC = expert.spec()
MIN = {g["grade"]: g["min_score"] for g in SPEC["grades"]}   # A 773 ... D 634, E None
AS_OF = date(2026, 1, 15)


@pytest.mark.parametrize("score, card, prior, margin, published", [
    # B runs from MIN["B"] to MIN["A"] - 1; held within 5 points either side
    (MIN["B"] - 1, "C", "B", 5, "B"),
    (MIN["B"] - 5, "C", "B", 5, "B"),
    (MIN["B"] - 6, "C", "B", 5, "C"),          # past the edge by more than the margin
    (MIN["A"] + 4, "A", "B", 5, "B"),
    (MIN["A"] + 5, "A", "B", 5, "A"),
    (MIN["B"] - 1, "C", "B", 0, "C"),          # no margin: the card's grade
    (MIN["B"] - 1, "C", None, 5, "C"),         # nothing to hold to
    (MIN["D"] - 3, "E", "D", 5, "D"),
    (MIN["C"] - 40, "E", "B", 5, "E"),         # two grades down: never held
    (MIN["D"] + 2, "D", "E", 5, "E"),          # E has no lower edge: held up to D's + 5
    (MIN["D"] + 5, "D", "E", 5, "D"),
])
def test_the_published_grade_moves_only_past_the_margin(score, card, prior, margin, published):
    assert grade_hold.held_grade(SPEC, score, card, prior, margin) == published


def result(grade="C", score=MIN["B"] - 2, basis="consent", version=expert.VERSION,
           reasons=()):
    return ScoreResult(firm_id=1, as_of=AS_OF, score=score, pd=None, grade=grade,
                       insufficient=False, insufficient_reasons=[], reasons=list(reasons),
                       flags=[], scorecard_version=version, features={}, basis=basis)


@pytest.mark.parametrize("prior, r, held", [
    (grade_hold.Prior(7, "B", expert.VERSION, "consent"), result(), True),
    (grade_hold.Prior(7, "B", "expert-2000.01", "consent"), result(), False),   # new card
    (grade_hold.Prior(7, "B", expert.VERSION, "pre_assessment"), result(), False),
    (grade_hold.Prior(7, None, expert.VERSION, "consent"), result(), False),      # no grade
    (grade_hold.Prior(7, "B", expert.VERSION, "consent"), result(basis="pre_assessment"),
     False),
    # a loan behind with Trellis is a fact: a policy cap is never held away
    (grade_hold.Prior(7, "B", expert.VERSION, "consent"),
     result(reasons=[Reason("own_loan_overdue", "late", "逾期", 3)]), False),
])
def test_what_is_held_and_what_never_is(prior, r, held):
    grade_hold.apply([r], SPEC, {1: prior}, 5)
    assert r.card_grade == "C"
    assert (r.grade, r.held) == (("B", True) if held else ("C", False))
    if held:
        assert r.grade_hold == {"margin": 5, "prior_id": 7, "prior_grade": "B"}
        assert grade_hold.explain(SPEC, r) == {"score": MIN["B"] - 2, "grade": "B",
                                               "card_grade": "C", "low": MIN["B"],
                                               "high": MIN["A"], "margin": 5}
    else:
        assert grade_hold.explain(SPEC, r) is None


@pytest.fixture
def firm(session, trade, make_cluster, make_firm):
    from trellis.accounts.services import grant_consent

    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vendor = make_firm(cluster_id=cluster.id)
    trade.monthly_sales(vendor, anchor, start=date(2024, 12, 5), months=14,
                        amount_fen=200_000_00, paid_after=60, per_month=2)
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    return vendor


def neighbour(grade: str) -> str:
    return "B" if grade != "B" else "C"


def test_a_held_grade_is_stored_reproduced_and_priced_from(session, firm):
    assert grade_hold.margin(session=session, on=AS_OF) == 5   # the migration's setting
    first = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF)
    assert first.grade == first.card_grade and first.grade_hold is None
    # the firm's published grade was a neighbour one, and the margin is wide enough
    # (100 points) for this score to stay inside the neighbour's widened band
    rec = session.get(ScoreRecord, first.record_id)
    rec.grade = neighbour(first.grade)
    session.add(GradeHoldPolicy(effective_from=date(2025, 6, 1), margin_points=100,
                                source="test"))
    session.flush()
    again = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF)
    assert (again.score, again.card_grade) == (first.score, first.grade)
    assert again.grade == rec.grade and again.held
    assert again.grade_hold == {"margin": 100, "prior_id": rec.id, "prior_grade": rec.grade}
    stored = session.get(ScoreRecord, again.record_id)
    assert (stored.grade, stored.card_grade, stored.grade_hold) == (
        again.grade, again.card_grade, again.grade_hold)
    assert service.reproduce(session=session, record_id=again.record_id).grade == again.grade
    assert service.latest(session=session, firm_id=firm.id).grade == again.grade


def test_without_margin_the_card_grade_is_published(session, firm):
    first = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF)
    rec = session.get(ScoreRecord, first.record_id)
    rec.grade = neighbour(first.grade)
    session.add(GradeHoldPolicy(effective_from=date(2025, 6, 1), margin_points=0,
                                source="test"))
    session.flush()
    again = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF)
    assert again.grade == again.card_grade == first.grade and not again.held


def test_the_portfolio_holds_as_one_firm_does(session, firm):
    first = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF)
    rec = session.get(ScoreRecord, first.record_id)
    rec.grade = neighbour(first.grade)
    session.add(GradeHoldPolicy(effective_from=date(2025, 6, 1), margin_points=100,
                                source="test"))
    session.flush()
    results, _ = service.score_portfolio(session=session, as_of=AS_OF,
                                         cluster_id=firm.cluster_id)
    mine = next(r for r in results if r.firm_id == firm.id)
    assert (mine.grade, mine.card_grade) == (rec.grade, first.grade)
    stored = session.execute(select(ScoreRecord).where(
        ScoreRecord.firm_id == firm.id).order_by(ScoreRecord.id.desc())).scalars().first()
    assert stored.grade == rec.grade and stored.grade_hold["prior_id"] == rec.id
