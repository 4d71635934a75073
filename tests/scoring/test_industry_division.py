"""The firm's industry division (GB/T 4754) as features as of a date: the category with
rare divisions merged, its cluster's median power trends, and the firm's own trend
against them (issue 14, fifth pass). Label-free and without later data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.meters import ensure_reading_tables
from trellis.scoring import expert, export, features, frames, training
from trellis.trade import readings
from trellis.trade.models import LoanOutcome

AS_OF = date(2026, 1, 15)
# Eighteen complete months before AS_OF, and three after it that must never be read.
BEFORE = [date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(18)]  # 2024-07..2025-12
AFTER = [date(2026, m, 1) for m in (1, 2, 3)]


@pytest.fixture
def park(session, trade, make_cluster, make_firm, monkeypatch):
    monkeypatch.setattr(features, "DIVISION_MIN_FIRMS", 5)
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    auto = [make_firm(cluster_id=cluster.id, industry_code="36") for _ in range(6)]
    chips = [make_firm(cluster_id=cluster.id, industry_code="39") for _ in range(6)]
    apparel = [make_firm(cluster_id=cluster.id, industry_code="18") for _ in range(2)]
    makers = [make_firm(cluster_id=cluster.id, industry_code="C") for _ in range(3)]
    shop = make_firm(cluster_id=cluster.id, industry_code="52")  # alone in its section
    unknown = make_firm(cluster_id=cluster.id)
    firms = [*auto, *chips, *apparel, *makers, shop, unknown]
    for f in firms:
        trade.monthly_sales(f, anchor, start=date(2024, 7, 5), months=18,
                            amount_fen=100_000_00)
    conn = session.connection()
    ensure_reading_tables(session)
    rows = []
    for f in (*auto, *chips):
        for m in BEFORE:
            kwh = 8000.0
            if f in auto and m >= date(2025, 10, 1):  # the cars' downturn: the last 3 months
                kwh = 2000.0 if f is auto[0] else 5000.0
            rows.append({"firm_id": f.id, "utility": "electricity", "month": m,
                         "quantity": kwh})
    conn.execute(sa.insert(readings.UTILITY_READINGS), rows)
    return cluster, anchor, auto, chips, apparel, makers, shop, unknown


def _after_the_date(session, park, kwh):
    """Readings after AS_OF (and crashing): what a later import would add."""
    _, _, auto, chips, *_ = park
    session.connection().execute(sa.insert(readings.UTILITY_READINGS), [
        {"firm_id": f.id, "utility": "electricity", "month": m, "quantity": kwh}
        for f in (*auto, *chips) for m in AFTER])


COLUMNS = ["industry_division", "division_power_trend_3v6", "division_power_yoy_3m",
           "power_trend_3v6_vs_division", "power_yoy_3m_vs_division", "power_trend_3v6_vs_peers"]


def test_the_division_category_merges_rare_divisions_into_their_section(session, park):
    cluster, anchor, auto, chips, apparel, makers, shop, unknown = park
    X = features.compute(frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id))
    got = X["industry_division"]
    assert set(got[[f.id for f in auto]]) == {"C36"}
    assert set(got[[f.id for f in chips]]) == {"C39"}
    # Two apparel makers and three firms known only as 制造业: five of section C together.
    assert set(got[[f.id for f in (*apparel, *makers)]]) == {"C"}
    assert got[shop.id] == "other"  # one retailer: neither its division nor F is common
    assert got[unknown.id] is None and got[anchor.id] is None  # not known: missing, not 0


def test_division_trends_as_of_the_date_from_the_whole_cluster(session, park):
    cluster, anchor, auto, chips, apparel, makers, shop, unknown = park
    portfolio = features.compute(frames.load(session=session, as_of=AS_OF,
                                             cluster_id=cluster.id))
    X = portfolio
    # Auto: Oct-Dec at 5000 against 8000 before (one firm at 2000); the median is -0.375.
    assert X.loc[auto[1].id, "division_power_trend_3v6"] == pytest.approx(-0.375)
    assert X.loc[auto[1].id, "division_power_yoy_3m"] == pytest.approx(-0.375)
    assert X.loc[chips[0].id, "division_power_trend_3v6"] == pytest.approx(0.0)
    # The firm against its industry: the one that fell further, and one like its peers.
    assert X.loc[auto[0].id, "power_trend_3v6_vs_division"] == pytest.approx(-0.75 + 0.375)
    assert X.loc[auto[1].id, "power_trend_3v6_vs_division"] == pytest.approx(0.0)
    # No metered peers, an unknown industry, no readings of one's own: NaN, never 0.
    for f in (*apparel, *makers, shop, unknown, anchor):
        assert X.loc[f.id, COLUMNS[1:]].isna().all(), f.id
    # One firm on demand sees the same as the portfolio (the cluster's readings and firms).
    one = features.compute(frames.load(session=session, as_of=AS_OF, firm_ids=[auto[0].id]),
                           [auto[0].id])
    for c in COLUMNS:
        assert one.loc[auto[0].id, c] == portfolio.loc[auto[0].id, c], c


def test_against_peers_falls_back_to_the_park_when_the_industry_says_nothing(session, park):
    cluster, anchor, auto, chips, apparel, makers, shop, unknown = park
    # The retailer (alone in its industry) and the firm of unknown industry are metered too:
    # down to half in the last 3 months.
    session.connection().execute(sa.insert(readings.UTILITY_READINGS), [
        {"firm_id": f.id, "utility": "electricity", "month": m,
         "quantity": 4000.0 if m >= date(2025, 10, 1) else 8000.0}
        for f in (shop, unknown) for m in BEFORE])
    portfolio = features.compute(frames.load(session=session, as_of=AS_OF,
                                             cluster_id=cluster.id))
    X = portfolio
    # With an industry's median: the same as against the division.
    for f in (*auto, *chips):
        assert X.loc[f.id, "power_trend_3v6_vs_peers"] == pytest.approx(
            X.loc[f.id, "power_trend_3v6_vs_division"])
    # Without one: against the park's 14 metered firms (six flat chip makers, five car
    # makers at -0.375 and one at -0.75, two at -0.5): the median is -0.375.
    for f in (shop, unknown):
        assert np.isnan(X.loc[f.id, "power_trend_3v6_vs_division"])
        assert X.loc[f.id, "power_trend_3v6_vs_peers"] == pytest.approx(-0.5 + 0.375)
    # No readings of its own: NaN, never 0.
    for f in (*apparel, *makers, anchor):
        assert np.isnan(X.loc[f.id, "power_trend_3v6_vs_peers"])
    one = features.compute(frames.load(session=session, as_of=AS_OF, firm_ids=[shop.id]),
                           [shop.id])
    assert one.loc[shop.id, "power_trend_3v6_vs_peers"] == portfolio.loc[
        shop.id, "power_trend_3v6_vs_peers"]


def test_no_later_readings_and_no_outcomes_reach_the_division_features(session, park):
    cluster, anchor, auto, chips, *_ = park
    before = features.compute(frames.load(session=session, as_of=AS_OF,
                                          cluster_id=cluster.id))[COLUMNS]
    _after_the_date(session, park, 10.0)
    for f in auto:  # every car maker defaulted: a label must not move its industry's figures
        session.add(LoanOutcome(firm_id=f.id, disbursed_on=date(2025, 3, 1),
                                amount_fen=100_000_00, defaulted=True, source="history"))
    session.flush()
    after = features.compute(frames.load(session=session, as_of=AS_OF,
                                         cluster_id=cluster.id))[COLUMNS]
    pd.testing.assert_frame_equal(before, after)
    # A later date sees the later readings.
    later = features.compute(frames.load(session=session, as_of=date(2026, 4, 15),
                                         cluster_id=cluster.id))
    assert later.loc[chips[0].id, "division_power_trend_3v6"] < -0.9


def test_the_feature_table_keeps_the_division_as_text(session, park):
    cluster, _, auto, *_ = park
    table = export.feature_table(session=session, as_of=AS_OF, cluster_id=cluster.id)
    row = table.set_index("firm_id").loc[auto[0].id]
    assert row["industry_division"] == "C36"
    assert np.isfinite(row["division_power_trend_3v6"])


def test_new_features_have_plain_chinese_reasons_and_a_woe_card_uses_them():
    labels = expert.labels()
    for name in COLUMNS:
        assert labels[name]["zh"] and labels[name]["en"], name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in labels[name]["zh"])
    rng = np.random.default_rng(0)
    division = rng.choice(["C36", "C39", "C18", None], size=600)
    y = (rng.random(600) < np.where(division == "C36", 0.5, 0.1)).astype(int)
    df = pd.DataFrame({"industry_division": division, "noise": rng.normal(size=600), "y": y})
    spec = training.train(df, target="y", family="woe", labels=labels)
    (ch,) = [c for c in spec["characteristics"] if c["name"] == "industry_division"]
    assert ch["reason_zh"] == labels["industry_division"]["zh"]
