"""The home page: a short overview for each role."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlmodel import func, select

from trellis import clock
from trellis.network.build import WINDOW_DAYS, cluster_graph
from trellis.network.summary import trade_totals
from trellis.platform.vendor_portal.common import state_for
from trellis.platform.web import current_firm_id, db, visible_cluster_ids
from trellis.trade.models import Cluster, Firm, Invoice

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    session = db()
    clusters = visible_cluster_ids()
    cluster_q = select(Cluster)
    if clusters is not None:
        cluster_q = cluster_q.where(Cluster.id.in_(clusters or [-1]))
    stats = {}
    firm = None
    if current_user.role in ("vendor", "anchor"):
        firm = session.get(Firm, current_firm_id())
        column = Invoice.seller_id if current_user.role == "vendor" else Invoice.buyer_id
        # a vendor's invoice to a buyer that is no anchor firm waits for nobody: counted
        # as the invoice list shows it (state_for), not as 待确权
        rows = session.exec(select(Invoice.status, Firm.role, func.count(),
                                   func.sum(Invoice.amount_fen))
                            .join(Firm, Firm.id == Invoice.buyer_id)
                            .where(column == firm.id).group_by(Invoice.status, Firm.role)).all()
        for status, role, count, total in rows:
            key = state_for(status, role)
            before = stats.get(key, (0, 0))
            stats[key] = (before[0] + int(count), (before[1] or 0) + int(total or 0))
    kpis = None
    if current_user.role in ("admin", "rm", "auditor"):
        kpis = _portfolio_kpis(clusters)
    return render_template("home/index.html", clusters=session.exec(cluster_q).all(),
                           firm=firm, stats=stats, kpis=kpis)


def _portfolio_kpis(clusters: list[int] | None) -> dict:
    """Headline figures over the clusters the user may see: firms, anchors, and the
    invoiced trade of each cluster's supply graph summed, the very figure (same window,
    same rejected invoices left out) the park page shows as its 12-month trade."""
    session = db()
    firms = select(Firm.role, func.count()).group_by(Firm.role)
    ids = select(Cluster.id)
    if clusters is not None:
        firms = firms.where(Firm.cluster_id.in_(clusters or [-1]))
        ids = ids.where(Cluster.id.in_(clusters or [-1]))
    by_role = dict(session.exec(firms).all())
    count = total = confirmed = 0
    as_of = window = None
    cluster_ids = list(session.exec(ids).all())
    for cluster_id in cluster_ids:
        totals = trade_totals(cluster_graph(session=session, cluster_id=cluster_id))
        count += totals["invoices"]
        total += totals["volume_fen"]
        confirmed += totals["confirmed_fen"]
        as_of, window = totals["as_of"], totals["window_days"]
    return {"firms": sum(by_role.values()), "anchors": by_role.get("anchor", 0),
            "invoices": count, "invoice_fen": int(total), "confirmed_fen": int(confirmed),
            "confirmed_share": (confirmed / total) if total else None,
            "clusters": len(cluster_ids), "as_of": as_of or clock.today(),
            "since": (as_of or clock.today()) - timedelta(days=window or WINDOW_DAYS)
                     + timedelta(days=1)}
