"""The vendor's JSON API: its own invoices and orders, with the buyer's decision and where
each stands on the chain (for a vendor's accounting software), with the chain's scope
(``chain_scope``: which chain "on chain" means, see :mod:`trellis.chain.scope`)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import and_
from sqlmodel import select

from trellis.chain.models import Batch, Document
from trellis.errors import ValidationError
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.chain.api import SCOPE_SCHEMA
from trellis.platform.chain.words import request_scope_json
from trellis.platform.web import current_firm_id, db
from trellis.trade.models import Firm, Invoice, PurchaseOrder

bp = Blueprint("vendor_api", __name__)

ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"},
    "buyer_uscc": {"type": "string"}, "amount_fen": {"type": "integer"},
    "status": {"type": "string", "enum": ["pending", "confirmed", "rejected"]},
    "decided_at": {"type": ["string", "null"], "format": "date-time"},
    "reject_reason": {"type": ["string", "null"]},
    "chain": {"type": "object", "properties": {
        "document": {"type": ["integer", "null"]}, "state": {"type": "string"}}}}}
LIST = {"type": "object", "properties": {"items": {"type": "array", "items": ITEM},
                                         "chain_scope": SCOPE_SCHEMA}}


def _chain_states(kind: str, ids: list[int]) -> dict[int, tuple[int, str]]:
    if not ids:
        return {}
    source = "invoices" if kind == "invoice" else "purchase_orders"
    rows = db().exec(select(Document.source_id, Document.id, Batch.state)
                     .outerjoin(Batch, and_(Batch.id == Document.batch_id))
                     .where(Document.doc_type == kind, Document.source == source,
                            Document.source_id.in_(ids))).all()
    return {sid: (did, state or "queued") for sid, did, state in rows}


def _list(kind: str):
    status = request.args.get("status", "all")
    if status not in ("all", "pending", "confirmed", "rejected"):
        raise ValidationError("status must be all, pending, confirmed or rejected.",
                              field="status")
    model = Invoice if kind == "invoice" else PurchaseOrder
    query = (select(model, Firm.uscc).join(Firm, Firm.id == model.buyer_id)
             .where(model.seller_id == current_firm_id()))
    if status != "all":
        query = query.where(model.status == status)
    rows = db().exec(query.order_by(model.id.desc()).limit(1000)).all()
    states = _chain_states(kind, [r.id for r, _ in rows])
    items = []
    for row, buyer in rows:
        document, state = states.get(row.id, (None, "not committed"))
        items.append({"id": row.id, "number": row.number, "buyer_uscc": buyer,
                      "amount_fen": row.amount_fen, "status": row.status,
                      "decided_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
                      "reject_reason": row.reject_reason,
                      "chain": {"document": document, "state": state}})
    return jsonify({"items": items, "chain_scope": request_scope_json()})


@bp.get("/vendor/invoices")
@doc(summary="The vendor's own invoices with the buyer's decision and chain state",
     response=LIST, tags=("vendor",))
@api_auth(roles=("vendor",))
def invoices():
    return _list("invoice")


@bp.get("/vendor/orders")
@doc(summary="The vendor's own orders with the buyer's decision and chain state",
     response=LIST, tags=("vendor",))
@api_auth(roles=("vendor",))
def orders():
    return _list("order")
