"""JSON API of the chain area (under ``/api/v1``): status, batches, a document's proof
bundle, and verification of a bundle.

Every answer that claims anchoring says on which chain, as the pages' footer does
(:mod:`trellis.chain.scope`): a ``chain_scope`` object (:data:`SCOPE_SCHEMA`: the
machine-readable kind, chain id and node, and the claim in the request's language). A proof
bundle is a file of a fixed format that carries no such field: its answer names the scope
in the ``Trellis-Chain-Scope`` header and links to ``/api/v1/chain/scope`` for the words."""

from __future__ import annotations

import base64
import binascii
import json

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from trellis.chain import bundles, health, verify
from trellis.chain.models import Batch, BatchState
from trellis.errors import PermissionDenied, ValidationError
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.chain.views import check_bundle, verdict_message
from trellis.platform.chain.words import request_scope_json, scope_headers
from trellis.platform.web import db, settings, user_role
from trellis.trade.models import Invoice, PurchaseOrder

bp = Blueprint("chain_api", __name__)
STAFF = ("admin", "auditor")

SCOPE_SCHEMA = {
    "type": "object", "required": ["kind", "chain_id", "node", "independent", "chain_name",
                                   "claim"],
    "description": "Which chain the roots are anchored on, and so what anchoring proves.",
    "properties": {
        "kind": {"type": "string", "enum": ["embedded", "local", "network"],
                 "description": "embedded: a test chain inside this server that only this "
                                "platform can read; local: a development chain, checkable "
                                "by those who reach its node; network: a real network "
                                "anyone can ask"},
        "chain_id": {"type": ["integer", "null"]},
        "node": {"type": "string", "description": "the node's host and port (empty when "
                                                  "embedded)"},
        "independent": {"type": "boolean",
                        "description": "true when people outside this platform can check"},
        "chain_name": {"type": "string"},
        "claim": {"type": "string", "description": "what the anchoring proves, in the "
                                                   "request's language"}}}
SCOPE_HEADERS = {
    "Trellis-Chain-Scope": {"description": "the scope's kind (embedded, local or network) "
                                           "and chain id; the words at /api/v1/chain/scope",
                            "schema": {"type": "string"}},
    "Link": {"description": "</api/v1/chain/scope>; rel=\"describedby\"",
             "schema": {"type": "string"}}}
BUNDLE_SCHEMA = {"type": "object", "description": "A trellis-proof-v2 proof bundle; "
                 "scope (optional): who can check it, in words (kind, en, zh)",
                 "required": ["format", "document", "leaf", "merkle", "anchor"]}
REPORT_SCHEMA = {"type": "object", "properties": {
    "ok": {"type": "boolean"}, "chain_scope": SCOPE_SCHEMA,
    "untrusted_contract": {"type": ["string", "null"],
                           "description": "the bundle's contract, when it is not trusted"},
    "message": {"type": "string"},
    "steps": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "label": {"type": "string"},
        "ok": {"type": ["boolean", "null"]}, "detail": {"type": "string"}}}}}}
BATCH_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "state": {"type": "string"}, "root": {"type": "string"},
    "leaf_count": {"type": "integer"}, "tx_hash": {"type": ["string", "null"]},
    "block_number": {"type": ["integer", "null"]}, "confirmations": {"type": "integer"}}}


def _batch_json(b: Batch) -> dict:
    return {"id": b.id, "state": b.state, "root": b.root, "leaf_count": b.leaf_count,
            "manifest_hash": b.manifest_hash, "chain_id": b.chain_id,
            "contract_address": b.contract_address, "tx_hash": b.tx_hash,
            "block_number": b.block_number, "block_hash": b.block_hash,
            "confirmations": b.confirmations, "fee_wei": b.fee_wei,
            "created_at": b.created_at.isoformat(timespec="seconds")}


@bp.get("/chain/scope")
@api_auth()
@doc(summary="Which chain this platform anchors on, and what an anchoring there proves",
     response=SCOPE_SCHEMA, tags=("chain",))
def scope():
    return jsonify(request_scope_json())


@bp.get("/chain/status")
@api_auth(roles=STAFF)
@doc(summary="Chain health: backend, chain id, contract, head block, queue, batch states",
     response={"type": "object", "properties": {"chain_scope": SCOPE_SCHEMA}},
     tags=("chain",))
def status():
    return jsonify(health.status(settings(), session=db()) | {"chain_scope": request_scope_json()})


@bp.get("/chain/batches")
@api_auth(roles=STAFF)
@doc(summary="The latest batches (?state=..., ?limit=1..500)",
     response={"type": "object", "properties": {
         "batches": {"type": "array", "items": BATCH_SCHEMA}, "chain_scope": SCOPE_SCHEMA}},
     tags=("chain",))
def batches():
    limit = min(max(request.args.get("limit", 50, type=int), 1), 500)
    query = select(Batch).order_by(Batch.id.desc()).limit(limit)
    state = request.args.get("state")
    if state:
        if state not in {s.value for s in BatchState}:
            raise ValidationError(f"unknown state {state!r}", field="state")
        query = query.where(Batch.state == state)
    return jsonify({"batches": [_batch_json(b) for b in db().scalars(query)],
                    "chain_scope": request_scope_json()})


def _may_see(document) -> bool:
    if user_role() in STAFF:
        return True
    firm_id = getattr(g, "api_firm_id", None)
    model = {"invoices": Invoice, "purchase_orders": PurchaseOrder}.get(document.source or "")
    if firm_id is None or model is None:
        return False
    row = db().get(model, document.source_id)
    return row is not None and firm_id in (row.seller_id, row.buyer_id)


@bp.get("/chain/documents/<path:ref>/proof")
@api_auth(roles=("admin", "auditor", "vendor", "anchor"))
@doc(summary="The proof bundle of a document (its number, or TYPE/ID such as invoice/42); "
             "firms get those of their own invoices and orders",
     response=BUNDLE_SCHEMA, headers=SCOPE_HEADERS, tags=("chain",))
def proof(ref: str):
    document = bundles.find_document(session=db(), ref=ref)
    if not _may_see(document):
        raise PermissionDenied("This document is not one of your firm's.")
    response = jsonify(bundles.make_bundle(session=db(), document=document,
                                           settings=settings()))
    response.headers.update(scope_headers())
    return response


@bp.post("/chain/verify")
@api_auth()
@doc(summary="Verify a proof bundle against the chain (optionally with the original "
             "document, base64)",
     request={"type": "object", "required": ["bundle"], "properties": {
         "bundle": BUNDLE_SCHEMA, "document_base64": {"type": "string"},
         "manifest_base64": {"type": "string"}}},
     response=REPORT_SCHEMA, tags=("chain",))
def verify_bundle():
    body = request.get_json(silent=True) or {}
    if not isinstance(body.get("bundle"), dict):
        raise ValidationError("send {\"bundle\": {...}}", field="bundle")
    bundle = verify.load_bundle(json.dumps(body["bundle"]))
    original = _base64(body, "document_base64")
    manifest = _base64(body, "manifest_base64")
    report = check_bundle(bundle, document=original, manifest=manifest)
    return jsonify(report.as_dict() | {"message": verdict_message(report),
                                        "chain_scope": request_scope_json()})


def _base64(body: dict, name: str) -> bytes | None:
    if not body.get(name):
        return None
    try:
        return base64.b64decode(body[name], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError(f"{name} is not base64", field=name) from None
