"""One firm on demand with the cluster's part kept (issue 18): the same results as reading
everything afresh and as the portfolio pass, and never stale after a change.

The firm risk page's reads (neighbours, percentiles, limit) are checked against the
implementations they replaced, kept here as references: whole frames per firm.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from trellis.demo.seed import seed_demo
from trellis.network.build import bump_data_version
from trellis.scoring import features, frames, limits, queries, service
from trellis.scoring.exposure import exposure_totals
from trellis.scoring.models import ScoreRecord
from trellis.trade.models import Firm, Invoice, LoanOutcome

END = date(2026, 6, 30)
AS_OF = END + timedelta(days=1)


@pytest.fixture
def demo(session):
    seeded = seed_demo(session=session, n_vendors=60, seed=7, end=END)
    results, run = service.score_portfolio(session=session, as_of=AS_OF,
                                           cluster_id=seeded.cluster_id)
    session.flush()
    return seeded, results, run


def _sample(results, n=8):
    scored = sorted(r.firm_id for r in results if r.score is not None)
    flagged = sorted(r.firm_id for r in results if r.flags)
    insufficient = sorted(r.firm_id for r in results if r.insufficient)
    step = max(1, len(scored) // n)
    return sorted(set(scored[::step][:n] + flagged[:3] + insufficient[:2]))


def _same(a, b):
    return a.to_dict() | {"record_id": None} == b.to_dict() | {"record_id": None}


def test_kept_cluster_part_gives_the_fresh_and_portfolio_results(session, demo):
    _seeded, results, _run = demo
    by_firm = {r.firm_id: r for r in results}
    sample = _sample(results)
    assert len(sample) >= 8 and any(by_firm[f].flags for f in sample)
    frames.clear_cache()
    for fid in sample:
        fresh = service.score_firm(session=session, firm_id=fid, as_of=AS_OF, store=False,
                                   cache=False)
        first = service.score_firm(session=session, firm_id=fid, as_of=AS_OF, store=False)
        kept = service.score_firm(session=session, firm_id=fid, as_of=AS_OF, store=False)
        assert _same(first, fresh) and _same(kept, fresh), fid
        assert (kept.score, kept.pd, kept.grade) == (by_firm[fid].score, by_firm[fid].pd,
                                                     by_firm[fid].grade)
        assert kept.to_dict()["reasons"] == by_firm[fid].to_dict()["reasons"]
        assert kept.to_dict()["flags"] == by_firm[fid].to_dict()["flags"]
    assert frames._CLUSTERS, "the cluster part was kept"


def _seller(session, results):
    fid = next(r.firm_id for r in results if r.score is not None)
    firm = session.get(Firm, fid)
    buyer = session.execute(select(Firm).where(Firm.cluster_id == firm.cluster_id,
                                               Firm.role == "anchor")).scalars().first()
    return firm, buyer


def test_an_invoice_added_without_a_bump_is_seen(session, demo):
    _seeded, results, _run = demo
    firm, buyer = _seller(session, results)
    service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    before = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    for i in range(3):
        session.add(Invoice(seller_id=firm.id, buyer_id=buyer.id, number=f"KEPT-{i}",
                            amount_fen=90_000_000_00, issue_date=END - timedelta(days=10 + i),
                            due_date=END + timedelta(days=50), status="pending"))
    session.flush()
    after = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    assert after.edges is not before.edges  # rebuilt, not the kept edges
    kept = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    fresh = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False,
                               cache=False)
    assert _same(kept, fresh)
    assert kept.features["sales_3m_fen"] != next(
        r for r in results if r.firm_id == firm.id).features["sales_3m_fen"]


def test_a_confirmation_with_its_bump_is_seen(session, demo):
    _seeded, results, _run = demo
    firm, _buyer = _seller(session, results)
    service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    before = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    inv = session.execute(select(Invoice).where(Invoice.seller_id == firm.id,
                                                Invoice.status == "pending",
                                                Invoice.issue_date < END)).scalars().first()
    assert inv is not None
    inv.status = "rejected"
    session.flush()
    bump_data_version(session=session, cluster_id=firm.cluster_id)
    after = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    assert after.graph is not before.graph
    kept = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    fresh = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False,
                               cache=False)
    assert _same(kept, fresh)


def test_a_neighbours_loan_outcome_added_is_seen(session, demo):
    """The cluster's loan outcomes are kept with its part (issue 18): a new one (the
    importer bumps; here without a bump) still changes a neighbour's feature at once."""
    _seeded, results, _run = demo
    firm, _buyer = _seller(session, results)
    first = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    fr = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    kept_outcomes = fr.outcomes
    bad = set(kept_outcomes.loc[kept_outcomes["defaulted"].astype(bool), "firm_id"])
    e = fr.edges[(fr.edges["invoice_count"] > 0) & (fr.edges["seller_id"] == firm.id)]
    neighbour = next(int(b) for b in e["buyer_id"] if int(b) not in bad)
    session.add(LoanOutcome(firm_id=neighbour, disbursed_on=END - timedelta(days=400),
                            amount_fen=10_000_00, defaulted=True))
    session.flush()
    after = frames.load(session=session, as_of=AS_OF, firm_ids=[firm.id])
    assert after.outcomes is not kept_outcomes
    assert len(after.outcomes) == len(kept_outcomes) + 1
    kept = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False)
    fresh = service.score_firm(session=session, firm_id=firm.id, as_of=AS_OF, store=False,
                               cache=False)
    assert _same(kept, fresh)
    assert kept.features["neighbours_defaulted_share"] != \
        first.features["neighbours_defaulted_share"]


# --- the firm risk page's reads against the whole-frames implementations they replaced

def _old_neighbours(session, firm_id, as_of):
    fr = frames.load(session=session, as_of=as_of, firm_ids=[firm_id], cache=False)
    e = fr.edges[fr.edges["invoice_count"] > 0]
    rows = []
    for direction, mine, other in (("buyer", "seller_id", "buyer_id"),
                                   ("supplier", "buyer_id", "seller_id")):
        part = e[e[mine] == firm_id].sort_values(other)
        for r in part.itertuples():
            oid = int(getattr(r, other))
            if oid not in fr.firms.index:
                continue
            f = fr.firms.loc[oid]
            rows.append({"firm_id": oid, "name": f["name"], "uscc": f["uscc"], "role": f["role"],
                         "direction": direction, "volume_fen": int(r.volume_fen),
                         "invoice_count": int(r.invoice_count)})
    grades = {}
    for fid, grade, score, flags in session.execute(
            select(ScoreRecord.firm_id, ScoreRecord.grade, ScoreRecord.score, ScoreRecord.flags)
            .where(ScoreRecord.firm_id.in_([r["firm_id"] for r in rows] or [-1]))
            .order_by(ScoreRecord.computed_at, ScoreRecord.id)).all():
        grades[fid] = (grade, score, any(f.get("code") != "own_loan_overdue" for f in flags))
    for r in rows:
        r["grade"], r["score"], r["held"] = grades.get(r["firm_id"], (None, None, False))
    rows.sort(key=lambda r: (r["direction"], -r["volume_fen"]))
    return rows


def _old_percentiles(session, firm, feats):
    run = queries.latest_run(session, firm.cluster_id)
    pop = pd.DataFrame([r.features for r in queries.run_records(session, run.id)
                        if r.features])
    out = []
    for name in queries.SHOWN:
        value = feats.get(name)
        pct = med = None
        if name in pop:
            col = pd.to_numeric(pop[name], errors="coerce").dropna()
            if value is not None and len(col):
                pct = float((col < value).mean() + 0.5 * (col == value).mean())
            med = float(col.median()) if len(col) else None
        out.append({"name": name, "value": value, "percentile": pct, "median": med})
    return out


def _old_limit(session, firm_id, result, as_of):
    pol = limits.policy(session=session, as_of=as_of)
    firm = session.get(Firm, firm_id)
    fr = frames.load(session=session, as_of=as_of, firm_ids=[firm_id], cache=False)
    bal = features._invoice_balances(fr)
    anchors = set(fr.firms.index[fr.firms["role"] == "anchor"])
    mine = bal[(bal["seller_id"] == firm_id) & bal["buyer_id"].isin(anchors)]
    eligible = mine[(mine["status"] == "confirmed") & (mine["due_date"] >= fr.as_of)]
    by_anchor = eligible.groupby("buyer_id")["outstanding_fen"].sum()
    window = fr.as_of - pd.DateOffset(months=pol.inflow_months)
    confirmed = mine[(mine["status"] == "confirmed") & (mine["issue_date"] >= window)]
    monthly = Decimal(int(confirmed["amount_fen"].sum())) / pol.inflow_months
    expo = exposure_totals(session=session, as_of=as_of, firm_id=firm_id,
                           anchor_ids=[int(a) for a in by_anchor.index],
                           cluster_id=firm.cluster_id)
    receivables = Decimal(0)
    for anchor_id, amount in by_anchor.items():
        room = max(0, int(pol.anchor_cap_fen) - expo["anchors"].get(int(anchor_id), 0))
        receivables += min(Decimal(str(pol.advance_rate)) * int(amount), Decimal(room))
    factor = Decimal(str(pol.grade_factors.get(result.grade, "0")))
    parts = {"receivables": receivables,
             "inflow": Decimal(str(pol.inflow_multiple)) * monthly * factor,
             "vendor_cap": Decimal(max(0, int(pol.vendor_cap_fen) - expo["vendor"])),
             "cluster_cap": Decimal(max(0, int(pol.cluster_cap_fen) - expo["cluster"]))}
    binding = min(parts, key=parts.get)
    limit = int(parts[binding].to_integral_value(rounding=ROUND_FLOOR)) // 10000 * 10000
    return max(0, limit), binding, int(by_anchor.sum())


def test_risk_page_reads_match_the_whole_frames_ones(session, demo):
    _seeded, results, _run = demo
    sample = _sample(results)
    for fid in sample:
        assert queries.neighbours(session, fid, AS_OF) == _old_neighbours(session, fid, AS_OF)
        firm = session.get(Firm, fid)
        result = next(r for r in results if r.firm_id == fid)
        assert queries.percentiles(session, firm, result.features) == _old_percentiles(
            session, firm, result.features)
        if result.insufficient:
            continue
        out = limits.explain_limit(session=session, firm_id=fid, result=result, as_of=AS_OF)
        again = limits.explain_limit(session=session, firm_id=fid, result=result, as_of=AS_OF)
        assert out == again
        assert (out["limit_fen"], out["binding"], out["eligible_receivables_fen"]) == \
            _old_limit(session, fid, result, AS_OF)
    assert any(queries.neighbours(session, fid, AS_OF) for fid in sample)


def test_percentiles_follow_a_new_run(session, demo):
    seeded, results, _run = demo
    fid = next(r.firm_id for r in results if r.score is not None)
    firm = session.get(Firm, fid)
    feats = next(r for r in results if r.firm_id == fid).features
    first = queries.percentiles(session, firm, feats)
    # A new run on a later date: other populations, other percentiles and medians.
    service.score_portfolio(session=session, as_of=AS_OF - timedelta(days=200),
                            cluster_id=seeded.cluster_id)
    session.flush()
    second = queries.percentiles(session, firm, feats)
    assert second == _old_percentiles(session, firm, feats)
    assert second != first


def test_a_new_runs_populations_read_only_the_shown_features(session, demo):
    """Issue 15: the first risk page after a rescore parsed every record's whole feature
    document (some 70 values) into a data frame, in every worker; the database takes out
    the shown features only (bench/risk_page_first.py: 84-94 -> 44-50 ms on 3,000 firms)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _seeded, results, run = demo
    firm = session.get(Firm, results[0].firm_id)
    queries._POPULATIONS.clear()
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        queries.percentiles(session, firm, results[0].features)
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    reads = [s for s in seen if "FROM score_results" in s and "run_id" in s]
    assert reads and not any(s.startswith("SELECT score_results.features FROM")
                             for s in reads), reads


def test_a_firm_change_with_its_bump_is_seen(session, demo):
    """Firms are kept with the cluster part: a changed bank account (protection's
    ``apply_due`` bumps the data version) shows in the shared-account screen at once."""
    _seeded, results, _run = demo
    a, b = [session.get(Firm, r.firm_id) for r in results if r.score is not None][:2]
    before = service.score_firm(session=session, firm_id=a.id, as_of=AS_OF, store=False)
    assert "shared_bank_account" not in {f.code for f in before.flags}
    a.bank_account = b.bank_account = "6222020200112233445"
    session.flush()
    bump_data_version(session=session, cluster_id=a.cluster_id)
    after = service.score_firm(session=session, firm_id=a.id, as_of=AS_OF, store=False)
    assert "shared_bank_account" in {f.code for f in after.flags}
    assert _same(after, service.score_firm(session=session, firm_id=a.id, as_of=AS_OF,
                                           store=False, cache=False))


def test_partners_show_their_latest_grade_only(session, demo):
    """The risk page's partner table reads each partner's latest score record, however
    many older ones it has (a window over the firm-and-time index, not its history)."""
    _seeded, results, _run = demo
    fid = next(f for f in _sample(results) if queries.neighbours(session, f, AS_OF))
    partner = queries.neighbours(session, fid, AS_OF)[0]["firm_id"]
    old = session.scalars(select(ScoreRecord).where(ScoreRecord.firm_id == partner)
                          .order_by(ScoreRecord.computed_at.desc())).first()
    grade = "E" if old is None or old.grade != "E" else "A"
    later = (old.computed_at if old else pd.Timestamp("2026-01-01").to_pydatetime()) \
        + timedelta(hours=1)
    session.add(ScoreRecord(firm_id=partner, as_of=AS_OF, score=401, grade=grade,
                            scorecard_version="test", computed_at=later))
    session.add(ScoreRecord(firm_id=partner, as_of=AS_OF, score=999, grade="B",
                            scorecard_version="test",
                            computed_at=later - timedelta(days=30)))
    session.flush()
    row = next(r for r in queries.neighbours(session, fid, AS_OF) if r["firm_id"] == partner)
    assert (row["grade"], row["score"]) == (grade, 401)
