"""Scoring a firm: stored, reproducible, consent-bound; flags force review, never points."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trellis.accounts.services import grant_consent, withdraw_consent
from trellis.scoring import expert, features, frames, scorecard, service
from trellis.scoring.models import Scorecard, ScoreRecord

AS_OF = date(2026, 1, 15)


@pytest.fixture
def world(session, trade, make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    good = make_firm(cluster_id=cluster.id)
    weak = make_firm(cluster_id=cluster.id)
    young = make_firm(cluster_id=cluster.id)
    trade.monthly_sales(good, anchor, start=date(2024, 12, 5), months=14, amount_fen=200_000_00,
                        paid_after=60, per_month=2)
    # weak: sales fade and its buyer (good) pays late; it also pays its supplier late.
    for i, amount in enumerate([90, 90, 85, 80, 70, 60, 40, 30, 20, 10, 8, 5]):
        y, m = divmod(1 + i, 12)
        trade.sale(weak, good, amount * 1_000_00, date(2025, m + 1, 10), paid_after=100)
        trade.sale(weak, good, amount * 1_000_00, date(2025, m + 1, 20), paid_after=110)
    trade.monthly_sales(young, anchor, start=date(2025, 11, 5), months=3, amount_fen=50_000_00)
    for f in (anchor, good, weak, young):
        grant_consent(session=session, firm_id=f.id, purpose="trade_data")
    return cluster, anchor, good, weak, young


def test_a_steady_vendor_scores_better_than_a_fading_one(session, world):
    _, _, good, weak, _ = world
    g = service.score_firm(session=session, firm_id=good.id, as_of=AS_OF)
    w = service.score_firm(session=session, firm_id=weak.id, as_of=AS_OF)
    assert g.score > w.score and g.pd < w.pd
    assert g.grade in "ABCDE" and w.grade in "ABCDE" and g.grade <= w.grade
    assert 0 < len(w.reasons) <= 4
    assert w.reasons[0].points_lost >= w.reasons[-1].points_lost > 0
    assert {"sales_trend_3v12", "sales_drawdown_3m"} & {r.code for r in w.reasons}
    assert all(r.zh and r.en for r in w.reasons)
    assert g.scorecard_version == expert.VERSION
    assert g.features["sales_12m_fen"] > 0


def test_result_is_stored_and_reproducible(session, world):
    _, _, _, weak, _ = world
    r = service.score_firm(session=session, firm_id=weak.id, as_of=AS_OF)
    rec = session.get(ScoreRecord, r.record_id)
    assert rec.score == r.score and rec.grade == r.grade and rec.scorecard_version == \
        r.scorecard_version
    again = service.reproduce(session=session, record_id=r.record_id)
    assert (again.score, again.pd, again.grade) == (r.score, r.pd, r.grade)
    assert again.reasons == r.reasons
    assert service.latest(session=session, firm_id=weak.id).to_dict() == r.to_dict()


def test_short_history_is_insufficient_never_a_made_up_score(session, world):
    _, _, _, _, young = world
    r = service.score_firm(session=session, firm_id=young.id, as_of=AS_OF)
    assert r.insufficient and r.score is None and r.grade is None and r.pd is None
    assert r.needs_review
    assert any("history" in x for x in r.insufficient_reasons)
    assert all(x for x in r.insufficient_zh)


def test_without_consent_no_trade_data_is_used(session, world):
    _, _, good, _, _ = world
    withdraw_consent(session=session, firm_id=good.id, purpose="trade_data")
    r = service.score_firm(session=session, firm_id=good.id, as_of=AS_OF)
    assert r.insufficient and r.score is None and r.features == {}
    assert r.insufficient_reasons == [service.NO_CONSENT[0]]


def test_a_flag_forces_review_and_leaves_the_score_alone(session, trade, world):
    _, anchor, good, _, _ = world
    # A copy of an existing invoice with a new number: flagged as duplicate.
    trade.sale(good, anchor, 200_000_00, date(2025, 6, 5), order=False, number="DUPL-1")
    r = service.score_firm(session=session, firm_id=good.id, as_of=AS_OF)
    assert "duplicate_invoice" in {f.code for f in r.flags} and r.needs_review
    fr = frames.load(session=session, as_of=AS_OF, firm_ids=[good.id])
    plain = scorecard.apply(expert.spec(), features.compute(fr))
    assert r.score == int(plain.score[good.id])


def test_portfolio_and_on_demand_agree(session, world):
    cluster, anchor, good, weak, young = world
    results, run = service.score_portfolio(session=session, as_of=AS_OF, cluster_id=cluster.id)
    by_firm = {r.firm_id: r for r in results}
    assert set(by_firm) == {anchor.id, good.id, weak.id, young.id}
    assert by_firm[anchor.id].insufficient  # anchors are not scored by the vendor card
    for f in (good, weak, young):
        one = service.score_firm(session=session, firm_id=f.id, as_of=AS_OF, store=False)
        # the portfolio's stored records are now the firm's latest grade, which the one
        # firm's grade hold reads (trellis.scoring.grade_hold): all else agrees
        hold = one.grade_hold
        assert hold is None or hold["prior_grade"] == by_firm[f.id].grade
        assert one.to_dict() | {"record_id": None, "grade_hold": None} \
            == by_firm[f.id].to_dict() | {"record_id": None}
    assert run.n_firms == 4 and run.n_scored == 2 and run.n_insufficient == 2
    stored = session.query(ScoreRecord).filter(ScoreRecord.run_id == run.id).count()
    assert stored == 4


def test_the_expert_card_is_installed_once_as_champion(session):
    a = service.champion(session=session)
    b = service.champion(session=session)
    assert a.id == b.id and a.status == "champion" and a.kind == "expert"
    assert session.query(Scorecard).filter(Scorecard.status == "champion").count() == 1
    assert pd.Series(a.spec["grades"]).size == 5


def test_two_first_requests_install_the_starting_card_once(session, session_factory,
                                                           monkeypatch):
    """Outside drill 7: on a fresh instance four simultaneous applications each installed
    the expert card; all but one answered 500 on the unique version. The one that loses
    the insert reads the winner's row."""
    from sqlmodel import select

    real = expert.spec

    def raced():
        other = session_factory()   # the other request commits its install first
        spec = real()
        other.add(Scorecard(version=spec["version"], name=spec["name"], kind="expert",
                            status="champion", spec=spec, notes="the other request"))
        other.commit()
        other.close()
        return spec

    assert session.exec(select(Scorecard)).first() is None
    monkeypatch.setattr(expert, "spec", raced)
    card = service.champion(session=session)
    assert card.version == expert.VERSION and card.notes == "the other request"
    assert len(session.exec(select(Scorecard)).all()) == 1
