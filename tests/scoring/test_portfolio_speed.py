"""The portfolio's shortcuts (issue 18, fifth pass) give what the code they replace gave:
the lookup-table membership is ``np.isin``, the hashed repeat keys never miss a repeat
``DataFrame.duplicated`` finds, the one-pass invoice numbers are ``normalise_number``'s,
and the meter screen's vectorised pre-selection never skips a firm its rules flag."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from trellis.scoring import features, screens


@pytest.mark.parametrize("seed", range(6))
def test_member_is_np_isin(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 5_000, size=rng.integers(0, 3_000))
    ints = rng.integers(-10, 5_200, size=4_000)
    floats = ints.astype(float)
    floats[rng.random(floats.size) < 0.2] = np.nan
    floats[rng.random(floats.size) < 0.05] += 0.5  # not an id whatever its neighbours
    assert np.array_equal(features.member(ints, ids), np.isin(ints, ids))
    assert np.array_equal(features.member(floats, ids), np.isin(floats, ids))
    # ids spread wider than the table allows: np.isin itself
    wide = np.concatenate([ids, [10**12]])
    assert np.array_equal(features.member(floats, wide), np.isin(floats, wide))
    assert features.member(np.zeros(0), ids).shape == (0,)
    assert not features.member(ints, np.zeros(0, dtype="int64")).any()


@pytest.mark.parametrize("seed", range(6))
def test_shared_rows_hold_every_duplicated_row(seed):
    rng = np.random.default_rng(seed)
    n = 5_000
    cols = [rng.integers(0, 40, n), rng.integers(0, 40, n), rng.integers(0, 30, n) * 10**9,
            rng.integers(-3, 3, n)]
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
    for k in (1, 2, 4):
        exact = frame.iloc[:, :k].duplicated(keep=False).to_numpy()
        found = screens._shared_rows(*cols[:k])
        assert not (exact & ~found).any()
        assert found.sum() <= exact.sum() + 5  # a 64-bit key: collisions are rare


def test_normalised_numbers_are_normalise_numbers():
    rnd = random.Random(7)
    alphabet = "0123456789abcXYZ-_/ .#发票号Ａ１０ßǅ\u00a0\t"
    numbers = ["", "0", "000", "0-0-1", "00a1", "ABC", "abc", "ß12", "ǅ", "１２３", "0x0F"]
    numbers += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
                for _ in range(3_000)]
    assert screens._normalised(numbers) == [screens.normalise_number(x) for x in numbers]


def _one_by_one(sales, power, heads) -> dict[int, list]:
    return {i: found for i in range(sales.shape[0])
            if (found := screens._meter_flags(sales[i], power[i], heads[i]))}


@pytest.mark.parametrize("seed", range(8))
def test_meter_candidates_hold_every_firm_the_rules_flag(seed):
    """Random months built round the rules' thresholds (growth near 2x and 2.5x, power
    near 15% of its usual level, gaps in the readings): every row the rules flag is among
    the candidates, and the screen flags what the one-by-one loop flags."""
    rng = np.random.default_rng(seed)
    n, months = 3_000, 12 + screens.PAPER_RECENT_MONTHS
    base = rng.integers(1, 50, size=(n, 1)) * 100_000.0
    growth = rng.choice([1.0, 1.9, 2.0, 2.1, 2.5, 2.6, 3.0], size=(n, 1))
    sales = np.where(np.arange(months) < 6, base * growth, base)
    sales = np.where(rng.random((n, months)) < 0.1, 0.0, sales)
    sales[rng.random(n) < 0.2, 13:] = 0.0  # young sellers: half on half
    kwh = rng.uniform(500, 5_000, size=(n, 1)) * rng.uniform(0.97, 1.03, size=(n, months))
    power = np.where(np.arange(months) < 2,
                     kwh * rng.choice([1.0, 0.1, 0.15, 0.16, 0.5], size=(n, 1)), kwh)
    power = np.round(power, 1)
    power[rng.random((n, months)) < rng.choice([0.0, 0.2, 0.6], size=(n, 1))] = np.nan
    power[rng.random(n) < 0.1] = np.nan  # no readings at all
    heads = np.where(rng.random((n, months)) < 0.5, np.nan,
                     rng.integers(5, 50, size=(n, 1)) * rng.choice([1.0, 1.2], size=(n, 1)))
    flagged = _one_by_one(sales, power, heads)
    kinds = {f.code for flags in flagged.values() for f in flags}
    assert kinds == {"paper_trade", "power_stopped"}  # the rules fire in this data
    candidates = set(screens._meter_candidates(sales, power).tolist())
    assert set(flagged) <= candidates
    assert len(candidates) < n / 2  # and most firms are skipped


def test_round6_is_python_round():
    rng = np.random.default_rng(3)
    x = np.concatenate([
        rng.normal(0, 1, 20_000), rng.normal(0, 1e4, 5_000), rng.uniform(-1, 1, 5_000) * 1e-5,
        np.round(rng.normal(0, 10, 5_000), 6) + 5e-7,  # near ties
        np.round(rng.normal(0, 10, 5_000), 7), rng.integers(-10**9, 10**9, 2_000) / 8.0,
        [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e-300, 0.5e-6, 1.5e-6, 2.5e-6,
         2**40 / 1e6, 1.0000005, 99.0, 0.1234565]])
    got = features._round6(x)
    want = [None if v != v else round(v, 6) for v in x.tolist()]
    assert [repr(v) for v in got] == [repr(v) for v in want]


@pytest.mark.parametrize("seed", range(4))
def test_edge_table_over_arrays_is_the_pandas_grouping(seed, monkeypatch):
    from datetime import date, timedelta

    from trellis.network import build

    rng = np.random.default_rng(seed)
    n = 4_000
    as_of = date(2026, 6, 30)
    days = 2_000 if seed % 2 else 300  # some pairs only before the window, or none
    invoices = pd.DataFrame({
        "seller_id": rng.integers(1, 60, n), "buyer_id": rng.integers(1, 60, n),
        "amount_fen": rng.integers(1, 10**9, n),
        "issue_date": pd.to_datetime([as_of - timedelta(days=int(d))
                                      for d in rng.integers(-5, days, n)]).astype(
            "datetime64[s]"),
        "status": rng.choice(["pending", "confirmed", "rejected"], n)})
    known = set(range(1, 55))
    fast = build.edge_table(invoices, as_of, known=known)
    monkeypatch.setattr(build, "_edge_arrays", lambda inv, start: None)
    slow = build.edge_table(invoices, as_of, known=known)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert (fast["first_day"].dtype.kind == "f") == bool(seed % 2)


@pytest.mark.parametrize("seed", range(6))
def test_lex_order_is_np_lexsort(seed):
    """The near-duplicate search's packed sort gives np.lexsort's permutation: keys of
    every width (packed into one, into several, or too wide to pack), dates as whole days
    in seconds, ties in row order, and a NaT among the dates (falls back)."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(0, 2_000))
        keys = [rng.integers(-w, w, n) for w in
                rng.choice([3, 1_000, 10**6, 10**12, 2**62], size=4)]
        if rng.random() < 0.5:
            keys[3] = keys[3] % 10_000 * 86_400
        want = np.lexsort(tuple(reversed(keys)))
        assert np.array_equal(screens._lex_order(*keys), want)
    nat = np.iinfo("int64").min
    keys = [np.array([5, 5, 1, 1, 5]), np.array([nat, 10**9, 3, nat, 10**9])]
    assert np.array_equal(screens._lex_order(*keys), np.lexsort(tuple(reversed(keys))))


def test_records_is_to_jsonable_row_by_row():
    """The float columns are rounded in one pass over all of them (tenth pass): each row
    is still :func:`features.to_jsonable` of that row, ints, floats, NaN and text mixed."""
    rng = np.random.default_rng(5)
    n = 300
    frame = pd.DataFrame({
        "a": rng.normal(0, 1, n), "count": rng.integers(0, 50, n),
        "b": np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 1e4, n)),
        "label": rng.choice(["x", "y", None], n).astype(object),
        "c": np.round(rng.normal(0, 10, n), 6) + 5e-7, "d": rng.integers(-9, 9, n) / 8.0},
        index=pd.Index(rng.permutation(np.arange(1, n + 1)) * 7))
    got = features.records(frame)
    want = {int(fid): features.to_jsonable(row) for fid, row in frame.iterrows()}
    assert list(got) == list(want)
    assert {f: [repr(v) for v in r.values()] for f, r in got.items()} == {
        f: [repr(v) for v in r.values()] for f, r in want.items()}
    assert features.records(frame.iloc[:0]) == {}
    assert features.records(frame[["count", "label"]]) == {
        int(fid): features.to_jsonable(row) for fid, row in frame[["count", "label"]].iterrows()}


@pytest.mark.parametrize("seed", range(4))
def test_identity_groups_are_the_pandas_grouping(seed):
    """Shared phones, accounts and addresses grouped over plain lists (tenth pass): the
    groups, their order and their members' order are pandas' (reference_screens)."""
    from tests.scoring import reference_screens

    rng = random.Random(seed)
    n = 400
    phones = [None if rng.random() < 0.1 else
              rng.choice(["", "+86 ", "0574-"]) + str(13_600_000_000 + rng.randrange(60))
              for _ in range(n)]
    accounts = [None if rng.random() < 0.1 else
                rng.choice(["", "6222 ", "ab-"]) + str(rng.randrange(40)) * rng.randrange(1, 4)
                for _ in range(n)]
    streets = ["通达路597号", "中山路 12#", "Main St. 5", "环城北路-8", "A1", "江北"]
    addresses = [None if rng.random() < 0.1 else rng.choice(streets) + rng.choice(["", "，", " "])
                 for _ in range(n)]
    firms = pd.DataFrame({"phone": pd.array(phones, dtype="str"), "bank_account": accounts,
                          "address": pd.array(addresses, dtype="str")},
                         index=pd.Index(rng.sample(range(1, 5 * n), n)))
    for col in ("phone", "bank_account", "address"):
        want = reference_screens._identity_groups(firms, col)
        assert screens._identity_groups(firms, col) == want
        assert want  # the data holds groups to compare


def _group_medians_by_pandas(power: pd.DataFrame, group: dict) -> dict[str, dict]:
    """The chain and industry medians as pandas' grouped median gave them (ninth pass)."""
    frame = power.assign(group=pd.Series([group.get(int(f)) for f in power.index],
                                         index=power.index, dtype=object))
    frame = frame.dropna(subset=["group"])
    result = {}
    for name in ("trend", "yoy"):
        g = frame.dropna(subset=[name]).groupby("group")[name]
        med, size = g.median(), g.size()
        result[name] = {a: float(m) for a, m in med.items()
                        if size[a] >= features.CHAIN_MIN_PEERS}
    return result


@pytest.mark.parametrize("seed", range(5))
def test_group_medians_are_pandas_grouped_medians(seed):
    rng = np.random.default_rng(seed)
    n = 600
    ids = rng.choice(np.arange(1, 5_000), n, replace=False)
    power = pd.DataFrame({"trend": rng.normal(0, 0.3, n), "yoy": rng.normal(0.05, 0.2, n)},
                         index=pd.Index(ids, name="firm_id"))
    power.loc[rng.random(n) < 0.2, "trend"] = np.nan
    power.loc[rng.random(n) < 0.3, "yoy"] = np.nan
    by_anchor = {int(f): int(rng.integers(1, 40)) for f in ids if rng.random() < 0.9}
    by_division = {int(f): (int(rng.integers(1, 3)), f"C{rng.integers(30, 40)}")
                   for f in ids if rng.random() < 0.9}
    for group in (by_anchor, by_division, {}):
        got = features._group_medians(power, group)
        want = _group_medians_by_pandas(power, group)
        assert {k: sorted(v.items()) for k, v in got.items()} == {
            k: sorted(v.items()) for k, v in want.items()}
    assert any(len(v) for v in features._group_medians(power, by_division).values())


@pytest.mark.parametrize("seed", range(6))
def test_sort_pairs_is_np_lexsort(seed):
    """The edge table's packed sort gives np.lexsort's permutation (seller, then buyer,
    ties in row order): small ids, ids too wide to pack, negative ids (fall back)."""
    from trellis.network import build

    rng = np.random.default_rng(seed)
    for _ in range(30):
        n = int(rng.integers(0, 3_000))
        lo, hi = [(1, 60), (0, 2**40), (-5, 60), (1, 10**6)][int(rng.integers(0, 4))]
        s, b = rng.integers(lo, hi, n), rng.integers(lo, hi, n)
        assert np.array_equal(build._sort_pairs(s, b), np.lexsort((b, s)))
