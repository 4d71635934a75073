"""The anchor's view of its suppliers: the network picture, early warning (scores that
fell, loans overdue) and the stress test "if we pay N days late"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlmodel import Session, col, select

from trellis.errors import TrellisError
from trellis.ledger import stress
from trellis.ledger.lifecycle import dpd
from trellis.ledger.models import Loan
from trellis.network import picture
from trellis.network.build import cluster_graph
from trellis.paging import clean, page_of
from trellis.platform.anchor.blueprint import bp
from trellis.platform.anchor.forms import StressForm
from trellis.platform.forms import EmptyForm
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.common import own_firm
from trellis.platform.web import audit, commit, db, roles_required
from trellis.scoring.models import ScoreRecord
from trellis.scoring.service import score_portfolio
from trellis.trade.models import Firm, Relationship

SCORE_DROP = 20  # points; a fall this large (or a worse grade) is a warning
GRADES = "ABCDE"
LOOKBACK_DAYS = 91


TIER2_LISTED = 50   # second-tier suppliers listed, largest first (the page says of how many)


@bp.get("/network")
@roles_required("anchor")
def network():
    firm = own_firm()
    svg = None
    tier1: list = []
    tier2: list = []
    if firm.cluster_id:
        G = cluster_graph(session=db(), cluster_id=firm.cluster_id)
        tier1, tier2 = picture.neighbourhood(G, firm.id)
        svg = Markup(picture.render_svg(G, firm.id, title=_("Our supplier network")))
    drawn1 = min(len(tier1), picture.MAX_TIER1)
    drawn2 = len([s for s in tier2 if s.buyer in {t.node for t in tier1[:picture.MAX_TIER1]}]
                 [:picture.MAX_TIER2])
    wanted = clean(**paging_args(), sorts=("volume",))
    if wanted["q"]:
        found = [s for s in tier1 if wanted["q"].lower() in s.name.lower()]
    else:
        found = tier1
    page = page_of(found, **wanted, sorts=("volume",))   # largest first, as drawn
    return render_template("anchor/network.html", firm=firm, svg=svg, tier1=tier1,
                           tier2=tier2, drawn1=drawn1, drawn2=drawn2, page=page,
                           tier2_shown=tier2[:TIER2_LISTED])


# --- early warning ------------------------------------------------------------------------

@dataclass
class Warning:
    firm: Firm
    tier: int
    score_now: int | None
    score_before: int | None
    grade_now: str | None
    grade_before: str | None
    as_of_now: date | None
    as_of_before: date | None
    overdue_loans: int
    max_dpd: int

    @property
    def fell(self) -> bool:
        if self.score_now is None or self.score_before is None:
            return False
        worse_grade = (self.grade_now and self.grade_before and
                       GRADES.index(self.grade_now) > GRADES.index(self.grade_before))
        return self.score_before - self.score_now >= SCORE_DROP or bool(worse_grade)

    @property
    def drop(self) -> int | None:
        if self.score_now is None or self.score_before is None:
            return None
        return self.score_before - self.score_now


def supplier_tiers(session: Session, anchor_id: int) -> dict[int, int]:
    """firm id -> 1 (sells to the anchor) or 2 (sells to a direct supplier)."""
    tier1 = set(session.exec(select(Relationship.supplier_id).where(
        Relationship.buyer_id == anchor_id)).all()) - {anchor_id}
    tiers = {f: 1 for f in tier1}
    if tier1:
        for f in session.exec(select(Relationship.supplier_id).where(
                Relationship.buyer_id.in_(tier1))).all():
            if f not in tiers and f != anchor_id:
                tiers[f] = 2
    return tiers


def early_warnings(*, session: Session, anchor_id: int, as_of: date | None = None,
                   tiers: dict[int, int] | None = None) -> tuple[list[Warning], int]:
    """Suppliers whose score fell or who have a loan overdue, worst first; and how many
    suppliers have at least two scores to compare. *tiers*: :func:`supplier_tiers` of the
    anchor, when the caller has it."""
    as_of = as_of or date.today()
    tiers = supplier_tiers(session, anchor_id) if tiers is None else tiers
    if not tiers:
        return [], 0
    ids = list(tiers)
    records: dict[int, list] = {}
    # the four columns compared, not whole records (each holds some 70 features, reasons
    # and flags as JSON: parsing them was most of the page)
    for rec in session.execute(select(col(ScoreRecord.firm_id), col(ScoreRecord.as_of),
                                      col(ScoreRecord.score), col(ScoreRecord.grade))
                               .where(col(ScoreRecord.firm_id).in_(ids),
                                      col(ScoreRecord.score).is_not(None))
                               .order_by(col(ScoreRecord.as_of).desc(),
                                         col(ScoreRecord.computed_at).desc(),
                                         col(ScoreRecord.id).desc())):
        records.setdefault(rec.firm_id, []).append(rec)
    overdue: dict[int, list[int]] = {}
    for loan in session.exec(select(Loan).where(Loan.firm_id.in_(ids),
                                                Loan.status.in_(["active", "overdue"]))):
        days = dpd(loan, as_of)
        if days > 0 or loan.status == "overdue":
            overdue.setdefault(loan.firm_id, []).append(days)
    firms = {f.id: f for f in session.exec(select(Firm).where(Firm.id.in_(ids)))}
    out, compared = [], 0
    for fid, tier in tiers.items():
        recs = records.get(fid, [])
        now = recs[0] if recs else None
        before = next((r for r in recs[1:] if now and r.as_of <= now.as_of - timedelta(days=28)),
                      None)
        if before is not None:
            compared += 1
        w = Warning(firms[fid], tier, now.score if now else None,
                    before.score if before else None, now.grade if now else None,
                    before.grade if before else None, now.as_of if now else None,
                    before.as_of if before else None, len(overdue.get(fid, [])),
                    max(overdue.get(fid, [0])))
        if w.fell or w.overdue_loans:
            out.append(w)
    out.sort(key=lambda w: (-w.max_dpd, -(w.drop or 0), w.firm.name))
    return out, compared


def refresh_scores(*, session: Session, cluster_id: int, as_of: date) -> int:
    """Score the cluster now and :data:`LOOKBACK_DAYS` ago (stored), so falls show."""
    n = 0
    for day in (as_of - timedelta(days=LOOKBACK_DAYS), as_of):
        results, _run = score_portfolio(session=session, as_of=day, cluster_id=cluster_id)
        n = len(results)
    return n


@bp.get("/early-warning")
@roles_required("anchor")
def early_warning():
    firm = own_firm()
    tiers = supplier_tiers(db(), firm.id)
    rows, compared = early_warnings(session=db(), anchor_id=firm.id, tiers=tiers)
    return render_template("anchor/early_warning.html", rows=rows, compared=compared,
                           drop=SCORE_DROP, form=EmptyForm(), suppliers=len(tiers))


@bp.post("/early-warning/refresh")
@roles_required("anchor")
def refresh_early_warning():
    firm = own_firm()
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
    elif not firm.cluster_id:
        flash(_("Your firm is in no cluster yet; there is nothing to score."), "warning")
    else:
        try:
            n = refresh_scores(session=db(), cluster_id=firm.cluster_id, as_of=date.today())
        except TrellisError:
            db().rollback()
            raise
        audit("early_warning.refresh", "firm", firm.id, scored=n)
        commit()
        flash(_("Scores refreshed for %(n)d firms.", n=n), "success")
    return redirect(url_for("anchor.early_warning"), code=303)


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
    # the day a supplier runs out counts from today: shown with its date
    return render_template("anchor/stress.html", form=form, rows=rows, today=date.today(),
                           timedelta=timedelta,
                           short=[r for r in rows or [] if r.runs_out_day is not None],
                           by_cause=stress.short_by_cause(rows or [])), status

