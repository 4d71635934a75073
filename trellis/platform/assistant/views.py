"""The assistant's pages: the user's conversations and chat (vendor, anchor), the RM's
inbox of handover tickets with the firm's context, reply and close.

The chat works as a plain form post (no JavaScript needed); ``static/assistant/chat.js``
only makes it stay on the page. The firm is always the logged-in user's own.
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import select

from trellis.accounts import services as accounts
from trellis.assistant import actions, service
from trellis.assistant.models import Conversation, Ticket
from trellis.errors import TrellisError
from trellis.ledger.models import Loan
from trellis.platform.errors import translated
from trellis.platform.web import (
    commit,
    current_firm_id,
    db,
    firm_visible,
    roles_required,
    settings,
    visible_cluster_ids,
)
from trellis.platform.words import word
from trellis.protection import notifications
from trellis.scoring import service as scoring
from trellis.trade.models import Firm

bp = Blueprint("assistant", __name__, url_prefix="/assistant")


def lang() -> str:
    return "zh" if str(get_locale() or "zh_CN").startswith("zh") else "en"


def _safe_next(raw: str | None) -> str | None:
    """A local path to go back to after a plain form post (never another site)."""
    if not raw:
        return None
    parts = urlparse(raw)
    if parts.scheme or parts.netloc or not raw.startswith("/") or raw.startswith("//"):
        return None
    return raw


@bp.route("/", methods=["GET", "POST"])
@roles_required("vendor", "anchor")
def chat():
    firm_id = current_firm_id()
    if firm_id is None:
        abort(404)
    conv_id = request.values.get("c", type=int)
    if request.method == "POST":
        try:
            reply = service.ask(session=db(), firm_id=firm_id,
                                user=current_user._get_current_object(),
                                text=request.form.get("text", ""), conversation_id=conv_id,
                                lang=lang(), channel="web", settings=settings())
        except TrellisError as exc:
            flash(translated(exc), "error")
            return redirect(url_for("assistant.chat", c=conv_id) if conv_id
                            else url_for("assistant.chat"))
        commit()
        back = _safe_next(request.form.get("next"))
        if back:
            return redirect(back, code=303)
        return redirect(url_for("assistant.chat", c=reply.conversation.id), code=303)
    conversation = None
    if conv_id:
        try:
            conversation = service.conversation_for(session=db(), firm_id=firm_id,
                                                    conversation_id=conv_id)
        except TrellisError:
            abort(404)
    conversations = service.conversations(session=db(), firm_id=firm_id)
    if conversation is None and conversations and not request.args.get("new"):
        conversation = conversations[0]
    msgs = service.messages(session=db(), conversation_id=conversation.id) if conversation else []
    return render_template("assistant/chat.html", conversation=conversation,
                           conversations=conversations, messages=msgs,
                           title=_("AI customer manager"))


@bp.post("/actions/<int:action_id>/<any(confirm, cancel):decision>")
@roles_required("vendor", "anchor")
def decide(action_id: int, decision: str):
    """The user's confirmation (or cancellation) of an action the assistant proposed;
    only then the page's service is called (for a vendor of the firm)."""
    firm_id = current_firm_id()
    if firm_id is None:
        abort(404)
    user = current_user._get_current_object()
    try:
        action = actions.get(session=db(), firm_id=firm_id, action_id=action_id)
        if decision == "confirm":
            actions.confirm(session=db(), firm_id=firm_id, action_id=action_id, user=user,
                            lang=lang())
        else:
            actions.cancel(session=db(), firm_id=firm_id, action_id=action_id, user=user,
                           lang=lang())
    except TrellisError as exc:
        if exc.status == 404:
            abort(404)
        db().rollback()
        flash(translated(exc), "error")
        back = _safe_next(request.form.get("next"))
        return redirect(back or url_for("assistant.chat"), code=303)
    commit()
    back = _safe_next(request.form.get("next"))
    return redirect(back or url_for("assistant.chat", c=action.conversation_id), code=303)


def _ticket(ticket_id: int) -> Ticket:
    ticket = db().get(Ticket, ticket_id)
    if ticket is None or not firm_visible(ticket.firm_id):
        abort(404)
    return ticket


@bp.get("/inbox")
@roles_required("rm", "admin")
def inbox():
    show = "all" if request.args.get("show") == "all" else "active"
    tickets = service.inbox(session=db(), cluster_ids=visible_cluster_ids(), status=show)
    firms = {t.firm_id: db().get(Firm, t.firm_id) for t in tickets}

    fresh = [n for n in notifications.for_user(session=db(), user_id=current_user.id)
             if n.read_at is None and n.kind == "ticket"]
    if fresh:
        notifications.mark_read(session=db(), user_id=current_user.id)
        commit()
    return render_template("assistant/inbox.html", tickets=tickets, firms=firms, show=show,
                           fresh=fresh, zh=lang() == "zh",
                           seconds=service.response_seconds, title=_("Assistant inbox"))


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@roles_required("rm", "admin")
def ticket(ticket_id: int):
    tk = _ticket(ticket_id)
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("close"):
                service.close(session=db(), ticket=tk, rm=current_user._get_current_object())
                flash(_("Ticket closed."), "success")
            else:
                service.rm_reply(session=db(), ticket=tk, rm=current_user._get_current_object(),
                                 text=request.form.get("text", ""))
                flash(_("Answer sent."), "success")
            commit()
            return redirect(url_for("assistant.ticket", ticket_id=tk.id), code=303)
        except TrellisError as exc:
            flash(translated(exc), "error")
            status = 422
    conv = db().get(Conversation, tk.conversation_id)
    firm = db().get(Firm, tk.firm_id)
    return render_template("assistant/ticket.html", ticket=tk, conversation=conv, firm=firm,
                           context=_firm_context(firm), messages=service.messages(
                               session=db(), conversation_id=conv.id),
                           seconds=service.response_seconds(tk),
                           title=_("Ticket %(id)s", id=tk.id)), status


def _firm_context(firm: Firm) -> dict:
    """What the RM needs beside the thread: consents, live loans, latest score."""
    loans = list(db().exec(select(Loan).where(Loan.firm_id == firm.id, Loan.status.in_(
        ["pending", "active", "overdue"])).order_by(Loan.due_date)))
    return {"consents": {p: accounts.has_consent(session=db(), firm_id=firm.id, purpose=p)
                         for p in accounts.CONSENT_PURPOSES},
            "loans": loans, "score": scoring.latest(session=db(), firm_id=firm.id)}


def reason_label(reason: str) -> str:
    """Why a conversation was handed to a person, in words."""
    return word("handover_reason", reason)


def ticket_status(status: str) -> str:
    return str({"open": _l("Waiting for an answer"), "answered": _l("Answered"),
                "closed": _l("Closed")}.get(status, status))


def action_state(state: str) -> str:
    return str({"proposed": _l("Waiting for your confirmation"), "confirming": _l("In progress"),
                "done": _l("Done"), "failed": _l("Not done"), "cancelled": _l("Cancelled"),
                "expired": _l("Expired")}.get(state, state))


bp.add_app_template_global(action_state, "action_state")
bp.add_app_template_global(reason_label, "reason_label")
bp.add_app_template_global(ticket_status, "ticket_status")
