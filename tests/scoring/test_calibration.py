"""Calibration: anchoring to a stated rate, recalibration on outcomes, the level report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from trellis.accounts.services import grant_consent
from trellis.config import Settings
from trellis.scoring import anchoring, calibration, expert, jobs, scorecard, service
from trellis.scoring.errors import TrainingDataError
from trellis.scoring.models import PortfolioDefaultRate, Scorecard, ScorecardStatus


def _card(intercept=4.4):
    """A one-characteristic card: x in four bins, steep log-odds."""
    return scorecard.validate({
        "format": scorecard.FORMAT, "version": "toy", "kind": "expert",
        "intercept": intercept, "scaling": dict(expert.SCALING),
        "characteristics": [{"name": "x", "type": "numeric", "splits": [-1, 0, 1],
                             "bins": [{"logodds": -1.5}, {"logodds": -0.5},
                                      {"logodds": 0.5}, {"logodds": 1.5}],
                             "missing": {"logodds": 0.0, "neutral": True},
                             "reason_en": "x", "reason_zh": "x"}],
        "grades": [{"grade": g, "max_pd": p} for g, p in expert.GRADE_PDS]})


def _world(n=4000, seed=1, level=6.0, slope=1.6):
    """Rows whose true PD is sigmoid(level + slope x logit(card PD)): the card ranks well
    but its level (mean PD about 2%) is far below the true rate (about 25%)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(0, 1.2, n)})
    card = _card()
    z = calibration._logit(scorecard.apply(card, X).pd.to_numpy())
    y = (rng.random(n) < calibration._sigmoid(level + slope * z)).astype(int)
    return card, X, y


def test_anchor_sets_the_mean_pd_to_the_stated_rate_and_keeps_the_ranking():
    card, X, _ = _world()
    before = scorecard.apply(card, X)
    out = calibration.anchor(card, X, 0.04, source="risk team", version="toy+cal")
    after = scorecard.apply(out, X)
    assert after.pd.mean() == pytest.approx(0.04, abs=1e-6)
    assert before.pd.mean() < 0.03
    # Monotone transform: the same order of firms, scores moved together.
    assert (np.argsort(before.logodds.to_numpy(), kind="stable")
            == np.argsort(after.logodds.to_numpy(), kind="stable")).all()
    assert out["calibration"]["source"] == "risk team" and out["version"] == "toy+cal"


def test_recalibration_brings_a_ten_times_too_low_card_to_the_observed_level():
    card, X, y = _world()
    raw = calibration.report(card, X, y)
    assert raw["observed_rate"] > 5 * raw["mean_pd"]
    assert raw["flag"] and raw["grades_outside_band"]
    assert raw["hosmer_lemeshow"]["p_value"] < 1e-6
    fixed = calibration.recalibrate(card, X, y, version="toy+cal")
    rep = calibration.report(fixed, X, y)
    assert rep["mean_pd"] == pytest.approx(rep["observed_rate"], rel=0.02)
    assert fixed["calibration"]["slope"] == pytest.approx(1.6, rel=0.2)
    assert not rep["flag"], rep["grades"]
    assert rep["hosmer_lemeshow"]["p_value"] > 0.01
    # The neutral missing bin stays neutral after the slope.
    assert fixed["characteristics"][0]["missing"]["logodds"] == 0.0


def test_recalibration_on_held_out_rows_generalises():
    card, X, y = _world(n=6000, seed=3)
    fixed = calibration.recalibrate(card, X[:3000], y[:3000])
    rep = calibration.report(fixed, X[3000:], y[3000:])
    assert rep["ratio"] == pytest.approx(1.0, abs=0.15)
    assert not rep["flag"]


def test_the_slope_from_outcomes_the_level_from_a_stated_rate():
    # Old outcomes at about a third defaulted; the portfolio now is stated at half.
    card, X, y = _world(n=4000, seed=4)
    now = X.sample(1500, random_state=1)
    fixed = calibration.recalibrate_to_rate(card, X, y, now, 0.50, source="risk team, Q3",
                                            version="toy+cal")
    cal = fixed["calibration"]
    assert cal["level"] == "stated_rate" and cal["source"] == "risk team, Q3"
    assert cal["slope"] == pytest.approx(1.6, rel=0.2)
    assert cal["observed_rate"] == pytest.approx(y.mean()) and y.mean() < 0.4
    assert scorecard.apply(fixed, now).pd.mean() == pytest.approx(0.50, abs=1e-5)
    # Same slope as a plain recalibration on the outcomes, only the level moved up.
    plain = calibration.recalibrate(card, X, y)
    assert fixed["calibration"]["slope"] == pytest.approx(plain["calibration"]["slope"])
    assert (scorecard.apply(fixed, X).logodds < scorecard.apply(plain, X).logodds).all()
    with pytest.raises(TrainingDataError):
        calibration.recalibrate_to_rate(card, X[:40], y[:40], now, 0.4, source="x")


def test_grade_band_and_binomial_test():
    rows = calibration.by_grade(np.r_[np.ones(30), np.zeros(70)], np.full(100, 0.02),
                                np.array(["A"] * 100))
    (a,) = rows
    assert a["observed_rate"] == 0.3 and not a["inside"] and a["p_value"] < 1e-10
    lo, hi = calibration.band(1000, 0.05)
    assert lo < 0.05 < hi and hi - lo < 0.03


def test_too_few_outcomes_are_refused():
    card, X, y = _world(n=40)
    with pytest.raises(TrainingDataError):
        calibration.recalibrate(card, X, y)


def test_the_stated_rate_is_product_data_with_its_source(session):
    row = anchoring.default_rate(session=session, on=date(2026, 12, 1))
    assert row.rate == Decimal("0.04000") and row.horizon_months == 12
    assert "Replace it" in row.source


@pytest.fixture
def vendors(session, trade, make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    out = []
    for i in range(6):
        v = make_firm(cluster_id=cluster.id)
        trade.monthly_sales(v, anchor, start=date(2024, 12, 5), months=14,
                            amount_fen=(50 + 30 * i) * 1_000_00,
                            paid_after=60 + 15 * i, per_month=1)
        grant_consent(session=session, firm_id=v.id, purpose="trade_data")
        out.append(v)
    return cluster, anchor, out


def test_calibrate_without_outcomes_anchors_and_installs_a_new_champion(session, vendors):
    cluster, _, _ = vendors
    session.add(PortfolioDefaultRate(effective_from=date(2025, 6, 1), rate=Decimal("0.08"),
                                     source="test: a riskier park"))
    session.flush()
    spec = anchoring.calibrate(session=session, as_of=date(2026, 1, 15),
                               cluster_id=cluster.id)
    assert spec["calibration"]["method"] == "anchor"
    assert spec["calibration"]["target_rate"] == pytest.approx(0.08)
    champ = service.champion(session=session)
    assert champ.version == spec["version"] == f"{expert.VERSION}+cal20260115"
    old = session.query(Scorecard).filter_by(version=expert.VERSION).one()
    assert old.status == ScorecardStatus.RETIRED
    X = anchoring.population(session=session, as_of=date(2026, 1, 15), cluster_id=cluster.id)
    assert len(X) == 6
    assert scorecard.apply(champ.spec, X).pd.mean() == pytest.approx(0.08, abs=1e-5)
    # Scoring now uses the calibrated card.
    r = service.score_firm(session=session, firm_id=int(X.index[0]), as_of=date(2026, 1, 15))
    assert r.scorecard_version == spec["version"]


def test_calibrate_recalibrates_when_matured_outcomes_exist(session, vendors, trade):
    cluster, _, firms_ = vendors
    rng = np.random.default_rng(5)
    # 60 matured loans, half defaulted: far above any stated rate.
    for k in range(60):
        f = firms_[k % len(firms_)]
        trade.outcome(f, date(2025, 1 + k % 6, 10), bool(rng.random() < 0.5 or k % 6 == 5))
    spec = anchoring.calibrate(session=session, as_of=date(2026, 1, 15),
                               cluster_id=cluster.id, install=False)
    rep = spec["validation"]["calibration"]
    assert spec["calibration"]["method"] == "recalibrate"
    assert rep["mean_pd"] == pytest.approx(rep["observed_rate"], rel=0.05)
    assert service.champion(session=session).version == expert.VERSION  # not installed


def test_a_rate_stated_after_the_outcomes_sets_the_level(session, vendors, trade):
    cluster, _, firms_ = vendors
    _outcomes(trade, firms_)  # loans of January-June 2025, about half defaulted
    session.add(PortfolioDefaultRate(effective_from=date(2025, 10, 1), rate=Decimal("0.2"),
                                     source="risk team: downturn"))
    session.flush()
    spec = anchoring.calibrate(session=session, as_of=date(2026, 1, 15),
                               cluster_id=cluster.id, install=False)
    cal = spec["calibration"]
    assert cal["method"] == "recalibrate" and cal["level"] == "stated_rate"
    assert cal["target_rate"] == pytest.approx(0.2) and cal["source"] == "risk team: downturn"
    assert cal["rate_effective_from"] == "2025-10-01" and cal["rows"] == 60
    X = anchoring.population(session=session, as_of=date(2026, 1, 15), cluster_id=cluster.id)
    assert scorecard.apply(spec, X).pd.mean() == pytest.approx(0.2, abs=1e-5)
    assert "level anchored to the portfolio default rate 20.00%" in \
        spec["validation"]["calibrated"]


def test_a_rate_stated_before_the_outcomes_does_not(session, vendors, trade):
    cluster, _, firms_ = vendors
    session.add(PortfolioDefaultRate(effective_from=date(2025, 3, 1), rate=Decimal("0.2"),
                                     source="risk team: before the loans"))
    _outcomes(trade, firms_)  # the newest loan is of June 2025
    spec = anchoring.calibrate(session=session, as_of=date(2026, 1, 15),
                               cluster_id=cluster.id, install=False)
    assert spec["calibration"]["method"] == "recalibrate"
    assert "level" not in spec["calibration"]
    rep = spec["validation"]["calibration"]
    assert rep["mean_pd"] == pytest.approx(rep["observed_rate"], rel=0.05)


def test_recalibration_job_runs_again_when_a_new_rate_is_stated(
        session_factory, session, vendors, trade):
    _, _, firms_ = vendors
    _outcomes(trade, firms_)
    session.commit()
    assert "recalibrated on 60" in jobs.recalibrate(
        session_factory=session_factory, settings=Settings(), as_of="2026-01-15")
    assert "unchanged" in jobs.recalibrate(
        session_factory=session_factory, settings=Settings(), as_of="2026-01-16")
    session.add(PortfolioDefaultRate(effective_from=date(2026, 1, 16), rate=Decimal("0.3"),
                                     source="risk team: downturn"))
    session.commit()
    assert "recalibrated on 60" in jobs.recalibrate(
        session_factory=session_factory, settings=Settings(), as_of="2026-01-17")
    session.expire_all()
    cal = service.champion(session=session).spec["calibration"]
    assert cal["level"] == "stated_rate" and cal["target_rate"] == pytest.approx(0.3)
    assert "unchanged" in jobs.recalibrate(
        session_factory=session_factory, settings=Settings(), as_of="2026-01-18")


def _outcomes(trade, firms_, n=60, seed=5):
    rng = np.random.default_rng(seed)
    for k in range(n):
        f = firms_[k % len(firms_)]
        trade.outcome(f, date(2025, 1 + k % 6, 10), bool(rng.random() < 0.5 or k % 6 == 5))


def test_the_recalibration_job_is_scheduled_and_queued():
    from trellis import jobs as platform_jobs

    spec = platform_jobs.find("recalibrate_scorecard")
    assert spec.queued and spec.func == "trellis.scoring.jobs:recalibrate"
    assert platform_jobs.resolve(spec) is jobs.recalibrate


def test_recalibration_job_waits_for_outcomes_then_recalibrates_once(
        session_factory, session, vendors, trade):
    cluster, _, firms_ = vendors
    line = jobs.recalibrate(session_factory=session_factory, settings=Settings(),
                            as_of="2026-01-15")
    assert "too few to recalibrate" in line
    assert service.champion(session=session).version == expert.VERSION
    _outcomes(trade, firms_)
    session.commit()
    line = jobs.recalibrate(session_factory=session_factory, settings=Settings(),
                            as_of="2026-01-15")
    assert "recalibrated on 60 outcomes" in line
    session.expire_all()
    champ = service.champion(session=session)
    assert champ.version == f"{expert.VERSION}+cal20260115"
    rep = champ.validation["calibration"]
    assert rep["mean_pd"] == pytest.approx(rep["observed_rate"], rel=0.05)
    assert {"reliability", "grades", "hosmer_lemeshow", "flag"} <= set(rep)
    # The same outcomes again: nothing new to learn, no new version.
    line = jobs.recalibrate(session_factory=session_factory, settings=Settings(),
                            as_of="2026-01-16")
    assert "unchanged" in line
    assert session.query(Scorecard).count() == 2
    # One more matured default: a new version.
    trade.outcome(firms_[0], date(2025, 7, 10), True)
    session.commit()
    line = jobs.recalibrate(session_factory=session_factory, settings=Settings(),
                            as_of="2026-01-17")
    assert "recalibrated on 61 outcomes" in line


def test_a_flagged_card_is_told_to_the_risk_team_once(session, make_user, make_firm):
    from trellis.notifications import events
    from trellis.protection.models import Notification

    admin, rm = make_user("admin"), make_user("rm")
    make_user("auditor")
    make_user("vendor", firm=make_firm())
    champ = service.champion(session=session)
    champ.validation = {"calibration": {"flag": False, "grades_outside_band": []}}
    session.add(champ)
    session.flush()
    assert events.collect(session=session, as_of=date(2026, 1, 15)) == 0
    champ.validation = {"calibration": {"flag": True, "grades_outside_band": ["D", "E"]}}
    session.add(champ)
    session.flush()
    assert events.collect(session=session, as_of=date(2026, 1, 15)) == 2
    notes = session.query(Notification).filter_by(kind="scorecard_flag").all()
    assert sorted(n.user_id for n in notes) == sorted([admin.id, rm.id])
    assert "grade(s) D, E" in notes[0].message_en and "等级 D, E" in notes[0].message_zh
    assert champ.version in notes[0].message_en
    assert events.collect(session=session, as_of=date(2026, 1, 16)) == 0  # once
