"""Issue 15 (F7/F13): a firm's past scores, the moves of its grade and what moved it, read
from the stored score records (trellis.scoring.history)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from trellis.scoring import history, scorecard, service
from trellis.scoring.models import ScoreRecord

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def best_features(spec: dict) -> dict:
    """A value in the best bin of every numeric characteristic of *spec*."""
    out: dict = {}
    for c in spec["characteristics"]:
        if c["type"] != "numeric":
            continue
        splits, bins = c["splits"], [b["logodds"] for b in c["bins"]]
        edges = (
            [splits[0] - 1]
            + [(a + b) / 2 for a, b in zip(splits, splits[1:], strict=False)]
            + [splits[-1] + 1]
        )
        out[c["name"]] = float(edges[max(range(len(bins)), key=bins.__getitem__)])
    return out


def graded(spec: dict, feats: dict) -> tuple[int, str]:
    X = pd.DataFrame([{k: (float("nan") if v is None else v) for k, v in feats.items()}], index=[1])
    s = scorecard.apply(spec, X)
    return int(s.score.iloc[0]), str(s.grade.iloc[0])


@pytest.fixture
def card(session):
    return service.champion(session=session)


@pytest.fixture
def record(session, card):
    """A stored score of *firm* computed *minutes* after T0, graded from *feats* by the
    champion (or *grade* as given)."""

    def add(firm, minutes, feats=None, *, grade=None, basis="consent"):
        feats = dict(feats or {})
        score, got = graded(card.spec, feats) if feats else (None, None)
        rec = ScoreRecord(
            firm_id=firm.id,
            as_of=(T0 + timedelta(minutes=minutes)).date(),
            score=score,
            grade=grade or got,
            features=feats,
            basis=basis,
            scorecard_version=card.version,
            computed_at=T0 + timedelta(minutes=minutes),
        )
        session.add(rec)
        session.flush()
        return rec

    return add


def test_history_newest_first_and_the_moves_of_the_grade(session, make_firm, record):
    firm = make_firm()
    ids = [
        record(firm, m, grade=g, basis=b).id
        for m, g, b in (
            (0, "A", "consent"),
            (10, "A", "consent"),
            (20, "B", "consent"),
            (30, "C", "pre_assessment"),  # a pre-assessment is no step of the grade
            (40, None, "consent"),  # insufficient data: no step either
            (50, "A", "consent"),
        )
    ]
    rows = history.history(session=session, firm_id=firm.id)
    assert [r.record_id for r in rows] == ids[::-1]
    assert [r.grade for r in rows] == ["A", None, "C", "B", "A", "A"]
    steps = history.grade_steps(rows)
    assert [(s.record_id, s.before, s.grade) for s in steps] == [
        (ids[5], "B", "A"),
        (ids[2], "A", "B"),
        (ids[0], None, "A"),
    ]
    assert [s.direction for s in steps] == [1, -1, 0]
    assert len(history.grade_steps(rows, limit=1)) == 1
    assert len(history.history(session=session, firm_id=firm.id, limit=2)) == 2


def test_recent_changes_since_a_time_and_of_given_firms(session, make_firm, record):
    one, two, quiet = make_firm(), make_firm(), make_firm()
    record(one, 0, grade="A")
    old_b = record(one, 10, grade="B")  # a change before `since`: not recent
    new_a = record(one, 100, grade="A")
    record(one, 110, grade="A")  # the same grade again: no change
    record(two, 0, grade="C")
    record(two, 105, grade="C", basis="pre_assessment")  # not the firm's grade
    d = record(two, 120, grade="D")
    record(quiet, 0, grade="B")
    record(quiet, 130, grade="B")
    since = T0 + timedelta(minutes=60)
    got = history.recent_changes(session=session, since=since)
    mine = [c for c in got if c.firm_id in (one.id, two.id, quiet.id)]
    assert [(c.firm_id, c.old_grade, c.new_grade, c.old_id, c.new_id) for c in mine] == [
        (one.id, "B", "A", old_b.id, new_a.id),
        (two.id, "C", "D", mine[1].old_id, d.id),
    ]
    assert not mine[0].worse and mine[1].worse
    only = history.recent_changes(session=session, since=since, firm_ids=[two.id])
    assert [c.new_id for c in only] == [d.id]
    assert history.recent_changes(session=session, since=since, firm_ids=[]) == []


def test_moved_most_names_the_characteristics_that_moved_the_grade(
    session, make_firm, record, card
):
    firm = make_firm()
    good = {"sales_drawdown_3m": 0.1, "active_share_12m": 0.95, "sales_trend_3v12": 0.2}
    worse = {**good, "sales_drawdown_3m": 0.7, "active_share_12m": 0.6}
    assert graded(card.spec, good)[0] > graded(card.spec, worse)[0], "the fixture must move"
    a, b = record(firm, 0, good), record(firm, 5, worse)
    moved, cards = history.moved_most(session=session, old_id=a.id, new_id=b.id, worse=True)
    assert cards is None
    assert [m.name for m in moved] == ["sales_drawdown_3m", "active_share_12m"]
    assert all(m.delta < 0 for m in moved) and moved[0].delta <= moved[1].delta
    assert moved[0].label_zh and moved[0].label_en
    up, _ = history.moved_most(session=session, old_id=b.id, new_id=a.id, worse=False)
    assert {m.name for m in up} == {"sales_drawdown_3m", "active_share_12m"}
    assert history.moved_most(session=session, old_id=a.id, new_id=b.id, worse=False)[0] == []


def test_a_new_card_version_is_said(session, make_firm, record, card):
    firm = make_firm()
    feats = best_features(card.spec)
    a = record(firm, 0, feats)
    from trellis.scoring.models import Scorecard

    spec = {**card.spec, "version": "test-next"}
    session.add(Scorecard(version="test-next", spec=spec, status="challenger"))
    b = record(firm, 5, feats)
    b.scorecard_version = "test-next"
    session.add(b)
    session.flush()
    moved, cards = history.moved_most(session=session, old_id=a.id, new_id=b.id)
    assert moved == [] and cards == (card.version, "test-next")


def test_times_compare_with_an_aware_since(session, make_firm, record):
    """The notification job passes the start of a day (UTC) as *since*."""
    firm = make_firm()
    record(firm, 0, grade="B")
    rec = record(firm, 10, grade="C")
    since = datetime.combine(date(2026, 12, 1), datetime.min.time(), UTC)
    assert [
        c.new_id for c in history.recent_changes(session=session, since=since, firm_ids=[firm.id])
    ] == [rec.id]


def _past(record_id: int, at: datetime, *, score: int = 700, grade: str = "B") -> history.Past:
    return history.Past(record_id, at, date(2026, 12, 1), grade, score, None, "v1", "consent")


def test_a_score_repeated_within_a_minute_is_shown_once():
    """Reader 13, J9: the score history listed two identical rows at 01:21 (the queued
    first scoring and another a moment later). Repeats within the same minute, identical
    in all a reader sees, are kept once (the first, which a grade step names); a score
    that differs, or the same score another minute, stays."""
    rows = [_past(4, T0 + timedelta(minutes=5)),                      # newest first
            _past(3, T0 + timedelta(seconds=40)),
            _past(2, T0 + timedelta(seconds=20), score=701),
            _past(1, T0 + timedelta(seconds=10)),
            _past(0, T0 + timedelta(seconds=1))]
    assert [r.record_id for r in history.shown_once(rows)] == [4, 3, 2, 0]
    assert history.shown_once([]) == []
