"""Conversations with the assistant, their messages, and handover tickets for the RM."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow

SENDERS = ("user", "assistant", "rm")
TICKET_STATES = ("open", "answered", "closed")


class Conversation(SQLModel, table=True):
    """One thread between a firm's user and the assistant (and the RM after a handover)."""

    __tablename__ = "assistant_conversations"
    __table_args__ = (
        CheckConstraint("status in ('open', 'handed_over', 'closed')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    channel: str = Field(default="web", max_length=16)
    status: str = Field(default="open", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One message; the assistant's carry the intent, the facts and links they came from."""

    __tablename__ = "assistant_messages"
    __table_args__ = (
        CheckConstraint("sender in ('user', 'assistant', 'rm')", name="sender"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="assistant_conversations.id", index=True)
    sender: str = Field(max_length=12)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    intent: str = Field(default="", max_length=40)
    confidence: float = 0.0
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    links: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    action: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    """A handover to the RM: open until answered, then closed by the RM."""

    __tablename__ = "assistant_tickets"
    __table_args__ = (
        CheckConstraint("status in ('open', 'answered', 'closed')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="assistant_conversations.id", index=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    reason: str = Field(max_length=40)
    status: str = Field(default="open", max_length=12, index=True)
    rm_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    first_response_at: datetime | None = None
    closed_at: datetime | None = None


ACTION_KINDS = ("apply", "repay", "withdraw_consent")
ACTION_STATES = ("proposed", "confirming", "done", "failed", "cancelled", "expired")


class Action(SQLModel, table=True):
    """An action the assistant proposed in a conversation (start an application, repay,
    withdraw consent). Nothing happens until the user confirms it; the confirmation claims
    the row (``proposed`` -> ``confirming``) with one conditional UPDATE, so a double click
    or two devices act once."""

    __tablename__ = "assistant_actions"
    __table_args__ = (
        CheckConstraint("kind in ('apply', 'repay', 'withdraw_consent')", name="kind"),
        CheckConstraint("status in ('proposed', 'confirming', 'done', 'failed', 'cancelled', "
                        "'expired')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="assistant_conversations.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="assistant_messages.id")
    firm_id: int = Field(foreign_key="firms.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=20)
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="proposed", max_length=12)
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
