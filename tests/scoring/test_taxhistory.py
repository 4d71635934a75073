"""The VAT filing history (trellis.scoring.taxhistory): values checked by hand, filings
whose period has not ended by as_of left out, a firm without filings missing, not zero."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from trellis.scoring import features, frames, taxhistory
from trellis.trade.models import TaxFiling

AS_OF = date(2026, 1, 15)
QUARTER_ENDS = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


def _file(session, firm, year, q, sales_fen):
    m, d = QUARTER_ENDS[q]
    session.add(TaxFiling(firm_id=firm.id, period_start=date(year, 3 * q - 2, 1),
                          period_end=date(year, m, d), vat_sales_fen=sales_fen))


@pytest.fixture
def firms(make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vendor = make_firm(cluster_id=cluster.id)
    silent = make_firm(cluster_id=cluster.id)
    return cluster, anchor, vendor, silent


def test_filing_history_by_hand(session, trade, firms):
    cluster, anchor, vendor, silent = firms
    # 100k a month invoiced from January 2024 to December 2025: 300k a quarter
    for firm in (vendor, silent):
        trade.monthly_sales(firm, anchor, start=date(2024, 1, 5), months=24,
                            amount_fen=100_000_00)
    declared = {(2024, 1): 300_000_00, (2024, 2): 300_000_00, (2024, 3): 300_000_00,
                (2024, 4): 300_000_00, (2025, 1): 330_000_00,  # 2025Q2 never filed
                (2025, 3): 360_000_00, (2025, 4): 360_000_00,
                (2026, 1): 999_000_00}  # its period has not ended by as_of: left out
    for (y, q), fen in declared.items():
        _file(session, vendor, y, q, fen)
    session.flush()
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    X = features.compute(fr)
    f = X.loc[vendor.id]
    assert f["vat_filings_8q"] == 7
    assert f["vat_missed_quarters_8q"] == 1
    # periods ending in the last 6 months (2025Q3, Q4): 720k over 6 months; the 12 before
    # (2024Q3, Q4, 2025Q1): 930k over 9 months; invoiced 100k a month in both
    trend = (720 / 6) / (930 / 9) - 1
    assert f["vat_sales_trend_2v4q"] == pytest.approx(trend)
    assert f["vat_vs_invoiced_trend"] == pytest.approx(math.log(1 + trend))
    ratios = np.log([1, 1, 1, 1, 1.1, 1.2, 1.2])
    assert f["vat_gap_median"] == pytest.approx(1.0)
    assert f["vat_gap_spread"] == pytest.approx(float(np.std(ratios, ddof=1)))
    # no filing: not assessable (missing), never zero
    assert all(math.isnan(X.loc[silent.id, c]) for c in taxhistory.COLUMNS)


def test_restricted_frames_drop_later_filings(session, trade, firms):
    """Frames restricted to an earlier date hold only the filings ended before it."""
    cluster, anchor, vendor, _ = firms
    trade.monthly_sales(vendor, anchor, start=date(2024, 1, 5), months=24,
                        amount_fen=100_000_00)
    for q in (1, 2, 3, 4):
        _file(session, vendor, 2025, q, 300_000_00)
    session.flush()
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    early = frames.restrict(fr, date(2025, 8, 1))
    assert len(early.tax_filings) == 2
    assert features.compute(early).loc[vendor.id, "vat_filings_8q"] == 2


def test_every_column_has_words():
    assert set(taxhistory.REASONS) == set(taxhistory.COLUMNS)
