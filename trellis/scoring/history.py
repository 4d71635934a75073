"""A firm's past scores, its grade changes, and why a grade moved.

Every score computed is stored (``score_results``: the firm page reads the latest with a
row-number window or a per-firm look-up); this module reads the rest of them:

- :func:`history`: a firm's stored scores, newest first (when, the scoring date, grade,
  score, PD, card version, basis, and the card's own grade where the published one was
  held: :mod:`trellis.scoring.grade_hold`), columns only, by the (firm, computed_at) index;
- :func:`shown_once`: those rows with a score repeated within a minute kept once;
- :func:`grade_steps`: the same rows reduced to the moves of the grade, for a short
  history (the vendor's own page);
- :func:`recent_changes`: for the notification job, each graded score computed since a
  time whose grade differs from the firm's graded score before it;
- :func:`moved_most`: the characteristics whose points moved most between two stored
  scores, each under its own card version: what a firm is told the grade moved on.

Only scores on the firm's consent count as its grade here; a pre-assessment (the park's
data basis, never a credit decision) and a score without a grade (insufficient data) are
in the history but are no step of the grade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.scoring import scorecard
from trellis.scoring.models import Scorecard, ScoreRecord
from trellis.scoring.result import BASIS_CONSENT

#: Rows of a firm's history on the risk page.
HISTORY_ROWS = 30
#: Grade moves on the vendor's own page.
SHORT_STEPS = 5
#: Characteristics named as the reasons a grade moved.
TOP_MOVED = 3


@dataclass(frozen=True)
class Past:
    """One stored score of a firm. *pd* is a fraction (0.0123 for 1.23%); *grade* and
    *score* are None when the data did not suffice."""

    record_id: int
    computed_at: datetime
    as_of: date
    grade: str | None
    score: int | None
    pd: Decimal | None
    scorecard_version: str
    basis: str
    # the card's own grade, when the published *grade* was held against it (grade_hold)
    card_grade: str | None = None

    @property
    def held(self) -> bool:
        """The published grade was held inside its band against the card's own grade."""
        return self.card_grade is not None and self.grade is not None \
            and self.card_grade != self.grade

    @property
    def counts(self) -> bool:
        """A grade on the firm's consent: a step of its grade (not a pre-assessment)."""
        return self.grade is not None and self.basis == BASIS_CONSENT


def history(*, session: Session, firm_id: int, limit: int = HISTORY_ROWS) -> list[Past]:
    """The firm's last *limit* stored scores, newest first (by ``computed_at``, then id)."""
    rows = (
        session.execute(
            select(
                col(ScoreRecord.id),
                col(ScoreRecord.computed_at),
                col(ScoreRecord.as_of),
                col(ScoreRecord.grade),
                col(ScoreRecord.score),
                col(ScoreRecord.pd),
                col(ScoreRecord.scorecard_version),
                col(ScoreRecord.basis),
                col(ScoreRecord.card_grade),
            )
            .where(col(ScoreRecord.firm_id) == firm_id)
            .order_by(col(ScoreRecord.computed_at).desc(), col(ScoreRecord.id).desc())
            .limit(limit)
        )
        .tuples()
        .all()
    )
    return [
        Past(
            int(i),
            at,
            as_of,
            grade,
            score,
            None if p is None else Decimal(str(p)).quantize(Decimal("0.000001")),
            version,
            basis or BASIS_CONSENT,
            card,
        )
        for i, at, as_of, grade, score, p, version, basis, card in rows
    ]


def _same_result(a: Past, b: Past) -> bool:
    return (a.computed_at.replace(second=0, microsecond=0)
            == b.computed_at.replace(second=0, microsecond=0)
            and (a.as_of, a.grade, a.score, a.pd, a.scorecard_version, a.basis, a.card_grade)
            == (b.as_of, b.grade, b.score, b.pd, b.scorecard_version, b.basis, b.card_grade))


def shown_once(rows: list[Past]) -> list[Past]:
    """*rows* (newest first, as :func:`history` gives them) with a score repeated within
    the same minute, identical in all a reader sees (scoring date, grade, score, PD, card,
    basis), kept once: the first of them, the one a grade step names. Two scorings of one
    firm a moment apart (the queued first scoring and a "score now") read as one score
    listed twice (reader 13, J9)."""
    out: list[Past] = []
    for row in reversed(rows):
        if not (out and _same_result(out[-1], row)):
            out.append(row)
    return out[::-1]


@dataclass(frozen=True)
class Step:
    """The grade of the firm from *at* on: *before* is the grade it replaced (None: the
    first grade in the rows read)."""

    record_id: int
    at: datetime
    as_of: date
    before: str | None
    grade: str
    score: int | None

    @property
    def direction(self) -> int:
        """+1 a better grade (B -> A), -1 a worse one, 0 the first or the same."""
        if self.before is None or self.before == self.grade:
            return 0
        return 1 if self.grade < self.before else -1


def grade_steps(rows: Iterable[Past], limit: int = SHORT_STEPS) -> list[Step]:
    """The moves of the grade in *rows* (newest first, as :func:`history` gives them),
    newest first, at most *limit*: the first grade read, then each score whose grade
    differs from the counted score before it. Only scores that count (:attr:`Past.counts`)."""
    counted = [r for r in rows if r.counts]
    steps: list[Step] = []
    before: str | None = None
    for r in reversed(counted):
        if r.grade != before:
            steps.append(Step(r.record_id, r.computed_at, r.as_of, before, str(r.grade), r.score))
            before = r.grade
    return steps[::-1][:limit]


@dataclass(frozen=True)
class Change:
    """A firm's grade moved from *old_grade* (score record *old_id*) to *new_grade*
    (record *new_id*, computed at *at*)."""

    firm_id: int
    new_id: int
    old_id: int
    old_grade: str
    new_grade: str
    at: datetime

    @property
    def worse(self) -> bool:
        """The new grade is worse (A is best, E worst)."""
        return self.new_grade > self.old_grade


def recent_changes(
    *, session: Session, since: datetime, firm_ids: Iterable[int] | None = None
) -> list[Change]:
    """Each counted score computed at *since* or later (of *firm_ids* when given) whose
    grade differs from the same firm's counted score before it, oldest first. Reads
    columns only: the firms scored since *since*, then their counted scores' grades in
    order (a lag window), not the stored features."""
    recent = (
        select(col(ScoreRecord.firm_id))
        .distinct()
        .where(col(ScoreRecord.computed_at) >= since, col(ScoreRecord.grade).is_not(None))
    )
    if firm_ids is not None:
        wanted = sorted(set(firm_ids))
        if not wanted:
            return []
        recent = recent.where(col(ScoreRecord.firm_id).in_(wanted))
    order = (col(ScoreRecord.computed_at), col(ScoreRecord.id))
    ranked = (
        select(
            col(ScoreRecord.id),
            col(ScoreRecord.firm_id),
            col(ScoreRecord.grade),
            col(ScoreRecord.computed_at),
            func.lag(col(ScoreRecord.grade))
            .over(partition_by=col(ScoreRecord.firm_id), order_by=order)
            .label("old_grade"),
            func.lag(col(ScoreRecord.id))
            .over(partition_by=col(ScoreRecord.firm_id), order_by=order)
            .label("old_id"),
        )
        .where(
            col(ScoreRecord.firm_id).in_(recent),
            col(ScoreRecord.grade).is_not(None),
            col(ScoreRecord.basis) == BASIS_CONSENT,
        )
        .subquery()
    )
    rows = (
        session.execute(
            select(
                ranked.c.firm_id,
                ranked.c.id,
                ranked.c.old_id,
                ranked.c.old_grade,
                ranked.c.grade,
                ranked.c.computed_at,
            )
            .where(
                ranked.c.computed_at >= since,
                ranked.c.old_grade.is_not(None),
                ranked.c.old_grade != ranked.c.grade,
            )
            .order_by(ranked.c.computed_at, ranked.c.id)
        )
        .tuples()
        .all()
    )
    return [
        Change(int(f), int(new), int(old), str(og), str(ng), at) for f, new, old, og, ng, at in rows
    ]


@dataclass(frozen=True)
class Moved:
    """A characteristic whose points moved between two scores: *before* and *after* in
    points (each under its own card), with its label in both languages."""

    name: str
    label_en: str
    label_zh: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        """Points gained (positive) or lost (negative)."""
        return self.after - self.before


def _labels(spec: dict) -> dict[str, tuple[str, str]]:
    """Name -> (en, zh) label: a points card's characteristics, a model card's labels."""
    out = {
        c["name"]: (
            c.get("label_en") or c["name"],
            c.get("label_zh") or c.get("label_en") or c["name"],
        )
        for c in spec.get("characteristics", [])
    }
    for name, lab in ((spec.get("model") or {}).get("labels") or {}).items():
        if isinstance(lab, dict) and lab.get("en"):
            out.setdefault(name, (str(lab["en"]), str(lab.get("zh") or lab["en"])))
    return out


def _points(spec: dict, features: dict, firm_id: int) -> dict[str, int]:
    X = pd.DataFrame(
        [{k: (float("nan") if v is None else v) for k, v in features.items()}], index=[firm_id]
    )
    s = scorecard.apply(spec, X)
    return {str(k): int(round(float(v))) for k, v in s.points.iloc[0].items()}


def moved_most(
    *, session: Session, old_id: int, new_id: int, k: int = TOP_MOVED, worse: bool | None = None
) -> tuple[list[Moved], tuple[str, str] | None]:
    """The *k* characteristics whose points moved most from score record *old_id* to
    *new_id*, largest move first: only losses when *worse* is True, only gains when False
    (None: either way, by size). Each record is scored from its stored features with its
    own card version. Also the two versions when the card changed between them (else
    None): a new card moves points on its own."""
    recs = {
        int(i): (fid, feats, version)
        for i, fid, feats, version in session.execute(
            select(
                col(ScoreRecord.id),
                col(ScoreRecord.firm_id),
                col(ScoreRecord.features),
                col(ScoreRecord.scorecard_version),
            ).where(col(ScoreRecord.id).in_([old_id, new_id]))
        ).tuples()
    }
    if old_id not in recs or new_id not in recs:
        return [], None
    versions = {recs[old_id][2], recs[new_id][2]}
    specs = dict(
        session.execute(
            select(col(Scorecard.version), col(Scorecard.spec)).where(
                col(Scorecard.version).in_(versions)
            )
        )
        .tuples()
        .all()
    )
    if len(specs) != len(versions):
        return [], None
    old_fid, old_feats, old_v = recs[old_id]
    new_fid, new_feats, new_v = recs[new_id]
    before = _points(specs[old_v], old_feats or {}, old_fid)
    after = _points(specs[new_v], new_feats or {}, new_fid)
    labels = _labels(specs[old_v]) | _labels(specs[new_v])
    moved = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, 0), after.get(name, 0)
        if a == b or (worse is True and a > b) or (worse is False and a < b):
            continue
        en, zh = labels.get(name, (name, name))
        moved.append(Moved(name, en, zh, b, a))
    moved.sort(key=lambda m: (-abs(m.delta), m.name))
    return moved[:k], (None if old_v == new_v else (old_v, new_v))
