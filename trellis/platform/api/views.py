"""Core API routes: the OpenAPI document, who am I, firms."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from trellis.errors import NotFound
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import build, doc
from trellis.platform.web import current_firm_id, db, firm_visible, user_role
from trellis.trade.models import Firm

bp = Blueprint("api", __name__)

FIRM_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "uscc": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string"}, "industry": {"type": "string"},
    "cluster_id": {"type": ["integer", "null"]}}}


def firm_json(firm: Firm) -> dict:
    return {"id": firm.id, "uscc": firm.uscc, "name": firm.name, "role": firm.role,
            "industry": firm.industry, "region": firm.region, "cluster_id": firm.cluster_id}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(build())


@bp.get("/me")
@api_auth()
@doc(summary="Who is calling: role and firm", response={"type": "object"})
def me():
    body = {"role": user_role(), "firm_id": current_firm_id()}
    if current_user.is_authenticated:
        body["email"] = current_user.email
    return jsonify(body)


@bp.get("/firms/<int:firm_id>")
@api_auth()
@doc(summary="One firm", response=FIRM_SCHEMA)
def firm(firm_id: int):
    record = db().get(Firm, firm_id)
    if record is None or not firm_visible(firm_id):
        raise NotFound(f"No firm {firm_id}.")
    return jsonify(firm_json(record))
