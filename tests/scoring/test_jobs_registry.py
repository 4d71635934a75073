"""Jobs (rescore, stability) and the scorecard registry (challenger, promotion, export)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from trellis.accounts.services import grant_consent
from trellis.config import Settings
from trellis.errors import Conflict
from trellis.scoring import expert, jobs, registry, scorecard, service, stability
from trellis.scoring.models import PortfolioRun, Scorecard, StabilityReport


@pytest.fixture
def portfolio(session, trade, make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vendors = [make_firm(cluster_id=cluster.id) for _ in range(12)]
    for i, v in enumerate(vendors):
        grant_consent(session=session, firm_id=v.id, purpose="trade_data")
        # Paid on time until mid-2025, then half of the vendors' buyers pay 80 days late.
        for m in range(24):
            y, mo = divmod(m, 12)
            day = date(2024 + y, mo + 1, 8)
            late = 80 if (day >= date(2025, 6, 1) and i % 2 == 0) else 0
            trade.sale(v, anchor, (60 + 7 * i) * 1_000_00, day, paid_after=60 + late)
    return cluster, vendors


def test_rescore_job_scores_every_cluster(session_factory, session, portfolio):
    line = jobs.rescore_portfolio(session_factory=session_factory, settings=Settings(),
                                  as_of=date(2025, 12, 20))
    assert "13 firms in 1 clusters" in line and "12 scored" in line
    assert session.query(PortfolioRun).count() == 1


def test_stability_flags_a_shifted_population(session, portfolio):
    cluster, _ = portfolio
    service.score_portfolio(session=session, as_of=date(2025, 6, 1), cluster_id=cluster.id)
    first = stability.record(session=session)
    assert first.status == "stable" and first.score_psi == 0
    service.score_portfolio(session=session, as_of=date(2025, 12, 20), cluster_id=cluster.id)
    report = stability.record(session=session)
    late = report.detail["characteristics"]["buyer_late_days_12m"]
    assert late["status"] == "shifted" and report.status == "shifted"
    assert "first portfolio" in report.detail["baseline"]
    assert session.query(StabilityReport).count() == 2


def _platform_like(n=1500, seed=3):
    """Platform-like features (the expert card reads the columns it knows; others missing)."""
    rng = np.random.default_rng(seed)
    names = ["own_late_days_12m", "sales_trend_3v12", "sales_cv_12m"]
    X = pd.DataFrame({c["name"]: np.nan for c in expert.spec()["characteristics"]}, index=range(n))
    for name in names:
        X[name] = rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-(-2.5 + 1.3 * X["own_late_days_12m"])))
    X["defaulted"] = (rng.random(n) < p).astype(int)
    return X


def test_challenger_is_promoted_only_when_it_beats_the_champion(session):
    data = _platform_like()
    spec = __import__("trellis.scoring.training", fromlist=["train"]).train(
        data, target="defaulted", version="trained-1")
    row = registry.register(session=session, spec=spec, notes="test")
    assert row.status == "challenger"
    with pytest.raises(Conflict):
        registry.register(session=session, spec=spec)
    # The expert card knows nothing of this synthetic signal: the trained card wins.
    out = registry.promote(session=session, version="trained-1", data=_platform_like(seed=4),
                           target="defaulted", n_boot=200)
    assert out["promoted"] and out["ci_low"] > 0
    assert service.champion(session=session).version == "trained-1"
    assert session.query(Scorecard).filter(Scorecard.status == "champion").count() == 1
    # A copy of the champion does not beat it by more than the noise.
    twin = dict(spec, version="trained-2")
    registry.register(session=session, spec=twin)
    with pytest.raises(Conflict) as err:
        registry.promote(session=session, version="trained-2", data=_platform_like(seed=5),
                         target="defaulted", n_boot=200)
    assert "noise" in err.value.message


def test_export_is_json_that_scores_the_same(session):
    service.champion(session=session)
    text = registry.export_json(session=session, version=expert.VERSION)
    again = scorecard.loads(text)
    assert again["version"] == expert.VERSION
    assert json.loads(text)["characteristics"][0]["why"]
