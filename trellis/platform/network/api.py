"""JSON API routes of the network area (under ``/api/v1``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from trellis.errors import NotFound
from trellis.network import build, summary
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.web import db, firm_visible, visible_cluster_ids
from trellis.trade.models import Cluster, Firm

bp = Blueprint("network_api", __name__)

_FIRM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "uscc": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string"}, "industry": {"type": "string"}}}
_PARTNER = {"allOf": [_FIRM, {"type": "object", "properties": {
    "volume_fen": {"type": "integer"}, "invoice_count": {"type": "integer"},
    "confirmed_fen": {"type": "integer"}, "tenure_days": {"type": "integer"},
    "tier": {"type": ["integer", "null"]}}}]}
NEIGHBOURHOOD = {"type": "object", "properties": {
    "firm": _FIRM, "tier": {"type": ["integer", "null"]},
    "sales_fen": {"type": "integer"}, "purchases_fen": {"type": "integer"},
    "pagerank": {"type": "number"}, "anchor_pagerank": {"type": "number"},
    "buyer_hhi": {"type": ["number", "null"]}, "top_buyer_share": {"type": ["number", "null"]},
    "community": {"type": ["integer", "null"]},
    "suppliers": {"type": "array", "items": _PARTNER},
    "buyers": {"type": "array", "items": _PARTNER},
    "supplier_count": {"type": "integer"}, "buyer_count": {"type": "integer"},
    "flags": {"type": "array", "items": {"type": "object"}}}}


@bp.get("/firms/<int:firm_id>/neighbourhood")
@api_auth(roles=("admin", "rm", "auditor", "vendor", "anchor"))
@doc(summary="A firm's place in its cluster's network: tier, figures, suppliers, buyers "
             "(12-month volumes, int fen) and flags. Bank accounts are masked.",
     response=NEIGHBOURHOOD, tags=("network",))
def neighbourhood(firm_id):
    firm = db().get(Firm, firm_id)
    if firm is None or firm.cluster_id is None or not firm_visible(firm_id):
        raise NotFound(_("That firm does not exist or is not visible to you."))
    G = build.cluster_graph(session=db(), cluster_id=firm.cluster_id)
    return jsonify(summary.neighbourhood(G, firm_id))


@bp.get("/clusters")
@api_auth(roles=("admin", "rm", "auditor"))
@doc(summary="The clusters visible to the caller.", tags=("network",),
     response={"type": "object", "properties": {"clusters": {"type": "array", "items": {
         "type": "object", "properties": {"id": {"type": "integer"},
                                          "code": {"type": "string"},
                                          "name": {"type": "string"},
                                          "data_version": {"type": "integer"}}}}}})
def clusters():
    q = select(Cluster).order_by(Cluster.code)
    visible = visible_cluster_ids()
    if visible is not None:
        q = q.where(Cluster.id.in_(visible or [-1]))
    return jsonify({"clusters": [
        {"id": c.id, "code": c.code, "name": c.name, "region": c.region,
         "data_version": c.data_version} for c in db().execute(q).scalars()]})


@bp.get("/clusters/<code>/stats")
@api_auth(roles=("admin", "rm", "auditor"))
@doc(summary="A cluster's network figures: firms, edges, tiers, cycles, communities, "
             "shared-identity links, cut vertices, bridges.", tags=("network",),
     response={"type": "object"})
def cluster_stats(code):
    cluster = db().execute(select(Cluster).where(Cluster.code == code)).scalar_one_or_none()
    visible = visible_cluster_ids()
    if cluster is None or (visible is not None and cluster.id not in visible):
        raise NotFound(_("There is no cluster %(code)s, or it is not assigned to you.",
                         code=code))
    return jsonify(summary.stats(build.cluster_graph(session=db(), cluster_id=cluster.id)))
