"""JSON API routes of the network area (under ``/api/v1``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from trellis.errors import NotFound, ValidationError
from trellis.network import build, summary
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.web import audit, commit, db, firm_visible, visible_cluster_ids
from trellis.trade import clusters as cluster_service
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


_CLUSTER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
    "region": {"type": "string"}, "kind": {"type": "string"},
    "data_version": {"type": "integer"}, "firms": {"type": "integer"},
    "archived_at": {"type": ["string", "null"]}}}
_CLUSTER_CHANGE = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 200}, "region": {"type": "string", "maxLength": 120},
    "kind": {"type": "string", "enum": ["industrial_park", "startup_base"]}}}
_CLUSTER_NEW = {"type": "object", "required": ["code", "name"], "properties": {
    "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$"},
    **_CLUSTER_CHANGE["properties"]}}


@bp.get("/clusters")
@api_auth(roles=("admin", "rm", "auditor"))
@doc(summary="The clusters visible to the caller (archived ones with ?archived=1).",
     tags=("network",),
     response={"type": "object", "properties": {"clusters": {"type": "array",
                                                              "items": _CLUSTER}}})
def clusters():
    return jsonify({"clusters": cluster_service.listing(
        session=db(), ids=visible_cluster_ids(), archived=request.args.get("archived") == "1")})


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_("Send a JSON object."))
    for key, value in body.items():
        if key in ("code", "name", "region", "kind") and not isinstance(value, str):
            raise ValidationError(_("%(field)s must be text.", field=key), field=key)
    return body


def _visible_cluster(code: str):
    cluster = db().execute(select(Cluster).where(
        Cluster.code == cluster_service.normalise_code(code))).scalar_one_or_none()
    visible = visible_cluster_ids()
    if cluster is None or (visible is not None and cluster.id not in visible):
        raise NotFound(_("There is no cluster %(code)s, or it is not assigned to you.",
                         code=code))
    return cluster


@bp.post("/clusters")
@api_auth(roles=("admin", "rm"))
@doc(summary="Create a cluster (an RM who creates one is assigned to it). Audited.",
     request=_CLUSTER_NEW, response=_CLUSTER, tags=("network",))
def create_cluster():
    body = _body()
    manager = current_user.id if current_user.role == "rm" else None
    c = cluster_service.create(session=db(), code=body.get("code", ""),
                               name=body.get("name", ""), region=body.get("region", ""),
                               kind=body.get("kind", "industrial_park"), manager_id=manager)
    audit("cluster.create", "cluster", c.id, code=c.code, name=c.name, region=c.region)
    commit()
    return jsonify(cluster_service.as_dict(c, 0)), 201


@bp.patch("/clusters/<code>")
@api_auth(roles=("admin", "rm"))
@doc(summary="Change a cluster's name, region or kind. Audited.", request=_CLUSTER_CHANGE,
     response=_CLUSTER, tags=("network",))
def edit_cluster(code):
    c = _visible_cluster(code)
    body = _body()
    changes = cluster_service.edit(session=db(), cluster=c, name=body.get("name"),
                                   region=body.get("region"), kind=body.get("kind"))
    if changes:
        audit("cluster.edit", "cluster", c.id, code=c.code, changes=changes)
    commit()
    return jsonify(cluster_service.as_dict(c))


@bp.post("/clusters/<code>/archive")
@api_auth(roles=("admin", "rm"))
@doc(summary="Archive a cluster: kept, no longer listed, takes no imports. Audited.",
     response=_CLUSTER, tags=("network",))
def archive_cluster(code):
    c = _visible_cluster(code)
    cluster_service.archive(session=db(), cluster=c)
    audit("cluster.archive", "cluster", c.id, code=c.code)
    commit()
    return jsonify(cluster_service.as_dict(c))


@bp.post("/clusters/<code>/restore")
@api_auth(roles=("admin", "rm"))
@doc(summary="Restore an archived cluster. Audited.", response=_CLUSTER, tags=("network",))
def restore_cluster(code):
    c = _visible_cluster(code)
    cluster_service.restore(session=db(), cluster=c)
    audit("cluster.restore", "cluster", c.id, code=c.code)
    commit()
    return jsonify(cluster_service.as_dict(c))


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
