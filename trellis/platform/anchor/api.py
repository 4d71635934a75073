"""The anchor's ERP API: list, confirm and reject its vendors' invoices and orders.

Authentication: a firm API token (``Authorization: Bearer trl_...``, issued on the
anchor desk or by an admin) or a logged-in anchor user. Every change needs an
``Idempotency-Key`` header (see :mod:`trellis.platform.anchor.idempotency`). An id that
is not the anchor's answers 404 and nothing changes. A confirmation goes on chain and
cannot be withdrawn: like the page's tick 我已核对订单与收货, the caller attests that the
order and the delivery were checked (``{"checked_order_and_delivery": true}``); without
it the answer is 422 in the caller's language and nothing is confirmed. An invoice marked
疑似重复 (another of the seller's to the anchor has the same amount and issue day) is
confirmed only if its id is also listed in ``accept_duplicates``, as the page asks for that
row's own tick; otherwise the whole request answers 422 naming it, nothing confirmed.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from trellis.errors import ValidationError
from trellis.network import confirmations
from trellis.platform.anchor.idempotency import idempotent
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.vendor_portal.common import current_user_obj
from trellis.platform.web import audit, current_firm_id, db

bp = Blueprint("anchor_api", __name__)

DOC_SCHEMA = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["invoice", "order"]}, "id": {"type": "integer"},
    "number": {"type": "string"}, "seller_uscc": {"type": "string"},
    "seller_name": {"type": "string"}, "amount_fen": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "due_date": {"type": ["string", "null"], "format": "date"},
    "status": {"type": "string", "enum": ["pending", "confirmed", "rejected"]},
    "reject_reason": {"type": ["string", "null"]}}}
LIST_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": DOC_SCHEMA}, "limit": {"type": "integer"},
    "offset": {"type": "integer"}}}
OUTCOME_SCHEMA = {"type": "object", "properties": {
    "kind": {"type": "string"}, "id": {"type": "integer"}, "number": {"type": "string"},
    "status": {"type": "string"},
    "changed": {"type": "boolean", "description": "false when it was already decided so"}}}
DECISIONS_RESPONSE = {"type": "object", "properties": {
    "results": {"type": "array", "items": OUTCOME_SCHEMA}}}
# The reason is stripped, then must be 1-300 characters: at most 300 with a non-space.
REASON = {"type": "string", "maxLength": confirmations.MAX_REASON, "pattern": "\\S"}
REJECT_REQUEST = {"type": "object", "required": ["reason"], "properties": {"reason": REASON}}
# A confirmation goes on chain and cannot be withdrawn: the caller attests, as the web
# page's tick 我已核对订单与收货 does, that the order and the delivery were checked.
CHECKED = confirmations.CHECKED_FIELD
ATTESTATION = {"type": "boolean", "const": True, "description":
               "true: the order and the delivery were checked (我已核对订单与收货). Without it "
               "a confirmation answers 422 and nothing is confirmed."}
# A possible duplicate (疑似重复) is confirmed only when accepted by its own id, as the page
# asks for that row's own tick; the attestation alone does not confirm it.
ACCEPT = confirmations.ACCEPT_FIELD
ACCEPTANCE = {"type": "array", "maxItems": confirmations.MAX_BULK, "items": {
    "type": "integer", "minimum": 1, "maximum": confirmations.MAX_ID}, "description":
    "ids of invoices marked 疑似重复 (the seller has another invoice to your firm with the "
    "same amount and issue date, not rejected) that were checked to be separate sales and "
    "are to be confirmed anyway. A possible duplicate not listed here makes the whole "
    "confirmation answer 422 naming it, and nothing is confirmed."}
CONFIRM_REQUEST = {"type": "object", "required": [CHECKED],
                   "properties": {CHECKED: ATTESTATION, ACCEPT: ACCEPTANCE}}
BULK_REQUEST = {
    "type": "object", "required": ["ids", "decision"], "properties": {
        "ids": {"type": "array", "minItems": 1, "maxItems": confirmations.MAX_BULK,
                "items": {"type": "integer", "minimum": 1, "maximum": confirmations.MAX_ID}},
        "decision": {"type": "string", "enum": ["confirm", "reject"]},
        "reason": {"type": ["string", "null"], "maxLength": confirmations.MAX_REASON},
        CHECKED: ATTESTATION, ACCEPT: ACCEPTANCE},
    "allOf": [
        {"if": {"properties": {"decision": {"const": "reject"}}},
         "then": {"required": ["reason"], "properties": {"reason": REASON}}},
        {"if": {"properties": {"decision": {"const": "confirm"}}},
         "then": {"required": [CHECKED]}}]}
PLURAL = {"invoice": "invoices", "order": "orders"}


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise ValidationError(f"{name} must be a whole number from 0 to {maximum}.", field=name)
    return int(raw)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object (Content-Type: application/json).",
                              field="body")
    return body


def _accepted(body: object) -> list:
    """The ids of *body*'s :data:`ACCEPT` (none when absent); a list of whole numbers."""
    raw = body.get(ACCEPT) if isinstance(body, dict) else None
    if raw is None:
        return []
    # JSON Schema's integer includes 1.0, which JSON parsers read as a float
    if not isinstance(raw, list) or not all(
            (isinstance(i, int) and not isinstance(i, bool))
            or (isinstance(i, float) and i.is_integer()) for i in raw):
        raise ValidationError(f"{ACCEPT} must be a list of invoice ids.", field=ACCEPT)
    return [int(i) for i in raw]


def _decide(kind: str, ids, decision: str, reason, checked=False,
            accepted: list | None = None) -> tuple[dict, int]:
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("reason must be text.", field="reason")
    outcomes = confirmations.decide(session=db(), anchor_id=current_firm_id(), kind=kind,
                                    ids=ids, decision=decision, reason=reason,
                                    user=current_user_obj(), checked=checked,
                                    accepted_duplicates=accepted, via="api")
    for o in outcomes:
        if o.changed:
            audit(f"{o.kind}.{decision}", o.kind, o.id, number=o.number, reason=reason or "",
                  via="api")
    return {"results": [o.as_dict() for o in outcomes]}, 200


def _register(kind: str) -> None:
    plural = PLURAL[kind]

    @doc(summary=f"List the anchor's {plural} (status: pending, confirmed, rejected or all)",
         response=LIST_SCHEMA, tags=("anchor",))
    @api_auth(roles=("anchor",))
    def list_docs():
        status = request.args.get("status", "pending")
        if status not in ("pending", "confirmed", "rejected", "all"):
            raise ValidationError("status must be pending, confirmed, rejected or all.",
                                  field="status")
        limit = _int_arg("limit", 200, 1000)
        offset = _int_arg("offset", 0, 10**9)
        rows = confirmations.documents(session=db(), anchor_id=current_firm_id(), kind=kind,
                                       status=None if status == "all" else status,
                                       limit=limit, offset=offset)
        return jsonify({"items": [r.as_dict() for r in rows], "limit": limit, "offset": offset})

    @doc(summary=f"Confirm one {kind} once its order and delivery are checked (body "
                 f"{{\"{CHECKED}\": true}}; an invoice marked 疑似重复 also needs its id in "
                 f"\"{ACCEPT}\"; needs an Idempotency-Key header)",
         request=CONFIRM_REQUEST, response=DECISIONS_RESPONSE, tags=("anchor",))
    @api_auth(roles=("anchor",))
    @idempotent
    def confirm_one(doc_id: int):
        # no body, or no attestation in it: the core refuses (422) and confirms nothing
        body = request.get_json(silent=True)
        checked = body.get(CHECKED) if isinstance(body, dict) else None
        return _decide(kind, [doc_id], "confirm", None, checked, _accepted(body))

    @doc(summary=f"Reject one {kind} with a reason (needs an Idempotency-Key header)",
         request=REJECT_REQUEST, response=DECISIONS_RESPONSE, tags=("anchor",))
    @api_auth(roles=("anchor",))
    @idempotent
    def reject_one(doc_id: int):
        return _decide(kind, [doc_id], "reject", _json_body().get("reason"))

    @doc(summary=f"Confirm or reject many {plural} at once, all or nothing (a confirmation "
                 f"needs \"{CHECKED}\": true, and each invoice marked 疑似重复 its id in "
                 f"\"{ACCEPT}\"; needs an Idempotency-Key header)",
         request=BULK_REQUEST, response=DECISIONS_RESPONSE, tags=("anchor",))
    @api_auth(roles=("anchor",))
    @idempotent
    def decide_many():
        body = _json_body()
        ids = body.get("ids")
        if not isinstance(ids, list):
            raise ValidationError("ids must be a list of document ids.", field="ids")
        return _decide(kind, ids, str(body.get("decision", "")), body.get("reason"),
                       body.get(CHECKED), _accepted(body))

    bp.add_url_rule(f"/anchor/{plural}", f"list_{plural}", list_docs, methods=["GET"])
    bp.add_url_rule(f"/anchor/{plural}/<int:doc_id>/confirm", f"confirm_{kind}", confirm_one,
                    methods=["POST"])
    bp.add_url_rule(f"/anchor/{plural}/<int:doc_id>/reject", f"reject_{kind}", reject_one,
                    methods=["POST"])
    bp.add_url_rule(f"/anchor/{plural}/decisions", f"decide_{plural}", decide_many,
                    methods=["POST"])


for _kind in PLURAL:
    _register(_kind)
