"""The stacked challenger (family ``blend``): weights learnt out of fold on the training
rows, every member refitted on all rows, scores reproducible from the JSON alone, honest
reasons (contributions that add up to the blend's own logit), and the same refusals as
the other cards."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from tests.scoring.test_training import synthetic
from trellis.scoring import blend, blend_fit, calibration, metrics, scorecard, training
from trellis.scoring.errors import InvalidScorecard, TrainingDataError


@pytest.fixture(scope="module")
def blended():
    df, _ = synthetic(n=1200, seed=11)
    spec = training.train(df, target="bad", family="blend", seed=0, monotone={"x1": 1},
                          labels={"x1": {"en": "x1 is high", "zh": "x1偏高"}})
    return df, spec


def test_blend_is_stacked_out_of_fold_and_refitted_on_every_row(blended):
    df, spec = blended
    assert spec["family"] == "blend"
    model = spec["model"]
    kinds = [m["kind"] for m in model["members"]]
    assert kinds and set(kinds) <= {"woe", "gbm", "onehot", "svm"}
    assert all(m["weight"] > 0 for m in model["members"])
    assert model["stacking"]["folds"] == 5
    assert set(model["stacking"]["weights"]) == {m.get("name", m["kind"])
                                                 for m in model["members"]}
    assert spec["validation"]["refit_on_all_rows"] is True
    assert spec["reference_scores"]["n"] == len(df)
    # the blend ranks the held-out rows about as well as the known signal allows
    assert spec["validation"]["validation"]["auc"] > 0.75


def test_blend_scores_are_reproducible_after_export_and_import(blended):
    df, spec = blended
    X = training._frame_for(spec, df)
    before = scorecard.apply(spec, X)
    back = scorecard.loads(scorecard.dumps(spec))
    after = scorecard.apply(back, training._frame_for(back, df))
    assert (before.score == after.score).all()
    assert np.allclose(before.pd, after.pd, rtol=0, atol=1e-12)
    assert (before.grade == after.grade).all()


def test_blend_reasons_add_up_to_its_logit_and_are_in_plain_words(blended):
    df, spec = blended
    X = training._frame_for(spec, df)
    s = scorecard.apply(spec, X)
    # the contributions are the blend's own: they and the rest sum to its log-odds
    contrib, rest = blend.contributions(spec, X)
    assert np.allclose(rest + contrib.sum(axis=1), s.logodds)
    worst = X.index[int(np.argmax(s.pd.to_numpy()))]
    reasons = scorecard.all_reasons(spec, s)[worst]
    assert reasons and all(r.points_lost > 0 for r in reasons)
    assert reasons == sorted(reasons, key=lambda r: -r.points_lost)
    x1 = [r for r in reasons if r.code == "x1"]
    assert x1 and x1[0].en == "x1 is high" and x1[0].zh == "x1偏高"
    one = scorecard.reasons(spec, s.points.loc[worst], s.bins.loc[worst])
    assert one == reasons
    # a firm with the least risk by the blend has no reason as large as the worst firm's
    best = X.index[int(np.argmin(s.pd.to_numpy()))]
    assert sum(r.points_lost for r in scorecard.all_reasons(spec, s)[best]) < \
        sum(r.points_lost for r in reasons)


def test_blend_refuses_a_table_without_its_features(blended):
    df, spec = blended
    with pytest.raises(TrainingDataError, match="x1"):
        training._frame_for(spec, df.drop(columns=["x1"]))


def test_blend_document_is_checked_on_import(blended):
    _, spec = blended
    bad = copy.deepcopy(spec)
    bad["model"]["members"][0]["weight"] = -1.0
    with pytest.raises(InvalidScorecard, match="weight"):
        scorecard.loads(scorecard.dumps(bad))
    bad = copy.deepcopy(spec)
    bad["model"]["members"][0]["kind"] = "knn"
    with pytest.raises(InvalidScorecard, match="kind"):
        scorecard.validate(bad)
    bad = copy.deepcopy(spec)
    bad["model"]["members"] = []
    with pytest.raises(InvalidScorecard):
        scorecard.validate(bad)


def test_blend_is_calibrated_and_recalibrates(blended):
    df, spec = blended
    y = training.parse_target(df["bad"], "bad").to_numpy()
    X = training._frame_for(spec, df)
    assert calibration.report(spec, X, y)["ratio"] == pytest.approx(1.0, abs=0.15)
    shifted = calibration.anchor(spec, X, 0.02, source="test")
    assert scorecard.apply(shifted, X).pd.mean() == pytest.approx(0.02, abs=1e-5)
    back = scorecard.loads(scorecard.dumps(shifted))
    assert np.allclose(scorecard.apply(back, X).pd, scorecard.apply(shifted, X).pd)
    # the ranking is untouched by the level
    assert (np.argsort(scorecard.apply(back, X).pd.to_numpy(), kind="stable")
            == np.argsort(scorecard.apply(spec, X).pd.to_numpy(), kind="stable")).all()


def _logits(n=3000, seed=2, woe_only=False):
    """Members' out-of-fold bad logits: each sees its own half of the risk, or (woe_only)
    the WoE member sees all of it and the others only noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + a + b)))).astype(int)
    if woe_only:
        L = np.column_stack([a + b, rng.normal(size=n), rng.normal(size=n)])
    else:
        L = np.column_stack([a + 0.3 * rng.normal(size=n), b + 0.3 * rng.normal(size=n),
                             0.5 * (a + b) + rng.normal(size=n)])
    return L, y


def test_inner_cross_validation_chooses_how_to_combine_the_members():
    names = ["woe", "gbm", "onehot"]
    L, y = _logits()
    sel = blend_fit.choose(L, y, names)
    assert set(sel["auc"]) == {"learnt", "equal", "gbm", "onehot", "woe"}
    assert sel["chosen"] in ("learnt", "equal")  # each member alone sees half the risk
    assert sel["auc"][sel["chosen"]] > sel["auc"]["woe"] + 0.05
    L, y = _logits(woe_only=True)
    sel = blend_fit.choose(L, y, names)
    assert sel["chosen"] == "woe"  # the others add only noise
    assert sel["auc"]["equal"] < sel["auc"]["woe"] - 0.05
    # equal weights: the standardised logits averaged, then Platt-scaled (positive weights)
    a, w = blend_fit._combination("equal", L, y, names)
    sd = L.std(axis=0)
    assert all(v > 0 for v in w.values())
    assert np.allclose([w[n] * sd[i] for i, n in enumerate(names)], w["woe"] * sd[0])


def test_the_blend_card_records_its_combination(blended):
    _, spec = blended
    st = spec["model"]["stacking"]
    assert st["combine"] == "equal" and st["selection"] is None
    assert set(st["weights"]) == {m.get("name", m["kind"]) for m in spec["model"]["members"]}


def test_the_blend_averages_its_members_with_fixed_equal_weights(blended):
    """Issue 14, fifth pass: by default the members are averaged with fixed equal weights
    on their standardised out-of-fold logits (no choice, no learnt weights: on a few
    hundred rows either adds more variance than it removes), and the members include a
    second WoE card with optbinning's free binning beside the monotone one."""
    df, spec = blended
    members = spec["model"]["members"]
    names = [m.get("name", m["kind"]) for m in members]
    assert names == list(blend_fit.MEMBERS) == ["woe", "woe_free", "gbm_xt", "rf", "onehot",
                                                "svm"]
    free = members[names.index("woe_free")]
    assert free["kind"] == "woe" and free["card"]["version"] == "member-woe_free"
    assert free["card"]["characteristics"] and isinstance(free["means"], dict)
    # sixth pass: extra-trees boosting and a random forest in place of the boosted card
    assert [members[names.index(n)]["kind"] for n in ("gbm_xt", "rf")] == ["gbm", "gbm"]
    assert all(m["weight"] > 0 for m in members)
    assert spec["model"]["stacking"]["combine"] == "equal"


def test_a_blend_card_of_the_earlier_format_still_loads_and_scores(blended):
    """Cards stored before the fifth pass hold members without names (three kinds,
    learnt or chosen weights): they load and score as before, with no migration."""
    df, spec = blended
    old = copy.deepcopy(spec)
    old["model"]["members"] = [m for m in old["model"]["members"]
                               if m.get("name") in (None, "gbm_xt") and m["kind"] != "svm"]
    for m in old["model"]["members"]:  # a boosted member, as stored then: no name
        m.pop("name", None)
    assert [m["kind"] for m in old["model"]["members"]] == ["woe", "gbm", "onehot"]
    old["model"]["stacking"].update({"combine": "learnt", "selection": None})
    back = scorecard.loads(scorecard.dumps(old))
    s = scorecard.apply(back, training._frame_for(back, df))
    assert s.pd.between(0, 1).all() and s.pd.nunique() > 10


def test_the_inner_choice_can_keep_the_boosted_card_alone():
    """Issue 14, fourth pass: before, a member alone could only be the WoE card, so a
    blend whose boosted member carried all the signal still mixed in the others."""
    names = ["woe", "gbm", "onehot"]
    L, y = _logits(woe_only=True)
    L = L[:, [1, 0, 2]]  # the signal now in the boosted member's column
    sel = blend_fit.choose(L, y, names)
    assert sel["chosen"] == "gbm"
    assert sel["auc"]["gbm"] > sel["auc"]["equal"] + 0.05


def test_the_onehot_member_takes_a_long_tail_as_its_logarithm_and_cuts_outliers():
    rng = np.random.default_rng(5)
    n = 400
    size = np.exp(rng.normal(14, 2, n))  # amounts in fen over orders of magnitude
    share = rng.random(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(np.log(size) - 14)))).astype(int)
    X = pd.DataFrame({"sales_fen": size, "share": share})
    model = blend_fit.fit_onehot(X, y, ["sales_fen", "share"], [])
    p, q = model["numeric"]["sales_fen"], model["numeric"]["share"]
    assert p["log"] and not q["log"]
    assert p["clip"][0] == pytest.approx(np.quantile(np.log1p(size), 0.02))
    # A firm far beyond the training range scores as the top of the range, not beyond.
    far = pd.DataFrame({"sales_fen": [size.max() * 1e6, size.max()], "share": [0.5, 0.5]})
    member = {"kind": "onehot", "model": model}
    a, b = blend.member_logodds(member, far)
    assert a == pytest.approx(b)
    # and ranks the rows by the logarithm: a clear signal
    assert metrics_auc(y, -blend.member_logodds(member, X)) > 0.7


def metrics_auc(y, p):
    from trellis.scoring import metrics

    return metrics.auc(y, p)


@pytest.mark.parametrize("name", sorted(blend_fit.TREES))
def test_the_free_tree_members_keep_only_the_stated_directions(name):
    """Issue 14, sixth pass: the extra-trees and random-forest members are LightGBM cards
    (kind gbm, exact TreeSHAP reasons) with their own settings; they keep the directions
    the caller states (Trellis's features: the expert card's) and leave every other
    feature free, where the boosted member also constrains the directions the data
    suggest."""
    df, _ = synthetic(n=1500, seed=3)
    y = training.parse_target(df["bad"], "bad").to_numpy()
    df["x3"] = df["x1"].fillna(0.0) + df["noise"]  # risk clearly rises with it
    numeric, categorical = ["x1", "x2", "x3", "noise"], ["sector"]
    X = training._prepare(df, numeric, categorical)
    m = blend_fit._fit_member(name, X, y, numeric, categorical, 0, {"x1": 1})
    assert m["kind"] == "gbm" and m["name"] == name
    assert m["card"]["model"]["monotone"] == {"x1": 1, "x2": 0, "x3": 0, "noise": 0}
    g = blend_fit._fit_member("gbm", X, y, numeric, categorical, 0, {"x1": 1})
    assert g["card"]["model"]["monotone"]["x3"] == 1  # the data's direction, constrained
    text = m["card"]["model"]["booster"]
    assert ("[boosting: rf]" in text) == (name == "rf")
    assert ("[extra_trees: 1]" in text) == (name == "gbm_xt")
    grid = pd.DataFrame({"x1": np.linspace(-3, 3, 61), "x2": 0.0, "x3": 0.0,
                         "sector": "retail", "noise": 0.0})
    bad = -blend.member_logodds(m, grid)
    assert (np.diff(bad) >= -1e-9).all() and bad[-1] > bad[0] + 1.0
    # it ranks the rows (the signal is in x1, sector, x2)
    assert metrics.auc(y, -blend.member_logodds(m, X)) > 0.7


# --- the kernel member (issue 14, tenth pass) ---------------------------------------------

def _shapley_by_enumeration(model, x_row):
    """Shapley values of the kernel member's product game for one row, by enumerating
    every coalition (the definition; exponential, for a handful of features only)."""
    import itertools
    import math

    Z = blend._svm_design(model, x_row)[0]
    cols = model["columns"]
    feats = list(dict.fromkeys(c.split("\x1f")[0] for c in cols))
    S, alpha = np.asarray(model["support"]), np.asarray(model["dual"])

    def value(coalition):
        k = np.ones(len(alpha))
        for f in coalition:
            j = [i for i, c in enumerate(cols) if c.split("\x1f")[0] == f]
            k *= np.exp(-model["gamma"] * ((Z[j][None, :] - S[:, j]) ** 2).sum(axis=1))
        return float(k @ alpha)

    F, out = len(feats), {}
    for f in feats:
        others = [o for o in feats if o != f]
        out[f] = sum(math.factorial(q) * math.factorial(F - q - 1) / math.factorial(F)
                     * (value((*c, f)) - value(c))
                     for q in range(F) for c in itertools.combinations(others, q))
    return out


def test_the_kernel_member_reasons_are_its_exact_shapley_values():
    """The kernel machine's reasons are the Shapley values of its Gaussian kernel's
    product game, computed exactly (not sampled): equal to the enumeration of every
    coalition, and with the rest they sum to its decision value."""
    df, _ = synthetic(n=500, seed=3)
    y = training.parse_target(df["bad"], "bad").to_numpy()
    numeric, categorical = ["x1", "x2", "noise"], ["sector"]
    X = training._prepare(df, numeric, categorical)
    model = blend_fit.fit_svm(X, y, numeric, categorical)
    c, rest = blend.svm_contributions(model, X.iloc[:4])
    assert np.allclose(c.sum(axis=1) + rest, blend.svm_decision(model, X.iloc[:4]),
                       rtol=0, atol=1e-10)
    for i in range(2):
        want = _shapley_by_enumeration(model, X.iloc[[i]])
        assert c.iloc[i].to_dict() == pytest.approx(want, rel=1e-9, abs=1e-12)
    # as a member: centred on the training mean, summing to its ln(good:bad odds)
    member = {"kind": "svm", "model": model}
    mc, mrest = blend.member_contributions(member, X)
    assert np.allclose(mc.sum(axis=1) + mrest, blend.member_logodds(member, X))
    assert np.allclose(mc.mean(), 0.0, atol=1e-6)
    # the signal is in x1 (risk rises with it): its share of the risk follows it
    x1 = X["x1"]
    assert (-mc["x1"])[x1 > x1.quantile(0.75)].mean() > \
        (-mc["x1"])[x1 < x1.quantile(0.25)].mean() + 0.1
    assert metrics.auc(y, blend.svm_decision(model, X)) > 0.7


def test_the_kernel_member_reasons_stay_exact_with_many_features():
    """With dozens of features (the outside park's table has 72) the reasons must still
    add up: sums of elementary symmetric polynomials lost every digit there (an error of
    thousands on decision values of about 2); quadrature of the Beta integral does not."""
    rng = np.random.default_rng(7)
    n, k = 300, 60
    X = pd.DataFrame(rng.normal(size=(n, k)), columns=[f"f{i}" for i in range(k)])
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * (X["f0"] + X["f1"] - X["f2"])))) \
        .astype(int).to_numpy()
    model = blend_fit.fit_svm(X, y, list(X.columns), [])
    c, rest = blend.svm_contributions(model, X)
    d = blend.svm_decision(model, X)
    assert np.abs(c.sum(axis=1) + rest - d).max() < 1e-9
    assert set(c.abs().mean().nlargest(3).index) == {"f0", "f1", "f2"}


def test_an_incomplete_kernel_member_is_refused(blended):
    _, spec = blended
    bad = copy.deepcopy(spec)
    m = next(m for m in bad["model"]["members"] if m["kind"] == "svm")
    m["model"]["support"][0] = m["model"]["support"][0][:-1]
    with pytest.raises(InvalidScorecard, match="kernel model is incomplete"):
        scorecard.loads(scorecard.dumps(bad))
