"""Grade hysteresis: a firm's published grade moves only when its score is clearly past
the edge of the grade's band.

A grade is read from the card's PD, and the bins of a points card have hard edges: on the
demo park one 0.1% change of a firm's sales crossed a bin's edge for 17 points, and two
¥2,000 invoices moved 3 of 225 graded firms across a grade (two ¥10,000 invoices moved 23).
A bank does not re-price a borrower or cut its limit for a move that small, and a vendor
told "B" on Monday and "C" on Tuesday for one small invoice stops trusting the grade. So
the grade published to the firm and used for prices and limits (``score_results.grade``)
keeps the firm's previous published grade while the new score stays within that grade's
band widened by the margin in force (:class:`~trellis.scoring.models.GradeHoldPolicy`,
5 points from 2020 on: an eighth of the 40 points that double the odds). The score and the
PD are the card's, unchanged; ``card_grade`` keeps the grade the PD alone gives, and
``grade_hold`` what the hold read (margin, earlier record, earlier grade), so
:func:`trellis.scoring.service.reproduce` gives the same published grade again.

No hold when there is nothing to hold to or holding would hide a fact:

- the firm's latest stored score (on its consent) has no grade, is a pre-assessment, or was
  made with another card version (a new card is a deliberate re-grade);
- a policy rule caps the grade (:mod:`trellis.scoring.policy`: a loan behind with Trellis
  is a fact, never held away);
- the new score is a pre-assessment or has no grade.

The band of a grade is ``[min_score, min_score of the next better grade)`` of the card
(:func:`trellis.scoring.scorecard.validate`); widened, ``[min - margin, next + margin)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.scoring.models import GradeHoldPolicy, ScoreRecord
from trellis.scoring.policy import RULES
from trellis.scoring.result import BASIS_CONSENT, ScoreResult

RULE_CODES = frozenset(rule.code for rule in RULES)

#: Without a policy row in force: no hold (the grade is the card's, as before).
NO_MARGIN = 0


@dataclass(frozen=True)
class Prior:
    """A firm's latest stored score: record *record_id*, its published *grade* (None: none)
    under card *version*, on *basis*."""

    record_id: int
    grade: str | None
    version: str
    basis: str


def margin(*, session: Session, on: date) -> int:
    """The hold margin in points in force on *on* (0 when no policy row is in force)."""
    row = session.execute(select(col(GradeHoldPolicy.margin_points)).where(
        col(GradeHoldPolicy.effective_from) <= on).order_by(
        col(GradeHoldPolicy.effective_from).desc()).limit(1)).scalars().first()
    return NO_MARGIN if row is None else int(row)


def band(spec: dict, grade: str) -> tuple[int | None, int | None]:
    """Grade *grade*'s scores on card *spec*: (lowest, below), None where open (E has no
    lowest score, A no highest)."""
    grades = spec["grades"]
    names = [g["grade"] for g in grades]
    i = names.index(grade)
    low = grades[i].get("min_score")
    high = grades[i - 1].get("min_score") if i > 0 else None
    return (None if low is None else int(low), None if high is None else int(high))


def held_grade(spec: dict, score: int, card_grade: str, prior_grade: str | None,
               margin_points: int) -> str:
    """The grade to publish: *prior_grade* while *score* is inside its band widened by
    *margin_points* on each side, else *card_grade* (the grade the card's PD gives)."""
    if prior_grade is None or prior_grade == card_grade or margin_points <= 0:
        return card_grade
    low, high = band(spec, prior_grade)
    inside = ((low is None or score >= low - margin_points)
              and (high is None or score < high + margin_points))
    return prior_grade if inside else card_grade


def priors(*, session: Session, firm_ids: Iterable[int]) -> dict[int, Prior]:
    """Firm id -> its latest stored score (by ``computed_at``, then id), of *firm_ids*."""
    wanted = sorted(set(int(f) for f in firm_ids))
    if not wanted:
        return {}
    out: dict[int, Prior] = {}
    for i in range(0, len(wanted), 900):   # SQLite's bound-parameter limit
        chunk = wanted[i:i + 900]
        ranked = select(
            col(ScoreRecord.firm_id), col(ScoreRecord.id), col(ScoreRecord.grade),
            col(ScoreRecord.scorecard_version), col(ScoreRecord.basis),
            func.row_number().over(partition_by=col(ScoreRecord.firm_id), order_by=(
                col(ScoreRecord.computed_at).desc(), col(ScoreRecord.id).desc())).label("n"),
        ).where(col(ScoreRecord.firm_id).in_(chunk)).subquery()
        for fid, rid, grade, version, basis in session.execute(
                select(ranked.c.firm_id, ranked.c.id, ranked.c.grade,
                       ranked.c.scorecard_version, ranked.c.basis).where(ranked.c.n == 1)):
            out[int(fid)] = Prior(int(rid), grade, str(version), basis or BASIS_CONSENT)
    return out


def capped(result: ScoreResult) -> bool:
    """Whether a policy rule capped the result's grade (its reason comes first)."""
    return bool(result.reasons) and result.reasons[0].code in RULE_CODES


def apply(results: Iterable[ScoreResult], spec: dict, prior: dict[int, Prior],
          margin_points: int) -> None:
    """Set each result's published grade (``grade``), keeping the card's in ``card_grade``
    and what was read in ``grade_hold`` (in place)."""
    for r in results:
        r.card_grade = r.grade
        r.grade_hold = None
        p = prior.get(r.firm_id)
        if (r.grade is None or r.score is None or r.basis != BASIS_CONSENT or p is None
                or p.grade is None or p.basis != BASIS_CONSENT
                or p.version != r.scorecard_version or capped(r)):
            continue
        r.grade_hold = {"margin": int(margin_points), "prior_id": p.record_id,
                        "prior_grade": p.grade}
        r.grade = held_grade(spec, int(r.score), r.grade, p.grade, margin_points)


def explain(spec: dict, result: ScoreResult) -> dict | None:
    """Why a held grade differs from the card's, for the pages (None when it does not):
    ``{"score", "grade", "card_grade", "low", "high", "margin"}``, *low*/*high* the held
    grade's own band (None where open)."""
    if (result.grade is None or result.card_grade is None or result.grade == result.card_grade
            or not result.grade_hold):
        return None
    low, high = band(spec, result.grade)
    return {"score": result.score, "grade": result.grade, "card_grade": result.card_grade,
            "low": low, "high": high, "margin": int(result.grade_hold.get("margin", 0))}
