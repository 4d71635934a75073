"""The boosted challenger: monotone, explained per decision, calibrated, chosen only when
it beats the WoE card beyond the noise; training refits on every row after validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.scoring.test_training import synthetic
from trellis.scoring import boosting, calibration, expert, metrics, scorecard, training


def interacting(n=3000, seed=4):
    """Risk that a sum of per-feature points cannot express: a and b of the same sign."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(0, 1, n), rng.normal(0, 1, n), rng.normal(0, 1, n)
    logit = -1.5 + 0.7 * c + 2.0 * (a * b > 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"a": a, "b": b, "c": c, "bad": y})


@pytest.fixture(scope="module")
def boosted():
    df, p = synthetic(n=3000, seed=7)
    return df, training.train(df, target="bad", family="gbm", seed=0,
                              monotone={"x1": 1}, labels={"x1": {"en": "x1 is high",
                                                                 "zh": "x1偏高"}})


def test_boosted_card_is_monotone_in_a_constrained_feature(boosted):
    df, spec = boosted
    assert spec["family"] == "gbm" and spec["model"]["monotone"]["x1"] == 1
    grid = pd.DataFrame({"x1": np.linspace(-3, 3, 61), "x2": 0.0, "sector": "retail",
                         "noise": 0.0})
    pd_ = scorecard.apply(spec, grid).pd.to_numpy()
    assert (np.diff(pd_) >= -1e-12).all() and pd_[-1] > 3 * pd_[0]


def test_boosted_reasons_are_the_features_that_raised_the_pd_in_plain_words(boosted):
    df, spec = boosted
    X = training._frame_for(spec, df)
    s = scorecard.apply(spec, X)
    worst = int(np.argmax(s.pd.to_numpy()))
    reasons = scorecard.all_reasons(spec, s)[X.index[worst]]
    assert reasons and reasons[0].code == "x1" and reasons[0].en == "x1 is high"
    assert reasons[0].zh == "x1偏高" and reasons[0].points_lost > 0
    assert all(r.points_lost >= reasons[-1].points_lost for r in reasons)
    # The per-firm path gives the same reasons as the vectorised one.
    one = scorecard.reasons(spec, s.points.iloc[worst], s.bins.iloc[worst])
    assert one == reasons
    other = [r for r in reasons if r.code == "sector"]
    assert not other or other[0].en.startswith("Sector")


def test_boosted_card_is_calibrated_and_recalibrates(boosted):
    df, spec = boosted
    y = training.parse_target(df["bad"], "bad").to_numpy()
    X = training._frame_for(spec, df)
    rep = calibration.report(spec, X, y)
    assert rep["ratio"] == pytest.approx(1.0, abs=0.15)
    shifted = calibration.anchor(spec, X, 0.02, source="test")
    assert scorecard.apply(shifted, X).pd.mean() == pytest.approx(0.02, abs=1e-5)
    back = scorecard.validate(scorecard.loads(scorecard.dumps(shifted)))
    assert np.allclose(scorecard.apply(back, X).pd, scorecard.apply(shifted, X).pd)


def test_training_refits_on_every_row_after_validation():
    df, _ = synthetic(n=1500, seed=9)
    spec = training.train(df, target="bad", version="r")
    assert spec["validation"]["refit_on_all_rows"] is True
    assert spec["reference_scores"]["n"] == len(df)  # fitted on all 1,500 rows, not 70%
    held = training.train(df, target="bad", version="h", refit=False)
    assert held["reference_scores"]["n"] == round(0.7 * len(df))
    assert spec["validation"]["validation"] == held["validation"]["validation"]


@pytest.mark.parametrize("data,chosen", [("interacting", "gbm"), ("additive", "woe")])
def test_auto_offers_the_boosted_card_only_beyond_the_noise(data, chosen):
    df = interacting() if data == "interacting" else synthetic(n=2000, seed=3)[0]
    spec = training.train(df, target="bad", family="auto", seed=0)
    sel = spec["validation"]["family_selection"]
    assert sel["chosen"] == chosen, sel
    assert (spec.get("family") == "gbm") == (chosen == "gbm")
    if chosen == "gbm":
        assert sel["ci_low"] > 0
    assert spec["validation"]["cross_validation"]["family"] == chosen


def test_expert_directions_and_labels_for_platform_features():
    mono = expert.monotone()
    assert mono["own_late_days_12m"] == 1 and mono["active_share_12m"] == -1
    assert mono["own_late_days_3m"] == 1 and mono["sales_12m_fen"] == -1
    assert expert.labels()["own_late_days_12m"]["zh"] == "向自己的供应商付款逾期"


def test_boosting_settings_can_be_overridden():
    """boosting.fit(params=...) reaches LightGBM (the blend's random-forest and
    extra-trees members use it); the defaults are unchanged without it."""
    df, _ = synthetic(n=800, seed=9)
    y = training.parse_target(df["bad"], "bad").to_numpy()
    X = training._prepare(df, ["x1", "x2"], ["sector"])
    plain = boosting.fit(X, y, ["x1", "x2"], ["sector"], version="t")
    rf = boosting.fit(X, y, ["x1", "x2"], ["sector"], version="t",
                      params={"boosting_type": "rf", "subsample": 0.632,
                              "subsample_freq": 1})
    assert "[boosting: gbdt]" in plain["model"]["booster"]
    assert "[boosting: rf]" in rf["model"]["booster"]
    assert "[learning_rate: 0.03]" in plain["model"]["booster"]
    # a forest's raw output ranks the rows (it is a score, not log-odds: the blend
    # standardises and calibrates every member)
    lo, rest = boosting.contributions(rf, X)
    assert metrics.auc(y, -(lo.sum(axis=1) + rest).to_numpy()) > 0.7
