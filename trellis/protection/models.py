"""Tables of the protection area.

- :class:`FraudWarning`: a short warning in Chinese and English, kept as data so the
  risk team edits it without a release; chosen by the *moment* (registration, offer,
  repayment, bank-account change), the user's age band and whether the firm is new.
- :class:`ProtectionPolicy`: one row: the bank-change delay, the age bands, what counts
  as a new firm, and the platform's settlement account (the only account vendors repay to).
- :class:`BankAccountChange`: a request to change a firm's payout account; it takes
  effect only after the delay, unless cancelled.
- :class:`PayoutAccount`: the account a firm declared for its loans' pay-outs (bank,
  number, holder = the firm's registered name) and who consented to it, when; the one
  without ``replaced_at`` is in force. A loan is paid out only to it.
- :class:`SettlementAccountChange`: a proposed change of the platform's settlement
  account, applied only when a second administrator approves it (maker-checker).
- :class:`Notification`: an in-app message to one user (e.g. "your firm's bank account
  will change on ...").
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String, Text, text
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow


class Moment(enum.StrEnum):
    REGISTRATION = "registration"
    OFFER = "offer"
    REPAYMENT = "repayment"
    BANK_CHANGE = "bank_change"


class AgeBand(enum.StrEnum):
    ANY = "any"
    YOUNG = "young"
    MIDDLE = "middle"
    SENIOR = "senior"


class FirmAge(enum.StrEnum):
    ANY = "any"
    NEW = "new"
    ESTABLISHED = "established"


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    CANCELLED = "cancelled"


class FraudWarning(SQLModel, table=True):
    __tablename__ = "fraud_warnings"
    __table_args__ = (
        CheckConstraint("moment in ('registration', 'offer', 'repayment', 'bank_change')",
                        name="moment"),
        CheckConstraint("age_band in ('any', 'young', 'middle', 'senior')", name="age_band"),
        CheckConstraint("firm_age in ('any', 'new', 'established')", name="firm_age"),
        Index("ix_fraud_warnings_moment", "moment", "active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    moment: str = Field(max_length=16)
    age_band: str = Field(default=AgeBand.ANY, max_length=8)
    firm_age: str = Field(default=FirmAge.ANY, max_length=12)
    title_en: str = Field(max_length=120)
    title_zh: str = Field(max_length=60)
    body_en: str = Field(sa_column=Column(Text, nullable=False))
    body_zh: str = Field(sa_column=Column(Text, nullable=False))
    sort: int = 100
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")


class ProtectionPolicy(SQLModel, table=True):
    """The protection rules (a single row, id 1)."""

    __tablename__ = "protection_policy"
    __table_args__ = (
        CheckConstraint("bank_change_delay_hours between 1 and 720", name="delay"),
        CheckConstraint("young_below_age between 18 and 60 and senior_from_age between "
                        "young_below_age and 100", name="ages"),
        CheckConstraint("new_firm_months between 1 and 120", name="new_firm"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_change_delay_hours: int = 24
    young_below_age: int = 35
    senior_from_age: int = 60
    new_firm_months: int = 24
    settlement_account: str = Field(default="", max_length=40)
    settlement_account_name: str = Field(default="", max_length=120)
    settlement_bank: str = Field(default="", max_length=120)
    # who proposed and who approved the settlement account in force (maker-checker)
    settlement_change_id: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")


class BankAccountChange(SQLModel, table=True):
    __tablename__ = "bank_account_changes"
    __table_args__ = (
        CheckConstraint("status in ('pending', 'applied', 'cancelled')", name="status"),
        CheckConstraint("effective_at > requested_at", name="delayed"),
        Index("ix_bank_account_changes_status_at", "status", "effective_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    requested_by_id: int = Field(foreign_key="users.id")
    old_account: str | None = Field(default=None, max_length=40)
    new_account: str = Field(max_length=40)
    account_name: str = Field(default="", max_length=120)
    bank_name: str = Field(default="", max_length=120)
    status: str = Field(default=ChangeStatus.PENDING, max_length=10)
    requested_at: datetime = Field(default_factory=utcnow)
    effective_at: datetime
    applied_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by_id: int | None = Field(default=None, foreign_key="users.id")
    # the requester consented to pay-outs into the new account (payout12): when applied, it
    # becomes the firm's consented payout account
    consented: bool = False


class PayoutAccount(SQLModel, table=True):
    """A firm's declared payout account and the consent to pay its loans into it."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        CheckConstraint("source in ('vendor', 'seed')", name="source"),
        # one account in force per firm
        Index("uq_payout_accounts_current", "firm_id", unique=True,
              postgresql_where=text("replaced_at IS NULL"),
              sqlite_where=text("replaced_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    bank_name: str = Field(max_length=120)
    account_number: str = Field(max_length=40)
    holder_name: str = Field(max_length=200)
    # "vendor": declared and consented by a user of the firm; "seed": the demo's data
    source: str = Field(default="vendor", max_length=8)
    consented_by_id: int | None = Field(default=None, foreign_key="users.id")
    consented_at: datetime = Field(default_factory=utcnow)
    change_id: int | None = Field(default=None, foreign_key="bank_account_changes.id")
    replaced_at: datetime | None = None


class SettlementStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class SettlementAccountChange(SQLModel, table=True):
    """A proposed settlement account; applied only on a second administrator's approval."""

    __tablename__ = "settlement_account_changes"
    __table_args__ = (
        CheckConstraint("status in ('proposed', 'approved', 'rejected')", name="status"),
        CheckConstraint("decided_by_id is null or decided_by_id <> proposed_by_id",
                        name="four_eyes"),
        # one proposal waits at a time, also when two are made at the same moment
        Index("uq_settlement_account_changes_waiting", "status", unique=True,
              postgresql_where=text("status = 'proposed'"),
              sqlite_where=text("status = 'proposed'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=40)
    account_name: str = Field(max_length=120)
    bank_name: str = Field(max_length=120)
    status: str = Field(default=SettlementStatus.PROPOSED, max_length=10)
    proposed_by_id: int = Field(foreign_key="users.id")
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    firm_id: int | None = Field(default=None, foreign_key="firms.id")
    kind: str = Field(max_length=32)
    message_en: str = Field(max_length=500)
    message_zh: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    # the page the message is about (a path, "" for none): opening it marks it read
    link: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
