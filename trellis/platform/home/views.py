"""The home page: a short overview for each role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlmodel import func, select

from trellis.trade.models import Cluster, Firm, Invoice
from trellis.platform.web import current_firm_id, db, visible_cluster_ids

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
        rows = session.exec(select(Invoice.status, func.count(), func.sum(Invoice.amount_fen))
                            .where(column == firm.id).group_by(Invoice.status)).all()
        stats = {status: (count, total) for status, count, total in rows}
    return render_template("home/index.html", clusters=session.exec(cluster_q).all(),
                           firm=firm, stats=stats)
