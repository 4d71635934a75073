"""Training from labelled tables: known signal recovered, honest validation, calibration,
PSI, champion/challenger, and the German credit data in line with published results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trellis.scoring import metrics, scorecard, training
from trellis.scoring.errors import TrainingDataError

GERMAN = Path(__file__).parent / "data" / "german_credit.csv.gz"


def synthetic(n=4000, seed=5, shift=0.0):
    """A table with a known signal: PD depends on x1 (strong), c (moderate), x2 (weak)."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, n)
    x2 = rng.normal(0, 1, n)
    c = rng.choice(["retail", "factory", "transport", "build"], n, p=[0.4, 0.3, 0.2, 0.1])
    noise = rng.normal(0, 1, n)
    logit = -2.2 + 1.1 * x1 + 0.25 * x2 + np.where(c == "build", 0.9, 0.0) \
        - np.where(c == "factory", 0.4, 0.0)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    x1_seen = x1.copy()
    x1_seen[rng.random(n) < 0.1] = np.nan  # missing values, missing at random
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 900, n)), "D")
    df = pd.DataFrame({"id": [f"A{i:06d}" for i in range(n)], "x1": x1_seen, "x2": x2,
                       "sector": c, "noise": noise, "applied": dates.date.astype(str),
                       "bad": np.where(y == 1, "yes", "no")})
    return df, p


@pytest.fixture(scope="module")
def trained():
    df, p = synthetic()
    return df, p, training.train(df, target="bad", date_column="applied", version="syn-1")


def test_known_signal_is_recovered(trained):
    df, p, spec = trained
    names = {c["name"] for c in spec["characteristics"]}
    assert {"x1", "sector"} <= names and "id" not in names and "applied" not in names
    assert any("id" in d for d in spec["columns"]["dropped"])
    val = spec["validation"]
    assert val["split"]["kind"] == "out_of_time"
    cut = val["split"]["cut"]
    holdout = (df["applied"] > cut).to_numpy()
    best = metrics.auc((df["bad"] == "yes").to_numpy()[holdout], p[holdout])
    # The true model's AUC on the same rows bounds what any model can do; 10% of x1 is
    # missing, so the card gets within a few points of it.
    assert best - 0.05 < val["validation"]["auc"] <= best + 0.02
    assert val["validation"]["gini"] == pytest.approx(2 * val["validation"]["auc"] - 1, abs=1e-3)
    assert 0 < val["validation"]["ks"] < 1 and 0 < val["validation"]["brier"] < 0.25


def test_missing_values_get_their_own_bin(trained):
    _, _, spec = trained
    x1 = next(c for c in spec["characteristics"] if c["name"] == "x1")
    assert x1["reference_shares"][len(x1["bins"])] == pytest.approx(0.1, abs=0.02)
    # Missing at random: its log-odds sit between the best and the worst bin.
    los = [b["logodds"] for b in x1["bins"]]
    assert min(los) < x1["missing"]["logodds"] < max(los)


def test_bins_are_monotonic_for_numeric_characteristics(trained):
    _, _, spec = trained
    x1 = next(c for c in spec["characteristics"] if c["name"] == "x1")
    los = [b["logodds"] for b in x1["bins"]]
    assert los == sorted(los, reverse=True)  # higher x1, riskier


def test_calibrated_pd_matches_observed_rates(trained):
    _, _, spec = trained
    cal = spec["validation"]["validation"]["calibration"]
    pred = sum(r["mean_pd"] * r["n"] for r in cal) / sum(r["n"] for r in cal)
    seen = sum(r["bads"] for r in cal) / sum(r["n"] for r in cal)
    assert abs(pred - seen) < 0.03
    # Deciles of predicted PD: the riskiest decile has a far higher bad rate than the safest.
    assert cal[-1]["bad_rate"] > 3 * cal[0]["bad_rate"]


def test_card_reproduces_the_fitted_pipeline():
    df, _ = synthetic(n=1500, seed=9)
    y = training.parse_target(df["bad"], "bad").to_numpy()
    num, cat, _ = training._columns(df, "bad", "applied", ())
    X = training._prepare(df, num, cat)
    bp = training._fit_binning(X, y, num, cat)
    names, lr = training._select_signs(bp, X, y, [str(n) for n in bp.get_support(names=True)])
    spec = training.fit(df, y, num, cat, version="p", calibrate=False)
    s = scorecard.apply(spec, X)
    raw = lr.decision_function(training._woe(bp, X, names).to_numpy())
    assert np.allclose(s.logodds.to_numpy(), -raw, atol=1e-4)


@pytest.mark.parametrize("shift,status", [(0.0, "stable"), (1.5, "shifted")])
def test_psi_flags_a_shifted_population(trained, shift, status):
    _, _, spec = trained
    df, _ = synthetic(n=2000, seed=11, shift=shift)
    rep = training.evaluate(spec, df, target="bad")
    assert rep["stability"]["characteristics"]["x1"]["status"] == status
    assert rep["stability"]["score"]["status"] == status


def test_challenger_must_beat_the_champion_by_more_than_the_noise(trained):
    df, _, spec = trained
    weak_df = df.drop(columns=["x1"])
    weak = training.train(weak_df, target="bad", version="weak")
    val, _ = synthetic(n=3000, seed=21)
    same = training.compare(spec, spec, val, target="bad", n_boot=200)
    assert same["difference"] == 0 and not same["promote"]
    better = training.compare(weak, spec, val, target="bad", n_boot=200)
    assert better["promote"] and better["ci_low"] > 0
    worse = training.compare(spec, weak, val, target="bad", n_boot=200)
    assert not worse["promote"] and worse["ci_high"] < 0


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.drop(columns=["bad"]), "bad"),
    (lambda d: d.assign(bad=np.where(d.index % 3 == 0, "maybe", d["bad"])), "bad"),
    (lambda d: d.assign(bad="no").head(500), "bad"),
    (lambda d: d.head(20), "rows"),
    (lambda d: d[["bad"]], "columns"),
])
def test_unusable_tables_get_a_plain_error(mutate, field):
    df, _ = synthetic(n=600)
    with pytest.raises(TrainingDataError) as err:
        training.train(mutate(df), target="bad")
    assert err.value.field == field


def test_german_credit_in_line_with_published_results():
    """Weight-of-evidence logistic scorecards reach about 0.77-0.81 AUC on this set."""
    df = pd.read_csv(GERMAN)
    spec = training.train(df, target="creditability", cv_folds=5, seed=0)
    cv = spec["validation"]["cross_validation"]
    assert 0.75 <= cv["auc_mean"] <= 0.83
    assert spec["validation"]["validation"]["auc"] >= 0.74
    assert {"status_of_existing_checking_account", "duration_in_month"} <= {
        c["name"] for c in spec["characteristics"]}


def test_numbers_held_as_python_objects_are_numeric_not_identifiers():
    # A feature table keeps a late-payment measure with gaps as floats and None in an
    # object column; it is a number, not 300 distinct text values.
    rng = np.random.default_rng(3)
    late = [None if rng.random() < 0.2 else float(v) for v in rng.gamma(2, 10, 300)]
    df = pd.DataFrame({"late": pd.Series(late, dtype=object),
                       "name": [f"firm {i}" for i in range(300)],
                       "bad": rng.integers(0, 2, 300)})
    numeric, categorical, dropped = training._columns(df, "bad", None, ())
    assert numeric == ["late"] and categorical == []
    assert dropped == ["name: 300 distinct text values (an identifier?)"]


def test_a_table_of_more_than_a_hundred_features_is_prepared_without_a_warning():
    """credit11: the outside park's table passed 100 columns; building the design column
    by column made pandas warn of a fragmented frame (an error under the tests' settings)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"f{i}": rng.normal(size=50) for i in range(130)})
    df["kind"] = ["a", "b"] * 25
    num = [f"f{i}" for i in range(130)]
    X = training._prepare(df, num, ["kind"])
    assert list(X.columns) == [*num, "kind"]
    assert X["f3"].tolist() == df["f3"].tolist() and X["kind"].tolist() == df["kind"].tolist()


def test_the_boosted_matrix_of_more_than_a_hundred_features_without_a_warning():
    from trellis.scoring import boosting

    X = pd.DataFrame({f"f{i}": np.arange(5.0) for i in range(130)})
    spec = {"features": [*X.columns, "absent"], "categories": {"f1": ["0.0", "1.0"]}}
    M = boosting.matrix(spec, X)
    assert list(M.columns) == [*X.columns, "absent"]
    assert M["f1"].tolist()[:2] == [0.0, 1.0] and np.isnan(M["f1"].iloc[2])
    assert M["absent"].isna().all() and M["f7"].tolist() == X["f7"].tolist()
