"""More dimensions than trade: power use and insured headcount, as features and screens.
A firm without readings is not assessed and never scored as if it used nothing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.meters import ensure_reading_tables
from trellis.scoring import features, frames, screens
from trellis.trade import readings

AS_OF = date(2026, 1, 15)
MONTHS = [date(2025, m, 1) for m in range(1, 13)]


@pytest.fixture
def park(session, trade, make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    steady, paper, stopped, unmetered = (make_firm(cluster_id=cluster.id, industry="机械")
                                         for _ in range(4))
    peers = [make_firm(cluster_id=cluster.id, industry="机械") for _ in range(4)]
    for f in (steady, stopped, unmetered, *peers):
        trade.monthly_sales(f, anchor, start=date(2025, 1, 5), months=12,
                            amount_fen=100_000_00)
    for i in range(12):  # paper: invoices triple in the second half-year
        trade.sale(paper, anchor, (100_000 if i < 6 else 300_000) * 100, date(2025, i + 1, 5))
    return cluster, anchor, steady, paper, stopped, unmetered, peers


def _readings(park):
    _, _, steady, paper, stopped, _, peers = park
    rows, heads = [], []
    rng = np.random.default_rng(2)
    for f in (steady, paper, *peers):
        for m in MONTHS:
            rows.append((f.id, "electricity", m, 8000 * rng.lognormal(0, 0.05)))
            heads.append((f.id, m, 12))
    for m in MONTHS:
        rows.append((stopped.id, "electricity", m, 8000.0 if m.month < 11 else 300.0))
    util = pd.DataFrame(rows, columns=["firm_id", "utility", "month", "quantity"])
    head = pd.DataFrame(heads, columns=["firm_id", "month", "headcount"])
    util["month"] = pd.to_datetime(util["month"]).astype("datetime64[s]")
    head["month"] = pd.to_datetime(head["month"]).astype("datetime64[s]")
    head["headcount"] = head["headcount"].astype(float)
    return util, head


def _frames(session, park, with_readings=True):
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=park[0].id)
    if with_readings:
        fr.utility, fr.headcount = _readings(park)
    return fr


def test_meter_features_and_absence_is_not_zero(session, park):
    _, _, steady, paper, stopped, unmetered, _ = park
    fr = _frames(session, park)
    X = features.compute(fr)
    assert X.loc[steady.id, "power_months_12m"] == 12
    assert X.loc[steady.id, "power_kwh_month"] == pytest.approx(8000, rel=0.05)
    assert abs(X.loc[steady.id, "power_trend_3v12"]) < 0.1
    assert X.loc[stopped.id, "power_trend_3v12"] < -0.5
    assert X.loc[steady.id, "output_per_kwh_vs_industry"] == pytest.approx(1.0, abs=0.1)
    assert X.loc[paper.id, "output_per_kwh_vs_industry"] > 1.5
    assert X.loc[steady.id, "headcount_now"] == 12
    assert X.loc[steady.id, "headcount_trend_12m"] == 0
    for col in ("power_months_12m", "power_kwh_month", "power_trend_3v12", "output_per_kwh",
                "output_per_kwh_vs_industry", "headcount_now", "headcount_trend_12m"):
        assert np.isnan(X.loc[unmetered.id, col]), col


def test_paper_trade_and_stopped_power_are_flagged_and_nothing_else(session, park):
    _, _, steady, paper, stopped, unmetered, peers = park
    flags = screens.run(_frames(session, park), features.compute(_frames(session, park)))
    codes = {f: {x.code for x in fl} for f, fl in flags.items()}
    assert "paper_trade" in codes.get(paper.id, set())
    ev = next(x for x in flags[paper.id] if x.code == "paper_trade").evidence
    assert ev["sales_growth"] == pytest.approx(3.0) and ev["headcount_growth"] == 1.0
    assert "power_stopped" in codes.get(stopped.id, set())
    for f in (steady, unmetered, *peers):
        assert not codes.get(f.id, set()) & {"paper_trade", "power_stopped"}
    # Without readings, neither screen has anything to say about anyone.
    bare = screens.run(_frames(session, park, False), features.compute(
        _frames(session, park, False)))
    assert not any(x.code in ("paper_trade", "power_stopped") for fl in bare.values()
                   for x in fl)


def test_frames_read_the_reading_tables_when_they_exist(session, park):
    """The onboarding area owns the tables; scoring reads them once they are there and
    only complete months before the as-of date."""
    _, _, steady, *_ = park
    conn = session.connection()
    ensure_reading_tables(session)
    _, _, _, _, _, _, peers = park
    conn.execute(sa.insert(readings.UTILITY_READINGS), [
        {"firm_id": f.id, "utility": "electricity", "month": m, "quantity": 5000}
        for f in (steady, *peers) for m in MONTHS + [date(2026, 1, 1)]])
    conn.execute(sa.insert(readings.HEADCOUNT_RECORDS), [
        {"firm_id": steady.id, "month": m, "headcount": 7} for m in MONTHS])
    for fr in (frames.load(session=session, as_of=AS_OF, cluster_id=park[0].id),
               frames.load(session=session, as_of=AS_OF, firm_ids=[steady.id])):
        # January 2026 is not complete on 15 January; peers are read on both paths.
        assert len(fr.utility) == 12 * 5
        X = features.compute(fr, [steady.id])
        assert X.loc[steady.id, "power_kwh_month"] == 5000
        assert X.loc[steady.id, "headcount_now"] == 7
        assert X.loc[steady.id, "output_per_kwh_vs_industry"] == pytest.approx(1.0)
    early = frames.restrict(frames.load(session=session, as_of=AS_OF, cluster_id=park[0].id),
                            date(2025, 7, 1))
    assert early.utility["month"].max() == pd.Timestamp(2025, 6, 1)


def test_paper_trade_is_judged_year_on_year_so_a_season_is_not_paper(
        session, trade, make_cluster, make_firm):
    """Twenty months of flat power and headcount. A seasonal seller whose last six months
    are twice the six before, but no more than a year before, is not flagged; a seller
    whose sales grew 2.5 times on the same months a year before is."""
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    seasonal, paper = (make_firm(cluster_id=cluster.id) for _ in range(2))
    months = [date(2024 + (4 + m) // 12, (4 + m) % 12 + 1, 5) for m in range(21)]  # 2024-05..
    for day in months:
        peak = day.month in (8, 9, 10, 11, 12, 1)
        trade.sale(seasonal, anchor, (200_000 if peak else 100_000) * 100, day)
        grown = day >= date(2025, 7, 1)
        trade.sale(paper, anchor, (250_000 if grown else 100_000) * 100, day)
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    util = pd.DataFrame([(f.id, "electricity", pd.Timestamp(d.replace(day=1)), 8000.0)
                         for f in (seasonal, paper) for d in months],
                        columns=["firm_id", "utility", "month", "quantity"])
    util["month"] = util["month"].astype("datetime64[s]")
    fr.utility = util
    flags = screens.meters(fr, [seasonal.id, paper.id])
    assert seasonal.id not in flags
    (flag,) = flags[paper.id]
    assert flag.code == "paper_trade" and flag.evidence["compared_with"] == "year"
    assert flag.evidence["sales_growth"] == pytest.approx(2.5)
    assert flag.evidence["power_growth"] == pytest.approx(1.0)


def test_recent_meter_trends_and_the_chain_of_peers(session, park):
    """Issue 14, fourth pass: the last 3 complete months against the 6 before, a year
    before (NaN without readings then), and the median of the firm's chain (its main
    anchor's suppliers with readings)."""
    _, _, steady, paper, stopped, unmetered, peers = park
    X = features.compute(_frames(session, park))
    # stopped: Dec, Nov at 300 kWh and Oct at 8000 against 8000 from April to September.
    assert X.loc[stopped.id, "power_trend_3v6"] == pytest.approx((300 + 300 + 8000) / 3 / 8000
                                                                 - 1)
    assert abs(X.loc[steady.id, "power_trend_3v6"]) < 0.1
    assert X.loc[steady.id, "headcount_trend_3v6"] == 0
    for f in (steady, stopped):  # 12 months of readings: no year before
        assert np.isnan(X.loc[f.id, "power_yoy_3m"])
    assert np.isnan(X.loc[unmetered.id, "power_trend_3v6"])
    # Every firm sells to the one anchor: one chain of 7 metered firms, whose median
    # power trend is a steady firm's, and the unmetered firm gets its chain's figure.
    chain = X.loc[[steady.id, paper.id, stopped.id, unmetered.id, *(p.id for p in peers)],
                  "chain_power_trend_3v6"]
    assert chain.nunique() == 1 and abs(chain.iloc[0]) < 0.1
    assert chain.iloc[0] == pytest.approx(float(np.median(X.loc[
        [steady.id, paper.id, stopped.id, *(p.id for p in peers)], "power_trend_3v6"])))
    # Without readings: nothing.
    bare = features.compute(_frames(session, park, False))
    assert bare[["power_trend_3v6", "chain_power_trend_3v6", "headcount_yoy_3m"]].isna() \
        .all().all()


def test_power_against_sales_change_year_on_year_else_recent(
        session, park, trade, make_cluster, make_firm):
    """The change of power use less the change of invoiced sales: against the same 3 months
    a year before where power and sales both have them, else the last 3 months against the
    6 before; NaN without readings (never 0)."""
    _, _, steady, paper, stopped, unmetered, _ = park
    X = features.compute(_frames(session, park))
    for f in (steady, paper, stopped):  # 12 months of readings: no year before
        assert np.isnan(X.loc[f.id, "power_yoy_3m"])
        assert X.loc[f.id, "power_vs_sales_change"] == pytest.approx(
            X.loc[f.id, "power_trend_3v6"] - X.loc[f.id, "sales_trend_3v6"])
    # Sales months run back from the as-of day (the last one, 15 December to 15 January,
    # has no sale here), power months are calendar months: all three firms read the same
    # sales months, so power that stopped sits lowest and invoices that rose with flat
    # power below the steady firm.
    assert abs(X.loc[steady.id, "power_trend_3v6"]) < 0.1
    assert X.loc[stopped.id, "power_vs_sales_change"] < X.loc[paper.id, "power_vs_sales_change"] \
        < X.loc[steady.id, "power_vs_sales_change"] - 0.1
    assert np.isnan(X.loc[unmetered.id, "power_vs_sales_change"])
    # Twenty-one months of flat power: a firm whose sales fell by 60% on the same months a
    # year before reads +0.6, whatever the 6 months before said.
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    shrunk, flat = (make_firm(cluster_id=cluster.id) for _ in range(2))
    months = [date(2024 + (4 + m) // 12, (4 + m) % 12 + 1, 5) for m in range(21)]  # 2024-05..
    for day in months:
        trade.sale(flat, anchor, 100_000 * 100, day)
        trade.sale(shrunk, anchor, (40_000 if day >= date(2025, 10, 1) else 100_000) * 100,
                   day)
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    util = pd.DataFrame([(f.id, "electricity", pd.Timestamp(d.replace(day=1)), 8000.0)
                         for f in (shrunk, flat) for d in months],
                        columns=["firm_id", "utility", "month", "quantity"])
    util["month"] = util["month"].astype("datetime64[s]")
    fr.utility = util
    Y = features.compute(fr)
    assert Y.loc[shrunk.id, "power_yoy_3m"] == pytest.approx(0.0)
    assert Y.loc[shrunk.id, "power_vs_sales_change"] == pytest.approx(0.6)
    assert Y.loc[flat.id, "power_vs_sales_change"] == pytest.approx(0.0)


