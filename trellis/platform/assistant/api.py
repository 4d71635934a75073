"""``POST /api/v1/assistant/messages`` (a WeChat mini-program or app) and the thread."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_login import current_user

from trellis.assistant import actions, service
from trellis.errors import PermissionDenied, ValidationError
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import MAX_ID, doc
from trellis.platform.web import commit, db, settings

bp = Blueprint("assistant_api", __name__)

LINK = {"type": "object", "properties": {"label": {"type": "string"},
                                         "href": {"type": "string"}}}
MESSAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "sender": {"type": "string", "enum": ["user", "assistant", "rm"]},
    "text": {"type": "string"}, "intent": {"type": "string"},
    "links": {"type": "array", "items": LINK}, "action": {"type": "object"},
    "created_at": {"type": "string", "format": "date-time"}}}
ASK = {"type": "object", "required": ["text"], "additionalProperties": False, "properties": {
    "text": {"type": "string", "minLength": 1, "maxLength": service.MAX_TEXT,
             "pattern": "\\S"},
    "conversation_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID},
    "lang": {"type": "string", "enum": ["zh", "en"]}}}
REPLY = {"type": "object", "properties": {
    "conversation_id": {"type": "integer"}, "handover": {"type": "boolean"},
    "ticket_id": {"type": ["integer", "null"]}, "reply": MESSAGE}}
THREAD = {"type": "object", "properties": {
    "conversation_id": {"type": "integer"}, "status": {"type": "string"},
    "messages": {"type": "array", "items": MESSAGE}}}


def message_json(m) -> dict:
    return {"id": m.id, "sender": m.sender, "text": m.text, "intent": m.intent,
            "links": m.links or [], "action": m.action or {},
            "created_at": m.created_at.isoformat()}


def _firm_id() -> int:
    firm_id = g.get("api_firm_id")
    if not firm_id:
        raise PermissionDenied("The assistant answers for a vendor's or anchor's own firm.")
    return firm_id


@bp.post("/assistant/messages")
@doc(summary="Ask the AI customer manager; answers come from the firm's own records, or "
             "the question is handed to the RM", request=ASK, response=REPLY,
     tags=("assistant",))
@api_auth(roles=("vendor", "anchor"))
def ask():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object with 'text'.", field="text")
    unknown = set(body) - set(ASK["properties"])
    if unknown:
        raise ValidationError(f"Unknown field {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    conv_id = body.get("conversation_id")
    if isinstance(conv_id, float) and conv_id.is_integer():  # JSON 12.0 is an integer
        conv_id = int(conv_id)
    if conv_id is not None and (not isinstance(conv_id, int) or isinstance(conv_id, bool)
                                or not 1 <= conv_id <= MAX_ID):
        raise ValidationError("conversation_id must be a positive integer.",
                              field="conversation_id")
    # without "lang", the answer is in the question's language (an app with no locale)
    text, lang = body.get("text"), body.get("lang")
    if not isinstance(text, str):
        raise ValidationError("text must be a string.", field="text")
    if lang is not None and lang not in ("zh", "en"):
        raise ValidationError("lang must be zh or en.", field="lang")
    user = current_user._get_current_object() if current_user.is_authenticated else None
    reply = service.ask(session=db(), firm_id=_firm_id(), user=user, text=text,
                        conversation_id=conv_id, lang=lang, role=g.get("api_role"),
                        channel="api", settings=settings())
    commit()
    return jsonify({"conversation_id": reply.conversation.id, "handover": reply.handover,
                    "ticket_id": reply.ticket.id if reply.ticket else None,
                    "reply": message_json(reply.message)})


DECIDED = {"type": "object", "properties": {
    "action_id": {"type": "integer"}, "status": {"type": "string"}, "reply": MESSAGE}}


@bp.post("/assistant/actions/<int:action_id>/<any(confirm, cancel):decision>")
@doc(summary="Confirm (or cancel) an action the assistant proposed (reply.action.id): only "
             "then the application is filed, the repayment recorded or the consent "
             "withdrawn, by the same service and permission as the vendor's pages",
     response=DECIDED, tags=("assistant",))
@api_auth(roles=("vendor", "anchor"))
def decide(action_id: int, decision: str):
    user = current_user._get_current_object() if current_user.is_authenticated else None
    lang = request.args.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise ValidationError("lang must be zh or en.", field="lang")
    role = getattr(user, "role", None) or g.get("api_role")
    if decision == "confirm":
        msg = actions.confirm(session=db(), firm_id=_firm_id(), action_id=action_id,
                              user=user, role=role, lang=lang)
    else:
        msg = actions.cancel(session=db(), firm_id=_firm_id(), action_id=action_id,
                             user=user, lang=lang)
    action = actions.get(session=db(), firm_id=_firm_id(), action_id=action_id)
    commit()
    return jsonify({"action_id": action.id, "status": action.status,
                    "reply": message_json(msg)})


@bp.get("/assistant/conversations/<int:conversation_id>")
@doc(summary="One of the firm's conversations with every message (the RM's answers too)",
     response=THREAD, tags=("assistant",))
@api_auth(roles=("vendor", "anchor"))
def thread(conversation_id: int):
    conv = service.conversation_for(session=db(), firm_id=_firm_id(),
                                    conversation_id=conversation_id)
    return jsonify({"conversation_id": conv.id, "status": conv.status,
                    "messages": [message_json(m) for m in service.messages(
                        session=db(), conversation_id=conv.id)]})
