"""The anchor's view of its suppliers: the network picture, early warning (scores that
fell, loans overdue) and the stress test "if we pay N days late"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from trellis import clock
from trellis.ledger import stress
from trellis.ledger.lifecycle import dpd
from trellis.ledger.models import Loan
from trellis.network import picture
from trellis.network.build import cluster_graph
from trellis.paging import clean, page_of
from trellis.platform.anchor.blueprint import bp
from trellis.platform.anchor.forms import StressForm
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.common import own_firm
from trellis.platform.web import db, roles_required
from trellis.scoring.disclosure import SCORE_DROP, RiskSignal, Signal, signal_for_anchor
from trellis.scoring.models import PortfolioRun, ScoreRecord
from trellis.trade.models import Firm, Relationship

COMPARE_DAYS = 28   # a score is compared with the newest one at least this much older


TIER2_LISTED = 50   # second-tier suppliers listed, largest first (the page says of how many)


@bp.get("/network")
@roles_required("anchor")
def network():
    firm = own_firm()
    svg = None
    tier1: list = []
    tier2: list = []
    drawn1 = drawn2 = 0
    if firm.cluster_id:
        G = cluster_graph(session=db(), cluster_id=firm.cluster_id)
        tier1, tier2 = picture.neighbourhood(G, firm.id)
        shown = picture.drawn(G, firm.id, tier1, tier2)   # what the note counts is drawn
        drawn1, drawn2 = len(shown[0]), len(shown[1])
        svg = Markup(picture.render_svg(G, firm.id, title=_("Our supplier network"),
                                        shown=shown))
    wanted = clean(**paging_args(), sorts=("volume",))
    if wanted["q"]:
        found = [s for s in tier1 if wanted["q"].lower() in s.name.lower()]
    else:
        found = tier1
    page = page_of(found, **wanted, sorts=("volume",))   # largest first, as drawn
    on_record = supplier_tiers(db(), firm.id)
    quiet = _without_recent_invoices(on_record, tier1, tier2)
    return render_template("anchor/network.html", firm=firm, svg=svg, tier1=tier1,
                           tier2=tier2, drawn1=drawn1, drawn2=drawn2, page=page,
                           tier2_shown=tier2[:TIER2_LISTED], quiet=quiet,
                           on_record=len(on_record))


def _without_recent_invoices(on_record: dict[int, int], tier1: list, tier2: list) -> list[Firm]:
    """The suppliers on record (:func:`supplier_tiers`, what the early warning and the
    stress test count) that the picture leaves out: no invoice to the anchor or to a direct
    supplier in the last 12 months (or only rejected ones). Named so that the page's
    counts add up to the other pages' (issue 15, F26: 94 here, 95 there)."""
    shown = {s.node for s in tier1} | {s.node for s in tier2}
    missing = [fid for fid in on_record if fid not in shown]
    if not missing:
        return []
    return list(db().exec(select(Firm).where(col(Firm.id).in_(missing))
                          .order_by(col(Firm.name))))


# --- early warning ------------------------------------------------------------------------

@dataclass
class Warning:
    """A supplier whose risk rose, as its buyer may see it: a signal in words, never the
    bank's score, grade or the supplier's loans (:mod:`trellis.scoring.disclosure`)."""

    firm: Firm
    tier: int
    signal: RiskSignal


def _suppliers_and_theirs(anchor_id: int):
    """The relationships in which the anchor or one of its direct suppliers buys (a
    select of buyer and supplier ids)."""
    direct = select(col(Relationship.supplier_id)).where(col(Relationship.buyer_id) == anchor_id)
    return select(col(Relationship.buyer_id), col(Relationship.supplier_id)).where(
        or_(col(Relationship.buyer_id) == anchor_id, col(Relationship.buyer_id).in_(direct)))


def supplier_tiers(session: Session, anchor_id: int) -> dict[int, int]:
    """firm id -> 1 (sells to the anchor) or 2 (sells to a direct supplier)."""
    # one statement for both tiers: a large cluster's anchor has thousands of direct
    # suppliers, and a second statement listing them as parameters cost as much as the rest
    pairs = session.execute(_suppliers_and_theirs(anchor_id)).all()
    tiers = {s: 1 for b, s in pairs if b == anchor_id and s != anchor_id}
    for b, s in pairs:
        if b in tiers and s not in tiers and s != anchor_id:
            tiers[s] = 2
    return tiers


def early_warnings(*, session: Session, anchor_id: int, as_of: date | None = None,
                   tiers: dict[int, int] | None = None) -> tuple[list[Warning], int]:
    """Suppliers whose risk rose (their score fell over at least :data:`COMPARE_DAYS`
    days, or a loan is overdue), sharpest first, as signals the anchor may see; and how
    many suppliers have two scores to compare. *tiers*: :func:`supplier_tiers` of the
    anchor, when the caller has it."""
    as_of = as_of or clock.today()
    tiers = supplier_tiers(session, anchor_id) if tiers is None else tiers
    if not tiers:
        return [], 0
    # the suppliers as a subquery, not thousands of ids as parameters; it may also name the
    # anchor, which *tiers* leaves out
    suppliers = select(_suppliers_and_theirs(anchor_id).subquery().c.supplier_id)
    scored = col(ScoreRecord.score).is_not(None)
    # only a supplier with two scores can have fallen: one score (most suppliers, between
    # two scoring runs) is read only for a supplier listed for an overdue loan
    twice = (select(col(ScoreRecord.firm_id)).where(col(ScoreRecord.firm_id).in_(suppliers),
                                                      scored)
             .group_by(col(ScoreRecord.firm_id)).having(func.count() > 1))
    overdue: dict[int, list[int]] = {}
    for loan in session.exec(select(Loan).where(col(Loan.firm_id).in_(suppliers),
                                                col(Loan.status).in_(["active", "overdue"]))):
        days = dpd(loan, as_of)
        if loan.firm_id in tiers and (days > 0 or loan.status == "overdue"):
            overdue.setdefault(loan.firm_id, []).append(days)
    records: dict[int, list] = {}
    # the four columns compared, not whole records (each holds some 70 features, reasons
    # and flags as JSON: parsing them was most of the page)
    for rec in session.execute(select(col(ScoreRecord.firm_id), col(ScoreRecord.as_of),
                                      col(ScoreRecord.score), col(ScoreRecord.grade))
                               .where(or_(col(ScoreRecord.firm_id).in_(twice),
                                          col(ScoreRecord.firm_id).in_(list(overdue))),
                                      scored)
                               .order_by(col(ScoreRecord.as_of).desc(),
                                         col(ScoreRecord.computed_at).desc(),
                                         col(ScoreRecord.id).desc())):
        if rec.firm_id in tiers:
            records.setdefault(rec.firm_id, []).append(rec)
    found: list[tuple[int, RiskSignal]] = []
    compared = 0
    for fid in (f for f in tiers if f in records or f in overdue):   # in the tiers' order
        recs = records.get(fid, [])
        now = recs[0] if recs else None
        before = next((r for r in recs[1:]
                       if now and r.as_of <= now.as_of - timedelta(days=COMPARE_DAYS)), None)
        if before is not None:
            compared += 1
        days_late = overdue.get(fid, [])
        signal = signal_for_anchor(
            score_now=now.score if now else None,
            score_before=before.score if before else None,
            grade_now=now.grade if now else None,
            grade_before=before.grade if before else None,
            compared_since=before.as_of if before else None,
            overdue_loans=len(days_late), max_dpd=max(days_late, default=0))
        if signal.warns:
            found.append((fid, signal))
    # the firms of the warnings only: a large cluster's anchor has thousands of suppliers
    # and few warnings, and reading every supplier's row was most of the page
    firms = ({f.id: f for f in session.exec(select(Firm).where(
        col(Firm.id).in_([fid for fid, _ in found])))} if found else {})
    out = [Warning(firms[fid], tiers[fid], signal) for fid, signal in found]
    worst = list(Signal)
    out.sort(key=lambda w: (worst.index(w.signal.level), w.firm.name))
    return out, compared


def last_scored(session: Session, cluster_id: int | None) -> date | None:
    """The day the bank last scored the anchor's cluster (its scheduled job, or a run
    over every cluster); None when never."""
    if cluster_id is None:
        return None
    return session.exec(select(func.max(col(PortfolioRun.as_of))).where(
        or_(col(PortfolioRun.cluster_id) == cluster_id,
            col(PortfolioRun.cluster_id).is_(None)))).one()


@bp.get("/early-warning")
@roles_required("anchor")
def early_warning():
    firm = own_firm()
    tiers = supplier_tiers(db(), firm.id)
    rows, compared = early_warnings(session=db(), anchor_id=firm.id, tiers=tiers)
    # no button: scoring is the bank's (a daily job over the whole park), never an anchor's
    return render_template("anchor/early_warning.html", rows=rows, compared=compared,
                           drop=SCORE_DROP, weeks=COMPARE_DAYS // 7, suppliers=len(tiers),
                           last_scored=last_scored(db(), firm.cluster_id))


# --- stress test ----------------------------------------------------------------------------

@bp.get("/stress", endpoint="stress")
@roles_required("anchor")
def stress_page():
    firm = own_firm()
    form = StressForm(request.args, meta={"csrf": False})
    rows = None
    status = 200
    if "days_late" in request.args:
        if form.validate():
            rows = stress.run(session=db(), anchor_id=firm.id, days_late=form.days_late.data)
        else:
            status = 422
    elif form.days_late.data is None:
        form.days_late.data = 30
    # the day a supplier runs short counts from today: shown with its date
    return render_template("anchor/stress.html", form=form, rows=rows, today=clock.today(),
                           timedelta=timedelta, window=stress.WINDOW_DAYS,
                           cushion_days=stress.CUSHION_DAYS,
                           short=[r for r in rows or [] if r.runs_out_day is not None]), status

