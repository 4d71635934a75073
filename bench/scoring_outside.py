"""Scoring on a park Trellis was not built on: the independent generator of tests/outside.

For each seed: generate the park (``tests.outside.park_export``, written from the
specification only), import its export into a fresh SQLite database, score every firm as
of the day after the cut-off (only data dated up to the cut-off), and compare with the
ground truth kept apart (``truth_firms.csv``, ``truth.json``):

- expert card AUC for the loans taken at the cut-off (scorable firms; and with the
  unscorable ones counted as ties);
- the PD level: the expert card recalibrated on the park's own past loans (slope), its
  level set by the portfolio default rate stated at the cut-off (``--stated-rate``, the
  risk team's figure for the period; see ``STATED_RATE``) against the cut-off loans'
  observed default rate, and per grade the observed rate inside its binomial band;
  beside it, the level from the past loans alone and the ratio if the stated rate were
  the past book's rate or 20% off;
- a trained card under 5-fold cross-validation on the feature table as of the cut-off
  (``export.feature_table``) with the cut-off loans' outcomes: the WoE card and the
  boosted challenger;
- every screen's false-flag rate on clean vendors (the decoy trade triangles among them)
  and the share of each planted fraud caught.

The export has no deliveries, credit notes or returns; its payments carry no reference
(allocated here first-in first-out per payer and payee, as an importer would) and its
invoices no due date (60 days assumed, the relationship default). Seeds 1-13 were used
while the generator was written and seed 1 while this adapter was written; evaluate on
others. Nothing in Trellis was tuned on the seeds reported in bench/RESULTS.md: the
screens' two-month spike and year-on-year paper-trade rules and the expert card's bins
(issue 14, second pass) were set on development seeds 3001-3003 only; the default seeds
4001 and 4002 were run once, after those changes. The third pass (the stated-rate level,
numeric late-payment columns in training, the blend's inner choice) was developed on
3001-3003 and evaluated once on 4101 and 4102. The fourth pass (recent and year-on-year
power, headcount and sales trends, rejections, collection, the chain's power trend; the
one-hot member's log, cut and penalty; the blend's choice of one member alone) was
developed on 3001-3003 and evaluated once on 4201 and 4202. The fifth pass (the firm's
GB/T 4754 industry division from 所属行业, imported as a product would: the division as a
category, its median power trends in the cluster and the firm's own trend against them)
was developed on 3001-3003 and evaluated once on 4301 and 4302. The sixth pass (a score
scale with a configured range, 300-900 at 40 points to the doubling; the expert card
``expert-2026.12b``) was developed on 3001-3003 only, from a cache
(``bench/scoring_expert_dev.py``). The seventh pass (the calibration's slope carried to
today's population at the spread the past loans measured, ``calibration.transport_slope``)
was developed on 3001-3003 and evaluated once on 4601 and 4602 (the expert card's figures,
from ``--cache``; those runs were stopped before the trained cards and the screens). The
eighth pass (``expert-2026.12c``: power against invoiced sales, money received against
sales, graded power and staff bins, the industry's weight) was developed on 3001-3003 and
evaluated once on 4701 and 4702 (expert card only); the same card, unchanged, was run in
full once on 4801 and 4802 (ninth session). Seed 4901 and 4902 were run once by the lead
(tenth and eleventh sessions); the twelfth pass (the two-month spike rule's minimum
history, found on 4902, which then became a development seed for that screen only) was
run once in full on 4903. The thirteenth pass (the two-month spike rule scored by the
unbacked sales beyond the firm's usual share, the 28-day burst flagged alone from 8x) was
developed on 4701, 4702, 4801, 4802, 4902 and 4903 (``bench/scoring_outside_screens.py``).
Next unused seeds: 4904 and up.

    .venv/bin/python bench/scoring_outside.py [--seeds 4001 4002] [--vendors 400]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import insert, select

from tests.meters import ensure_reading_tables
from trellis import db, migrate
from trellis.scoring import (
    anchoring,
    calibration,
    expert,
    export,
    features,
    frames,
    metrics,
    screens,
    service,
    training,
)
from trellis.trade import industries, readings
from trellis.trade.models import (
    Cluster,
    Firm,
    Invoice,
    LoanOutcome,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)

TERMS_DAYS = 60
# The portfolio default rate the bench states at the cut-off, standing for the risk team's
# figure for the current period: the middle of the range the generator's specification
# gives for loans taken at the cut-off (tests/outside/README.md, 20.5-24.5%), the same for
# every seed; never a seed's observed rate.
STATED_RATE = 0.225
STATED_SOURCE = ("bench: the outside generator's stated range for loans at the cut-off "
                 "(20.5-24.5%), its middle")
PLANT_SCREENS = {"circular_ring": {"circular_trading"},
                 "duplicate_invoice": {"duplicate_invoice"},
                 "shared_identity": {"shared_phone", "shared_bank_account", "shared_address"},
                 "invoice_spike": {"sales_burst"}, "paper_trade": {"paper_trade"}}


def _fen(text) -> int:
    return int((Decimal(str(text)) * 100).to_integral_value())


def _industry(text: str) -> str:
    t = str(text)
    for words, code in ((("批发", "零售", "贸易"), "wholesale_retail"),
                        (("运输", "物流", "仓储"), "transport_logistics"),
                        (("建筑", "工程"), "construction"), (("制造", "加工"), "manufacturing")):
        if any(w in t for w in words):
            return code
    return "other"


def import_park(session, export_dir: Path, code: str, cutoff: date) -> int:
    """Load the park's export into the trade tables; returns the cluster id."""
    d = Path(export_dir)
    firms = pd.read_csv(d / "firms.csv", encoding="gbk", dtype=str)
    cluster = Cluster(code=code, name=f"外部园区 {code}", region="", data_version=1)
    session.add(cluster)
    session.flush()
    rows = []
    for r in firms.itertuples(index=False):
        rows.append({"uscc": r[1], "name": r[0][:200], "role": "anchor" if r[2] == "核心企业"
                     else "vendor", "industry": _industry(r[3]),
                     "industry_code": industries.lookup(r[3]), "legal_rep": r[4],
                     "phone": r[5], "address": r[6], "bank_account": r[8],
                     "founded_on": datetime.strptime(r[9], "%Y/%m/%d").date(),
                     "cluster_id": cluster.id, "region": ""})
    session.execute(insert(Firm), rows)
    fid = dict(session.execute(select(Firm.uscc, Firm.id).where(
        Firm.cluster_id == cluster.id)).all())

    rel = pd.read_csv(d / "relationships.csv", dtype=str)
    rel = rel[rel.iloc[:, 1].isin(fid) & rel.iloc[:, 3].isin(fid)]
    rel = rel.sort_values(rel.columns[4]).drop_duplicates([rel.columns[1], rel.columns[3]])
    session.execute(insert(Relationship), [
        {"supplier_id": fid[r[1]], "buyer_id": fid[r[3]], "since": date.fromisoformat(r[4]),
         "payment_terms_days": TERMS_DAYS} for r in rel.itertuples(index=False)])

    orders = pd.read_csv(d / "orders.csv", dtype=str)
    orders = orders[orders["buyer_id"].isin(fid) & orders["seller_id"].isin(fid)]
    session.execute(insert(PurchaseOrder), [
        {"buyer_id": fid[r.buyer_id], "seller_id": fid[r.seller_id], "number": r.order_no,
         "amount_fen": _fen(r.amount), "order_date": date.fromisoformat(r.date),
         "status": "pending"} for r in orders.itertuples(index=False)])
    order_id = {n: i for i, n in session.execute(select(PurchaseOrder.id, PurchaseOrder.number)
                                                 .where(PurchaseOrder.buyer_id.in_(fid.values())))}

    inv = pd.read_csv(d / "invoices.csv", dtype=str, encoding="utf-8-sig")
    conf = pd.read_csv(d / "confirmations.csv", dtype=str)
    status = {(r[3], r[4]): (r[6], r[7]) for r in conf.itertuples(index=False)}
    inv_rows = []
    for r in inv.itertuples(index=False):
        seller, buyer = r[3], r[5]
        if seller not in fid or buyer not in fid or seller == buyer:
            continue
        issued = date.fromisoformat(r[1])
        st, on = status.get((seller, r[0]), (None, None))
        s = {"已确权": "confirmed", "已拒绝": "rejected"}.get(st, "pending")
        inv_rows.append({"seller_id": fid[seller], "buyer_id": fid[buyer], "number": r[0],
                         "amount_fen": _fen(r[8]), "issue_date": issued,
                         "due_date": issued + timedelta(days=TERMS_DAYS),
                         "order_id": order_id.get(r[9]) if isinstance(r[9], str) else None,
                         "status": s, "paid_fen": 0,
                         "confirmed_at": (datetime.combine(date.fromisoformat(on),
                                                           datetime.min.time(), UTC)
                                          if s == "confirmed" and isinstance(on, str)
                                          else None)})
    session.execute(insert(Invoice), inv_rows)

    # Payments: no reference; allocate first-in first-out per (payer, payee).
    open_inv = defaultdict(list)
    for i, s, b, _n, a, day in session.execute(select(
            Invoice.id, Invoice.seller_id, Invoice.buyer_id, Invoice.number,
            Invoice.amount_fen, Invoice.issue_date).where(Invoice.seller_id.in_(fid.values()))
            .order_by(Invoice.issue_date, Invoice.id)):
        open_inv[(b, s)].append([i, a, day])
    pay = pd.read_csv(d / "payments.csv", dtype=str)
    pay = pay[pay["payer_id"].isin(fid) & pay["payee_id"].isin(fid)
              & (pay["payer_id"] != pay["payee_id"])]
    pay = pay.sort_values("date", kind="stable")
    pay_rows = [{"payer_id": fid[r.payer_id], "payee_id": fid[r.payee_id],
                 "reference": f"P{k:07d}", "amount_fen": _fen(r.amount),
                 "paid_on": date.fromisoformat(r.date)} for k, r in enumerate(
                     pay.itertuples(index=False))]
    session.execute(insert(Payment), pay_rows)
    pid = {ref: i for i, ref in session.execute(select(Payment.id, Payment.reference).where(
        Payment.payer_id.in_(fid.values())))}
    allocs, paid = [], defaultdict(int)
    for p in pay_rows:
        left = p["amount_fen"]
        queue = open_inv[(p["payer_id"], p["payee_id"])]
        for item in queue:
            if left <= 0:
                break
            if item[1] <= 0 or item[2] > p["paid_on"]:
                continue
            take = min(left, item[1])
            allocs.append({"payment_id": pid[p["reference"]], "invoice_id": item[0],
                           "amount_fen": take})
            item[1] -= take
            paid[item[0]] += take
            left -= take
    for i in range(0, len(allocs), 5000):
        session.execute(insert(PaymentAllocation), allocs[i:i + 5000])
    if paid:
        t = Invoice.__table__
        session.connection().execute(
            sa.update(t).where(t.c.id == sa.bindparam("iid")).values(
                paid_fen=sa.bindparam("paid")),
            [{"iid": k, "paid": v} for k, v in paid.items()])

    tax = pd.read_csv(d / "tax_filings.csv", dtype=str)
    tax = tax[tax.iloc[:, 1].isin(fid) & (tax.iloc[:, 5] <= cutoff.isoformat())]
    from trellis.trade.models import TaxFiling

    session.execute(insert(TaxFiling), [
        {"firm_id": fid[r[1]], "period_start": date.fromisoformat(r[3]),
         "period_end": date.fromisoformat(r[4]), "vat_sales_fen": _fen(r[6]),
         "tax_paid_fen": _fen(r[7])} for r in tax.drop_duplicates(
             [tax.columns[1], tax.columns[3], tax.columns[4]]).itertuples(index=False)
        if r[4] >= r[3]])  # a period ending before it starts is refused, as on import
    for uscc, g in tax.groupby(tax.columns[1]):
        annual = g[g.iloc[:, 2] == "年报"]
        row = (annual if len(annual) else g).sort_values(g.columns[4]).iloc[-1]
        start, end = row.iloc[3][:7], row.iloc[4][:7]
        period = start[:4] if row.iloc[2] == "年报" else f"{start}~{end}"
        session.execute(sa.update(Firm).where(Firm.id == fid[uscc]).values(
            tax_vat_sales_fen=_fen(row.iloc[6]), tax_paid_fen=_fen(row.iloc[7]),
            tax_period=period))

    ensure_reading_tables(session)  # the onboarding area's tables, if this database lacks them
    el = pd.read_csv(d / "electricity.csv", dtype=str)
    el = el[el.iloc[:, 1].isin(fid)]
    session.execute(insert(readings.UTILITY_READINGS), [
        {"firm_id": fid[r[1]], "utility": "electricity",
         "month": date.fromisoformat(r[2]).replace(day=1), "quantity": Decimal(r[3])}
        for r in el.itertuples(index=False)])
    si = pd.read_csv(d / "social_insurance.csv", dtype=str)
    si = si[si["uscc"].isin(fid)]
    session.execute(insert(readings.HEADCOUNT_RECORDS), [
        {"firm_id": fid[r.uscc], "month": date.fromisoformat(r.month + "-01"),
         "headcount": int(r.insured_headcount)} for r in si.itertuples(index=False)])

    loans = pd.read_csv(d / "loans.csv", dtype=str)
    loans = loans[loans["borrower_id"].isin(fid)]
    session.execute(insert(LoanOutcome), [
        {"firm_id": fid[r.borrower_id], "disbursed_on": date.fromisoformat(r.loan_date),
         "amount_fen": _fen(r.amount), "defaulted": r.defaulted == "Y", "source": "history"}
        for r in loans.itertuples(index=False)])
    session.flush()
    return cluster.id


def _auc_with_ties(y, pd_scored, n_unscored_bad, n_unscored_good) -> float:
    """AUC with unscorable firms ranked as ties with everyone (as the evaluation does)."""
    y = np.asarray(y)
    p = np.asarray(pd_scored)
    bads, goods = p[y == 1], p[y == 0]
    wins = sum(float((goods < b).sum() + 0.5 * (goods == b).sum()) for b in bads)
    nb, ng = len(bads) + n_unscored_bad, len(goods) + n_unscored_good
    pairs = nb * ng
    wins += 0.5 * (pairs - len(bads) * len(goods))
    return wins / pairs if pairs else float("nan")


def generate_park(seed: int, vendors: int, workdir: Path
                  ) -> tuple[Path, dict, pd.DataFrame]:
    """Generate the outside park *seed* into ``workdir/park-<seed>``: (its folder, the
    generator's truth, its truth per firm)."""
    from tests.outside.park_export import generate

    out = workdir / f"park-{seed}"
    generate(seed, vendors, out)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return out, truth, pd.read_csv(out / "truth_firms.csv", dtype={"uscc": str})


class Cutoff(NamedTuple):
    fr: frames.Frames       # the imported park's frames as of the day after the cut-off
    X: pd.DataFrame         # their features
    why: dict               # why a firm is not scorable (the insufficient ones)
    uid: dict[str, int]     # firm id by USCC
    loans: pd.DataFrame     # the generator's cut-off loans: firm_id, y (1: defaulted), scorable


def cutoff_loans(session, cluster_id: int, as_of: date, truth_firms: pd.DataFrame
                 ) -> Cutoff:
    """The imported park's features as of *as_of* and the generator's cut-off loans with
    the borrower's ``firm_id``, its outcome ``y`` and whether it is ``scorable``."""
    fr = frames.load(session=session, as_of=as_of, cluster_id=cluster_id)
    X = features.compute(fr)
    why = features.sufficiency(X)
    uid = dict(zip(fr.firms["uscc"], fr.firms["id"], strict=True))
    loans = truth_firms[truth_firms["cutoff_loan"].astype(str) == "True"].copy()
    loans["firm_id"] = loans["uscc"].map(uid)
    loans["y"] = (loans["defaulted"].astype(str) == "True").astype(int)
    loans["scorable"] = loans["firm_id"].map(lambda f: not why.get(f))
    return Cutoff(fr, X, why, uid, loans)


def evaluate_seed(seed: int, vendors: int, workdir: Path,
                  families: tuple[str, ...] = ("woe", "gbm", "blend"),
                  stated_rate: float = STATED_RATE, cache: Path | None = None) -> dict:
    out, truth, tf = generate_park(seed, vendors, workdir)
    cutoff = date.fromisoformat(truth["cutoff"])
    as_of = cutoff + timedelta(days=1)
    url = f"sqlite:///{workdir / f'outside-{seed}.db'}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    res = {"seed": seed, "cutoff": cutoff.isoformat(),
           "observed_rate": truth["cutoff_default_rate"], "cutoff_loans": truth["cutoff_loans"]}
    with db.transaction(factory) as s:
        t0 = time.perf_counter()
        cid = import_park(s, out / "export", f"outside-{seed}", cutoff)
        res["import_s"] = round(time.perf_counter() - t0, 1)
        fr, X, why, uid, loans = cutoff_loans(s, cid, as_of, tf)
        sc = loans[loans["scorable"]]
        un = loans[~loans["scorable"]]
        res["unscorable"] = int(len(un))
        # Expert card, before any calibration.
        spec = expert.spec()
        Xs = X.loc[sc["firm_id"]]
        p_exp = training.scorecard.apply(spec, Xs).pd.to_numpy()
        res["expert_auc_scorable"] = round(metrics.auc(sc["y"], p_exp), 4)
        res["expert_auc_all"] = round(_auc_with_ties(
            sc["y"], p_exp, int(un["y"].sum()), int((1 - un["y"]).sum())), 4)
        res["expert_mean_pd_uncalibrated"] = round(float(p_exp.mean()), 4)
        # Beside it, from the same run: the generator's own plain baseline (5-fold CV of a
        # ridge logistic regression on six features) and the ceiling (hidden true PD).
        from tests.outside import baseline as outside_baseline

        names_, xb, _ = outside_baseline.features(out, truth)
        rows_ = [f for f in truth["firms"] if f["cutoff_loan"]]
        yb = np.array([f["defaulted"] for f in rows_], dtype=float)
        res["generator_baseline_cv"] = round(float(np.mean(
            outside_baseline.cross_validated_auc(xb, yb))), 4)
        res["ceiling_auc"] = round(outside_baseline.auc(
            np.array([f["pd_true"] for f in rows_]), yb), 4)
        # The PD level. The slope always comes from the park's own past loans (none of the
        # cut-off's). The level: first from those loans alone (their period's rate), then
        # from a portfolio default rate stated at the cut-off, as the risk team would set
        # it for the current period (``--stated-rate``; not the seed's observed rate).
        from trellis.scoring.models import PortfolioDefaultRate
        from trellis.scoring.registry import platform_table

        past = platform_table(session=s, as_of=as_of, cluster_id=cid)
        yp = past["defaulted"].to_numpy(dtype=int)
        by_outcomes = calibration.recalibrate(spec, past, yp)
        rep0 = calibration.report(by_outcomes, Xs, sc["y"].to_numpy())
        res["pd_ratio_outcomes_level"] = rep0["ratio"]
        res["grades_outside_outcomes_level"] = rep0["grades_outside_band"]
        res["past_rate"] = round(float(yp.mean()), 4)
        pop = X[[not why.get(f) and X.loc[f, "role"] != "anchor" for f in X.index]]
        if cache is not None:
            # the tables bench/scoring_expert_dev.py reads, so that another version's card
            # and calibration (main's, say) can be evaluated on the very same park
            import pickle

            cache.mkdir(parents=True, exist_ok=True)
            (cache / f"dev-{seed}.pkl").write_bytes(pickle.dumps({
                "seed": seed, "cutoff": cutoff, "as_of": as_of, "cluster_id": cid, "X": X,
                "loans": loans[["uscc", "firm_id", "y", "scorable", "sector"]],
                "past": past, "pop": pop, "db": str(workdir / f"outside-{seed}.db")}))
        res["stated_rate"] = stated_rate
        res["sensitivity"] = {}
        for r_ in (res["past_rate"], round(stated_rate * 0.8, 4), round(stated_rate * 1.2, 4)):
            alt = calibration.recalibrate_to_rate(spec, past, yp, pop, r_, source="bench")
            rep_ = calibration.report(alt, Xs, sc["y"].to_numpy())
            res["sensitivity"][r_] = (rep_["ratio"], rep_["grades_outside_band"])
        s.add(PortfolioDefaultRate(effective_from=cutoff, rate=Decimal(str(stated_rate)),
                                   horizon_months=12, source=STATED_SOURCE))
        s.flush()
        cal = anchoring.calibrate(session=s, as_of=as_of, cluster_id=cid, install=True)
        res["calibration"] = cal["calibration"]["method"]
        res["calibrated_on"] = cal["validation"]["calibrated"]
        rep = calibration.report(cal, Xs, sc["y"].to_numpy())
        res["mean_pd"] = rep["mean_pd"]
        res["observed_scorable"] = rep["observed_rate"]
        res["pd_ratio"] = rep["ratio"]
        res["grades"] = rep["grades"]
        res["hl_p"] = rep["hosmer_lemeshow"]["p_value"]
        res["score_span"] = rep["score_span"]
        # How much of the configured score range the scorable vendors use (issue 14: "scores
        # use the full configured range"): their 5th-95th percentile and min-max as shares.
        pop_scores = training.scorecard.apply(cal, pop).score.to_numpy()
        lo_, hi_ = training.scorecard.score_range(cal) or (np.nan, np.nan)
        p5, p95 = np.percentile(pop_scores, [5, 95])
        res["score_range"] = [lo_, hi_]
        res["population_scores_p5_p95"] = [int(p5), int(p95)]
        res["range_used_p5_p95"] = round(float((p95 - p5) / (hi_ - lo_)), 3)
        res["range_used_min_max"] = round(float(
            (pop_scores.max() - pop_scores.min()) / (hi_ - lo_)), 3)
        res["grade_counts"] = {g["grade"]: g["n"] for g in rep["grades"]}
        # Trained cards: 5-fold CV on the feature table as of the cut-off.
        table = export.feature_table(session=s, as_of=as_of, cluster_id=cid)
        table = table.merge(loans[["firm_id", "y"]], on="firm_id")
        drop = ["firm_id", "uscc", "cluster_id", "as_of", "insufficient", "scorable", "role"]
        data = table.drop(columns=[c for c in drop if c in table])
        for fam in families:
            cv = training.cross_validate(data, target="y", folds=5, seed=0, family=fam,
                                         monotone=expert.monotone())
            res[f"trained_{fam}_cv"] = (cv["auc_mean"], cv["auc_std"])
        # Screens as of the cut-off, gated by the data each firm's sources hold (the
        # onboarding area's coverage, as the scoring service does).
        from trellis.onboarding.coverage import kinds_by_firm

        coverage = kinds_by_firm(session=s, firm_ids=fr.scope, as_of=as_of)
        flags = screens.run(fr, X, coverage=coverage)
        codes = {f: {x.code for x in fl} for f, fl in flags.items()}
        clean = tf[(tf["role"] != "anchor") & (tf["fraud"] == "none")]["uscc"].map(uid)
        res["clean_vendors"] = int(len(clean))
        rates = defaultdict(int)
        for f in clean:
            for c in codes.get(f, ()):
                rates[c] += 1
        res["false_flags"] = {c: round(n / len(clean), 4) for c, n in sorted(rates.items())}
        res["clean_flagged"] = round(sum(1 for f in clean if codes.get(f)) / len(clean), 4)
        # For comparison with runs before the coverage gate: the rate without that screen.
        res["clean_flagged_without_unbacked"] = round(sum(
            1 for f in clean if codes.get(f, set()) - {"unbacked_invoices"}) / len(clean), 4)
        decoys = {u for p in truth["plants"].get("decoy_cycle", []) for u in p["firms"]}
        res["decoys_flagged_ring"] = sum(1 for u in decoys
                                         if "circular_trading" in codes.get(uid[u], ()))
        caught = {}
        for kind, want in PLANT_SCREENS.items():
            firms_ = []
            for p in truth["plants"].get(kind, []):
                if "firms" in p:
                    firms_ += p["firms"]
                elif "seller" in p:
                    firms_.append(p["seller"])
                elif "firm" in p:
                    firms_.append(p["firm"])
            hit = sum(1 for u in firms_ if codes.get(uid.get(u), set()) & want)
            caught[kind] = f"{hit}/{len(firms_)}"
        res["plants_caught"] = caught
        s.rollback()
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4001, 4002])
    p.add_argument("--vendors", type=int, default=400)
    p.add_argument("--families", nargs="+", default=["woe", "gbm", "blend"],
                   help="trained card families to cross-validate")
    p.add_argument("--stated-rate", type=float, default=STATED_RATE,
                   help="portfolio default rate stated at the cut-off (sets the PD level)")
    p.add_argument("--json", action="store_true", help="print each seed's result as JSON")
    p.add_argument("--cache", type=Path, default=None,
                   help="write each seed's feature tables here (bench/scoring_expert_dev.py's "
                        "format), to evaluate another version's card on the same park")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="outside-"))
    service.logger.setLevel("WARNING")
    for seed in args.seeds:
        t0 = time.perf_counter()
        r = evaluate_seed(seed, args.vendors, work, tuple(args.families), args.stated_rate,
                          args.cache)
        r["seconds"] = round(time.perf_counter() - t0, 1)
        if args.json:
            print(json.dumps(r, ensure_ascii=False, default=str))
            continue
        print(f"seed {seed}: {r['cutoff_loans']} cut-off loans, observed default rate "
              f"{r['observed_rate']:.1%}; {r['unscorable']} borrowers unscorable")
        print(f"  expert AUC {r['expert_auc_scorable']:.3f} (scorable), "
              f"{r['expert_auc_all']:.3f} (unscorable as ties); uncalibrated mean PD "
              f"{r['expert_mean_pd_uncalibrated']:.1%}")
        print(f"  baseline: the generator's plain logistic (5-fold CV, all borrowers) "
              f"{r['generator_baseline_cv']:.3f}; ceiling (hidden true PD) {r['ceiling_auc']:.3f}")
        print(f"  level from the past loans alone ({r['past_rate']:.1%} defaulted): mean PD / "
              f"observed {r['pd_ratio_outcomes_level']}, grades outside their band "
              f"{r['grades_outside_outcomes_level']}")
        print(f"  stated rate {r['stated_rate']:.1%}; sensitivity (stated rate: ratio, grades "
              f"outside) {r['sensitivity']}")
        print(f"  {r['calibrated_on']}")
        print(f"  mean PD {r['mean_pd']:.1%} vs observed {r['observed_scorable']:.1%} "
              f"(ratio {r['pd_ratio']}); Hosmer-Lemeshow p {r['hl_p']:.3f}; scores "
              f"{r['score_span']} of {r['score_range']}; vendors' 5th-95th percentile "
              f"{r['population_scores_p5_p95']} ({r['range_used_p5_p95']:.0%} of the range, "
              f"min-max {r['range_used_min_max']:.0%})")
        for g in r["grades"]:
            print(f"    grade {g['grade']}: {g['n']:>3} firms, observed "
                  f"{g['observed_rate']:.1%}, mean PD {g['mean_pd']:.1%}, band "
                  f"[{g['band_low']:.1%}, {g['band_high']:.1%}] "
                  f"{'inside' if g['inside'] else 'OUTSIDE'}")
        for fam in args.families:
            m, sd = r[f"trained_{fam}_cv"]
            print(f"  trained {fam} 5-fold CV AUC {m:.3f} +- {sd:.3f}")
        print(f"  clean vendors {r['clean_vendors']}, flagged {r['clean_flagged']:.1%} "
              f"({r['clean_flagged_without_unbacked']:.1%} without the unbacked screen); "
              f"per screen {r['false_flags']}; decoy ring members flagged "
              f"{r['decoys_flagged_ring']}")
        print(f"  plants caught {r['plants_caught']}  ({r['seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
