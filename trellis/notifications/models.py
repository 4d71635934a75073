"""Tables of the notifications area: in-app messages and the outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from trellis.accounts.models import utcnow


class Kind(enum.StrEnum):
    DECISION = "decision"
    OFFER = "offer"
    PAYOUT = "payout"
    CANCELLED = "cancelled"    # a loan not paid out after all (refused at pay-out)
    DUE_SOON = "due_soon"
    COOLING_OFF_END = "cooling_off_end"
    OVERDUE = "overdue"
    WARNING = "warning"
    TICKET = "ticket"          # to the RMs: a conversation was handed over to them
    PASSWORD_RESET = "password_reset"   # to one person, any role; the link is one-time
    VOUCHER = "voucher"        # a voucher part received from, or passed to, another firm
    TRADE = "trade"            # a buyer confirmed (确权) or rejected one of the firm's documents
    GRADE = "grade"            # the firm's risk grade changed (why, and what it does to the price)


#: Kinds whose text holds a secret (a one-time link): once delivered (or given up), the
#: stored text is replaced by :data:`REDACTED`, so the outbox does not keep the link.
SECRET_KINDS = (Kind.PASSWORD_RESET.value,)


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class NotificationEvent(SQLModel, table=True):
    """One event a firm (or one person: ``events.tell_user``) is told of; ``key`` names
    it, so it is written once. Each of the
    firm's users gets an in-app message (``trellis.protection.models.Notification``,
    the vendor's Messages page) and the outbox one delivery per channel and address."""

    __tablename__ = "notification_events"
    __table_args__ = (UniqueConstraint("key"),
                      Index("ix_notification_events_firm_created", "firm_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    # None: a message to one person, not to a firm (a password reset of a staff member)
    firm_id: int | None = Field(default=None, foreign_key="firms.id")
    kind: str = Field(max_length=24)
    key: str = Field(max_length=120)
    # a stored trellis.messages.Message: {"t": template, "p": params}
    message: dict = Field(sa_column=Column(JSON, nullable=False))
    link: str = Field(default="", max_length=200)   # a path inside the site, or ""
    created_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """One delivery of a notification on one channel to one address."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint("state in ('queued', 'sent', 'failed')", name="state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        UniqueConstraint("event_id", "channel", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="notification_events.id", index=True)
    channel: str = Field(max_length=16)          # "email" or "sms"
    address: str = Field(max_length=254)
    locale: str = Field(default="zh_CN", max_length=8)
    state: str = Field(default=DeliveryState.QUEUED, max_length=12, index=True)
    attempts: int = 0
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
