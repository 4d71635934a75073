"""Conversations: a user's message in, the assistant's answer (or a handover) out, both
stored; the RM's inbox, reply and close. Every step is audited.

The firm is always the caller's own (from the session or the API token); a conversation
or ticket id of another firm is :class:`NotFound`, never shown. Handover time is the
ticket's ``created_at``; response time is ``first_response_at - created_at``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from trellis import clock, tasks
from trellis.accounts import services as accounts
from trellis.accounts.models import User
from trellis.assistant import actions, answers, intents, llm, model, slots, topics
from trellis.assistant.grounding import ungrounded
from trellis.assistant.models import Conversation, Message, Ticket
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.errors import Conflict, NotFound, TrellisError, ValidationError
from trellis.messages import N_, msg
from trellis.messages import Message as Text
from trellis.notifications.events import notify_staff
from trellis.notifications.models import Kind
from trellis.trade.models import ClusterManager, Firm

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Reply:
    conversation: Conversation
    message: Message
    ticket: Ticket | None
    intent: str
    handover: bool
    latency_ms: float = 0.0
    slots: dict = field(default_factory=dict)


def language(text: str, default: str = "zh") -> str:
    """``zh`` when the text has Chinese characters, ``en`` when it is Latin-only."""
    if _CJK.search(text or ""):
        return "zh"
    return "en" if re.search(r"[A-Za-z]", text or "") else default


def clean(text) -> str:
    """The question *text* trimmed; raises ValidationError when it is empty, holds NUL or is longer
    than MAX_TEXT characters."""
    text = str(text or "").strip()
    if not text:
        raise ValidationError(N_("Write a question."), field="text")
    if "\x00" in text:
        raise ValidationError(N_("The text holds a NUL character."), field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(msg(N_("Write at most %(count)s characters."),
                                  count=MAX_TEXT), field="text")
    return text


def conversation_for(*, session: Session, firm_id: int, conversation_id: int) -> Conversation:
    """Conversation *conversation_id* of firm *firm_id*; raises NotFound for another firm's or a
    missing one."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.firm_id != firm_id:
        raise NotFound(msg(N_("No conversation %(conversation_id)s."),
                           conversation_id=conversation_id))
    return conv


def open_ticket(session: Session, conversation_id: int) -> Ticket | None:
    """The conversation's ticket that is not closed, or None."""
    return session.exec(select(Ticket).where(Ticket.conversation_id == conversation_id,
                                             Ticket.status != "closed")).first()


def ask(*, session: Session, firm_id: int, user=None, text: str,
        conversation_id: int | None = None, lang: str | None = None, channel: str = "web",
        settings=None, today: date | None = None, role: str | None = None) -> Reply:
    """Store the user's *text*, answer it or hand it over; flush (the caller commits).

    *lang* (``zh`` or ``en``) is the reader's page language and the answer's; None: the
    question's own language (:func:`language`).

    *role* is the asker's (``vendor`` or ``anchor``; taken from *user* when given, else
    from the API token): an anchor clerk gets the anchor's answers and links, and only a
    vendor is offered actions (start an application, repay, withdraw consent), which are
    stored as proposals and done only on :func:`trellis.assistant.actions.confirm`."""
    started = time.perf_counter()
    text = clean(text)
    if conversation_id:
        conv = conversation_for(session=session, firm_id=firm_id,
                                conversation_id=conversation_id)
        if conv.status == "closed":
            conv.status = "open"
    else:
        conv = Conversation(firm_id=firm_id, user_id=getattr(user, "id", None),
                            channel=channel[:16])
        session.add(conv)
        session.flush()
    # the reader's page language (the session's locale) when the caller knows it: an
    # English line typed into the Chinese pages is answered in Chinese (reader 11, F5);
    # otherwise the question's own language
    lang = lang if lang in ("zh", "en") else language(text)
    session.add(Message(conversation_id=id_of(conv), sender="user", user_id=getattr(user, "id",
                                                                                    None),
                        text=text))
    role = getattr(user, "role", None) or role
    # the recogniser saved in the instance (loaded once per process; fitted only if absent)
    found = intents.recognise(text, role or "vendor", directory=model.folder(
        settings.instance_path) if settings is not None else None)

    filled = slots.extract(text, today=today)
    found = topics.refine(found, text, filled, role or "vendor")
    ctx = answers.Ctx(session=session, firm_id=firm_id, user_id=getattr(user, "id", None),
                      birth_year=getattr(user, "birth_year", None), lang=lang,
                      today=today or clock.today(), role=role or "vendor", slots=filled)
    intent, handover, reason = found.intent, found.handover, found.reason
    answer = None
    proposal = None
    if not handover:
        try:
            with session.begin_nested():
                answer = answers.compose(intent, ctx)
                if intent in actions.KINDS and ctx.role == "vendor":
                    text_, facts_, proposal = actions.propose(
                        intent, session=session, firm_id=firm_id, role=role, lang=lang,
                        today=ctx.today, text=text, amount_fen=filled.get("amount_fen"))
                    if text_:
                        answer.text, answer.facts = text_, {**answer.facts, **facts_}
                    if proposal is not None:
                        answer.action = {"kind": intent, "href": answer.action.get("href", ""),
                                         "state": "proposed"}
                    else:
                        answer.action = {}
        except TrellisError as exc:
            logger.info("assistant could not answer %s for firm %s: %s", intent, firm_id, exc)
            handover, reason = True, "service_error"
        if answer is not None and ungrounded(answer.text, answer.facts):
            logger.error("ungrounded template answer for %s; handed over", intent)
            answer, handover, reason = None, True, "ungrounded"
    t = answers.T["zh" if lang == "zh" else "en"]
    if handover:
        parts = []
        if intent == "fraud_call":
            try:
                answer = answers.fraud_warnings(ctx)
                parts.append(answer.text)
            except TrellisError:  # pragma: no cover - warnings are plain reads
                answer = None
        parts.append(t["unsure"] if reason in ("low_confidence", "service_error", "ungrounded")
                     else t["handover"])
        facts = answer.facts if answer else {}
        links = answer.links if answer else []
        # Chinese sentences are not separated by a space
        reply_text, action = ("" if lang == "zh" else " ").join(parts), {}
    else:
        reply_text, facts, links, action = answer.text, answer.facts, answer.links, answer.action
        if settings is not None and getattr(settings, "assistant_url", ""):
            out = llm.rephrase(url=settings.assistant_url, model=settings.assistant_model,
                               key=settings.assistant_key, question=text, answer=reply_text,
                               facts=facts, timeout=settings.assistant_timeout_seconds)
            reply_text = out.text
    if ctx.needs_score:
        _queue_scoring(session, firm_id)
    message = Message(conversation_id=id_of(conv), sender="assistant", text=reply_text,
                      intent=intent, confidence=round(found.confidence, 4), facts=facts,
                      links=links, action=action)
    session.add(message)
    if proposal is not None and not handover:
        session.flush()
        act = actions.record_proposal(session=session, conversation=conv, message=message,
                                      kind=intent, params=proposal,
                                      user_id=getattr(user, "id", None))
        message.action = {**message.action, "id": act.id}
    ticket = None
    if handover:
        ticket = open_ticket(session, conv.id)
        if ticket is None:
            ticket = Ticket(conversation_id=id_of(conv), firm_id=firm_id, reason=reason[:40])
            session.add(ticket)
            session.flush()
            _notify_rms(session, ticket, text)
        conv.status = "handed_over"
    conv.updated_at = utcnow()
    session.flush()
    accounts.record(session=session, action="assistant.ask", actor=user,
                    record_type="assistant_conversation", record_id=conv.id,
                    detail={"intent": intent, "handover": handover, "reason": reason,
                            "message_id": message.id,
                            "ticket_id": ticket.id if ticket else None})
    return Reply(conv, message, ticket, intent, handover,
                 (time.perf_counter() - started) * 1000, filled)


REASONS = {"human": N_("asked for a person"), "complaint": N_("a complaint"),
           "fraud_call": N_("fraud"), "bank_account": N_("a bank account change"),
           "limit_change": N_("a limit change request"),
           "other_firm": N_("a question about another firm"),
           "low_confidence": N_("not answered with confidence"),
           "service_error": N_("the records could not be read"),
           "ungrounded": N_("the answer failed the figure check")}


def rm_ids(session: Session, firm_id: int) -> list[int]:
    """The RMs who look after *firm_id*: its cluster's managers, or every active RM when
    the cluster has none assigned."""
    firm = session.get(Firm, firm_id)
    if firm is not None and firm.cluster_id is not None:
        ids = list(session.exec(select(ClusterManager.user_id).join(
            User, User.id == ClusterManager.user_id).where(
            ClusterManager.cluster_id == firm.cluster_id, User.is_active.is_(True),
            User.role == "rm")))
        if ids:
            return ids
    return list(session.exec(select(User.id).where(User.role == "rm",
                                                   User.is_active.is_(True))))


def _notify_rms(session: Session, ticket: Ticket, question: str) -> None:
    """Tell the firm's RMs of a new ticket (in-app and the outbox, in each RM's language)."""
    firm = session.get(Firm, ticket.firm_id)
    message = msg(N_("Ticket %(id)s: %(firm)s handed a question to you (%(reason)s): "
                     "\"%(question)s\". Answer it in the assistant inbox."),
                  id=ticket.id, firm=firm.name if firm else str(ticket.firm_id),
                  reason=Text(REASONS.get(ticket.reason, ticket.reason), {}),
                  question=question[:120])
    notify_staff(session, user_ids=rm_ids(session, ticket.firm_id), firm_id=ticket.firm_id,
                 kind=Kind.TICKET, key=f"assistant-ticket:{ticket.id}", message=message,
                 link=f"/assistant/tickets/{ticket.id}")


def _queue_scoring(session: Session, firm_id: int) -> None:
    """Queue the firm's scoring (a task: it takes seconds); without a queue in this
    process (a script), the answer alone stands."""
    try:
        tasks.enqueue("assistant_score", session=session, firm_id=firm_id)
    except tasks.NoQueue:
        logger.info("no task queue: firm %s not queued for scoring", firm_id)


def conversations(*, session: Session, firm_id: int, limit: int = 50) -> list[Conversation]:
    """The firm's conversations, most recently updated first, at most *limit*."""
    return list(session.exec(select(Conversation).where(Conversation.firm_id == firm_id)
                             .order_by(col(Conversation.updated_at).desc(),
                                       col(Conversation.id).desc())
                             .limit(limit)))


def messages(*, session: Session, conversation_id: int) -> list[Message]:
    """The conversation's messages in the order they were written."""
    return list(session.exec(select(Message).where(Message.conversation_id == conversation_id)
                             .order_by(col(Message.id))))


def inbox(*, session: Session, cluster_ids: list[int] | None = None,
          status: str = "active") -> list[Ticket]:
    """Tickets for the RM: of the firms in *cluster_ids*; None means every firm (an admin
    or an RM without cluster restriction)."""
    query = select(Ticket)
    if status == "active":
        query = query.where(Ticket.status != "closed")
    if cluster_ids is not None:
        # the clusters' firms by subquery: a 10,000-firm cluster's ids sent as parameters
        # cost most of the page
        firms = select(col(Firm.id)).where(col(Firm.cluster_id).in_(cluster_ids or [-1]))
        query = query.where(col(Ticket.firm_id).in_(firms))
    return list(session.exec(query.order_by(col(Ticket.created_at), col(Ticket.id))))


def rm_reply(*, session: Session, ticket: Ticket, rm, text: str) -> Message:
    """The RM's answer in the ticket's thread; the first one sets the response time."""
    text = clean(text)
    if ticket.status == "closed":
        raise Conflict(N_("This ticket is closed."))
    message = Message(conversation_id=ticket.conversation_id, sender="rm", user_id=rm.id,
                      text=text)
    session.add(message)
    now = utcnow()
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.status, ticket.rm_id = "answered", rm.id
    conv = session.get_one(Conversation, ticket.conversation_id)
    conv.updated_at = now
    session.flush()
    accounts.record(session=session, action="assistant.rm_reply", actor=rm,
                    record_type="assistant_ticket", record_id=ticket.id,
                    detail={"message_id": message.id})
    return message


def close(*, session: Session, ticket: Ticket, rm) -> Ticket:
    """Close *ticket* (and its conversation) by relationship manager *rm*; raises Conflict when it
    is closed already. Flushes."""
    if ticket.status == "closed":
        raise Conflict(N_("This ticket is already closed."))
    ticket.status, ticket.closed_at, ticket.rm_id = "closed", utcnow(), ticket.rm_id or rm.id
    conv = session.get_one(Conversation, ticket.conversation_id)
    conv.status = "closed"
    session.flush()
    accounts.record(session=session, action="assistant.close", actor=rm,
                    record_type="assistant_ticket", record_id=ticket.id,
                    detail={"response_seconds": response_seconds(ticket)})
    return ticket


def response_seconds(ticket: Ticket) -> float | None:
    """Seconds from the ticket's opening to the first answer of a person, or
    None while unanswered."""
    if ticket.first_response_at is None:
        return None
    return (ticket.first_response_at - ticket.created_at).total_seconds()
