"""The scorecard format: scaling formula, bins, missing values, reasons, JSON round trip."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from trellis.scoring import expert, scorecard
from trellis.scoring.errors import InvalidScorecard


def card(intercept=3.0, pdo=20, base_score=600, base_odds=50):
    return scorecard.validate({
        "format": scorecard.FORMAT, "version": "t1", "intercept": intercept,
        "scaling": {"base_score": base_score, "base_odds": base_odds, "pdo": pdo},
        "characteristics": [
            {"name": "late", "type": "numeric", "splits": [5, 30], "reason_en": "Late",
             "reason_zh": "逾期", "bins": [{"logodds": 0.5}, {"logodds": 0.0}, {"logodds": -1.0}],
             "missing": {"logodds": 0.0, "neutral": True}},
            {"name": "trend", "type": "numeric", "splits": [0], "reason_en": "Falling",
             "reason_zh": "下降", "bins": [{"logodds": -0.7}, {"logodds": 0.2}],
             "missing": {"logodds": -0.3}},
            {"name": "industry", "type": "categorical", "groups": [["a", "b"], ["c"]],
             "reason_en": "Industry", "reason_zh": "行业",
             "bins": [{"logodds": 0.1}, {"logodds": -0.2}], "missing": {"logodds": 0.0}},
        ],
        "grades": [{"grade": g, "max_pd": p} for g, p in
                   [("A", 0.01), ("B", 0.025), ("C", 0.05), ("D", 0.1), ("E", 1.0)]],
    })


@pytest.mark.parametrize("pdo,base_score,base_odds", [(20, 600, 50), (40, 500, 20), (50, 660, 72)])
def test_score_follows_offset_pdo_odds(pdo, base_score, base_odds):
    spec = card(pdo=pdo, base_score=base_score, base_odds=base_odds)
    X = pd.DataFrame({"late": [1.0, 40.0], "trend": [0.5, -0.5], "industry": ["a", "c"]})
    s = scorecard.apply(spec, X)
    for i, lo in enumerate([3.0 + 0.5 + 0.2 + 0.1, 3.0 - 1.0 - 0.7 - 0.2]):
        expected = base_score - pdo / math.log(2) * math.log(base_odds) + pdo / math.log(2) * lo
        assert s.score.iloc[i] == round(expected)
        assert s.pd.iloc[i] == pytest.approx(1 / (1 + math.exp(lo)))
    # Doubling the odds adds PDO points.
    doubled = copy.deepcopy(spec)
    doubled["intercept"] += math.log(2)
    assert scorecard.apply(doubled, X).score.iloc[0] - s.score.iloc[0] == pytest.approx(pdo, abs=1)


@pytest.mark.parametrize("late,trend,industry,bins", [
    (4.999, 0.0, "b", (0, 1, 0)),
    (5.0, -0.001, "c", (1, 0, 1)),
    (np.nan, np.nan, None, (-1, -1, -1)),
    (30.0, 1.0, "zzz", (2, 1, -2)),
])
def test_binning_edges_missing_and_unseen(late, trend, industry, bins):
    spec = card()
    X = pd.DataFrame({"late": [late], "trend": [trend], "industry": [industry]})
    s = scorecard.apply(spec, X)
    assert tuple(int(v) for v in s.bins.iloc[0]) == bins


def test_missing_is_not_scored_as_zero():
    spec = card()
    missing = scorecard.apply(spec, pd.DataFrame({"late": [np.nan], "trend": [0.1],
                                                  "industry": ["a"]}))
    zero = scorecard.apply(spec, pd.DataFrame({"late": [0.0], "trend": [0.1], "industry": ["a"]}))
    assert missing.points.loc[0, "late"] == 0.0
    assert zero.points.loc[0, "late"] > 0.0


def test_reasons_are_the_largest_point_losses_and_skip_neutral_missing():
    spec = card()
    X = pd.DataFrame({"late": [np.nan, 40.0], "trend": [-1.0, 1.0], "industry": ["c", "a"]})
    s = scorecard.apply(spec, X)
    first = scorecard.reasons(spec, s.points.iloc[0], s.bins.iloc[0])
    assert [r.code for r in first] == ["trend", "industry"]  # late is missing and neutral
    assert first[0].points_lost == round(0.9 * 20 / math.log(2))
    second = scorecard.reasons(spec, s.points.iloc[1], s.bins.iloc[1])
    assert [r.code for r in second] == ["late"]
    assert second[0].zh == "逾期"


def test_a_reason_is_only_what_counts_against_the_firm():
    """Outside reader 10, R1: a firm whose insured staff grew 4% was told "参保人数减少"
    (29 points short of the best band, growth of 5% or more, in a band worth 0 points, an
    ordinary firm's). Points short of the best band are not a weakness; a characteristic
    is a reason only where its points are below 0, and the risk page's breakdown still
    shows every point lost."""
    spec = card()
    # late 10 days: the 0-point band, 0.5 short of the best; trend falling: -0.7
    X = pd.DataFrame({"late": [10.0, 10.0], "trend": [-1.0, 1.0], "industry": ["a", "a"]})
    s = scorecard.apply(spec, X)
    one = scorecard.reasons(spec, s.points.iloc[0], s.bins.iloc[0])
    assert [r.code for r in one] == ["trend"]
    assert scorecard.reasons(spec, s.points.iloc[1], s.bins.iloc[1]) == []
    every = scorecard.all_reasons(spec, s)
    assert [r.code for r in every[0]] == ["trend"] and every[1] == []
    lost = {r["name"]: r["lost"] for r in scorecard.breakdown(spec, s.points.iloc[1],
                                                              s.bins.iloc[1])}
    assert lost["late"] == round(0.5 * 20 / math.log(2))     # still shown as points short
    # the expert card: staff up 4% in a year is no "cut staff"; down 20% is
    ex = expert.spec()
    names = [c["name"] for c in ex["characteristics"]]
    X = pd.DataFrame({n: [np.nan, np.nan] for n in names})
    X["headcount_trend_12m"] = [0.04, -0.2]
    got = scorecard.apply(ex, X)
    codes = [[r.code for r in scorecard.reasons(ex, got.points.iloc[i], got.bins.iloc[i])]
             for i in range(2)]
    assert "headcount_trend_12m" not in codes[0]
    assert "headcount_trend_12m" in codes[1]
    assert [[r.code for r in v] for v in scorecard.all_reasons(ex, got).values()] == codes


@pytest.mark.parametrize("pd_,grade", [(0.005, "A"), (0.0099, "A"), (0.0101, "B"), (0.02, "B"),
                                       (0.04, "C"),
                                       (0.09, "D"), (0.5, "E")])
def test_grade_cut_offs_by_pd(pd_, grade):
    spec = card(intercept=math.log((1 - pd_) / pd_))
    X = pd.DataFrame({"late": [np.nan], "trend": [np.nan], "industry": [None]})
    spec["characteristics"][1]["missing"]["logodds"] = 0.0
    assert scorecard.apply(spec, X).grade.iloc[0] == grade


@pytest.mark.parametrize("mutate,field", [
    (lambda s: s.pop("format"), "format"),
    (lambda s: s["characteristics"][0]["bins"].pop(), "characteristics[0]"),
    (lambda s: s["characteristics"][0].update(splits=[30, 5]), "characteristics[0]"),
    (lambda s: s["grades"].reverse(), "grades"),
    (lambda s: s["scaling"].update(pdo=0), "scaling.pdo"),
    (lambda s: s["scaling"].update(range=[900, 300]), "scaling.range"),
    (lambda s: s["scaling"].update(range=[300]), "scaling.range"),
    (lambda s: s["scaling"].update(range=[300, float("inf")]), "scaling.range"),
    (lambda s: s["characteristics"][1].update(type="text"), "characteristics[1]"),
])
def test_malformed_scorecards_are_refused_naming_the_part(mutate, field):
    spec = copy.deepcopy(card())
    mutate(spec)
    with pytest.raises(InvalidScorecard) as err:
        scorecard.validate(spec)
    assert err.value.field == field


def test_configured_range_holds_the_score_not_the_pd():
    spec = copy.deepcopy(card(pdo=50, base_score=600, base_odds=20))
    spec["scaling"]["range"] = [300, 900]
    spec = scorecard.validate(spec)
    free = card(pdo=50, base_score=600, base_odds=20)
    X = pd.DataFrame({"late": [1.0, 40.0, 40.0], "trend": [0.5, -0.5, 0.5],
                      "industry": ["a", "c", "a"]})
    for intercept, end in ((12.0, 900), (-6.0, 300)):
        spec["intercept"] = free["intercept"] = intercept
        held, raw = scorecard.apply(spec, X), scorecard.apply(free, X)
        assert (raw.score - end).abs().min() > 0 and set(held.score) == {end}
        assert held.pd.tolist() == raw.pd.tolist()
        assert held.grade.tolist() == raw.grade.tolist()
    spec["intercept"] = free["intercept"] = 3.0
    assert scorecard.apply(spec, X).score.tolist() == scorecard.apply(free, X).score.tolist()


def test_json_round_trip_scores_identically():
    spec = expert.spec()
    again = scorecard.loads(scorecard.dumps(spec))
    X = pd.DataFrame({ch["name"]: np.linspace(-1, 40, 7) for ch in spec["characteristics"]})
    X.iloc[2] = np.nan
    a, b = scorecard.apply(spec, X), scorecard.apply(again, X)
    assert (a.score == b.score).all() and (a.grade == b.grade).all()


def test_expert_card_writes_down_a_reason_for_every_characteristic():
    spec = expert.spec()
    for ch in spec["characteristics"]:
        assert len(ch["why"]) > 30 and ch["reason_en"] and ch["reason_zh"]
    assert [g["grade"] for g in spec["grades"]] == list("ABCDE")
    assert spec["scaling"]["offset"] == pytest.approx(600 - 40 / math.log(2) * math.log(5),
                                                      abs=1e-3)
    # The configured range covers the PDs the grades and a distressed park need.
    lo, hi = scorecard.score_range(spec)
    assert scorecard.score_for_pd(spec, 0.95) > lo and scorecard.score_for_pd(spec, 0.0012) < hi
    assert all(lo < g["min_score"] < hi for g in spec["grades"] if g["min_score"])


def test_a_neutral_missing_value_shows_its_points_short_but_is_no_reason():
    """Reader 13, J9: a row read 得分 0, 最高可得分 12, 失分 0 although the page defines 失分
    as the most less the points given (12). A neutral missing value now shows the 12,
    marked missing, and is still never a reason."""
    ex = expert.spec()
    names = [c["name"] for c in ex["characteristics"]]
    neutral = [c["name"] for c in ex["characteristics"]
               if c.get("missing", {}).get("neutral")]
    assert neutral
    X = pd.DataFrame({n: [np.nan] for n in names})
    got = scorecard.apply(ex, X)
    rows = {r["name"]: r for r in scorecard.breakdown(ex, got.points.iloc[0], got.bins.iloc[0])}
    for name in neutral:
        row = rows[name]
        assert row["missing"] and row["lost"] == row["best"] - row["points"], row
    assert any(rows[n]["lost"] > 0 for n in neutral)
    codes = {r.code for r in scorecard.reasons(ex, got.points.iloc[0], got.bins.iloc[0])}
    assert not codes & set(neutral)
    assert not {r.code for r in scorecard.all_reasons(ex, got)[0]} & set(neutral)
