"""Tables of the ledger area.

Journal (append-only): ``ledger_accounts`` (the chart, per currency), ``ledger_heads``
(the latest sequence number and hash of each shard's chain: the row a posting to that
shard locks), ``journal_entries`` and ``journal_postings``. On PostgreSQL triggers created by
migration ``0005_ledger`` refuse UPDATE, DELETE and TRUNCATE of entries and postings and
check, at commit, that every entry balances; on SQLite triggers refuse UPDATE and DELETE.

Lending: ``loan_products`` (products as data), ``loan_applications`` with their
``loan_decisions`` (an append-only log: who approved or declined, why), ``loan_offers``,
``credit_lines`` (revolving lines), ``loans`` with ``loan_documents`` (the invoices and
orders behind a loan), ``loan_fragments`` (the voucher parts behind a loan) and
``loan_repayments`` (every payment received, as a fact: amount,
value date, source; how it was allocated follows from a replay of the loan and is booked in
the journal).

Money is integer fen in BIGINT columns with CHECK constraints; rates are integers in
millionths (``rate_micro`` 65_000 = 6.5 % a year) so that SQL can accrue exactly, with the
Decimal rate kept alongside on offers for display.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow


def _fen(nullable: bool = False, default: int | None = 0) -> Column[int]:
    return Column(BigInteger, nullable=nullable, default=default)


# --- journal --------------------------------------------------------------------------

class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("code", "currency"),
        CheckConstraint("kind in ('asset', 'liability', 'income', 'expense')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8)
    currency: str = Field(default="CNY", max_length=3)
    name: str = Field(max_length=80)
    name_zh: str = Field(max_length=40)
    kind: str = Field(max_length=10)


class LedgerHead(SQLModel, table=True):
    """The end of one shard's hash chain (locked by every posting to that shard). A
    currency has as many shards as head rows (migration ``0018l_ledger_shards``)."""

    __tablename__ = "ledger_heads"
    __table_args__ = (CheckConstraint("seq >= 0", name="seq_nonneg"),
                      CheckConstraint("shard >= 0", name="shard_nonneg"))

    currency: str = Field(max_length=3, primary_key=True)
    shard: int = Field(default=0, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("currency", "shard", "seq"),
        CheckConstraint("seq > 0", name="seq_pos"),
        CheckConstraint("shard >= 0", name="shard_nonneg"),
        CheckConstraint("length(hash) = 64 and length(prev_hash) = 64", name="hash_len"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(default="CNY", max_length=3)
    shard: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                   server_default=text("0")))
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    kind: str = Field(max_length=16, index=True)
    value_date: date = Field(index=True)
    loan_id: int | None = Field(default=None, foreign_key="loans.id", index=True)
    reverses_id: int | None = Field(default=None, foreign_key="journal_entries.id")
    memo: str = Field(default="", max_length=300)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    posted_at: datetime = Field(default_factory=utcnow)
    posted_by_id: int | None = Field(default=None, foreign_key="users.id")


class JournalPosting(SQLModel, table=True):
    __tablename__ = "journal_postings"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        # per-loan reads (replays, statements, the check); account totals scan the table
        Index("ix_journal_postings_loan_account", "loan_id", "account_id", "value_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entries.id", index=True)
    account_id: int = Field(foreign_key="ledger_accounts.id")
    loan_id: int | None = Field(default=None, foreign_key="loans.id")
    value_date: date
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


# --- products -------------------------------------------------------------------------

class ProductKind(enum.StrEnum):
    RECEIVABLE = "receivable"   # 应收账款融资: against confirmed invoices
    ORDER = "order"             # 订单融资: against confirmed purchase orders
    REVOLVING = "revolving"     # working-capital line: limit, draws, repayments


class Product(SQLModel, table=True):
    """A lending product; every business figure is data here, seeded by the migration."""

    __tablename__ = "loan_products"
    __table_args__ = (
        CheckConstraint("kind in ('receivable', 'order', 'revolving')", name="kind"),
        CheckConstraint("advance_rate_bps between 0 and 10000", name="advance_rate"),
        CheckConstraint("day_count in (360, 365)", name="day_count"),
        CheckConstraint("grace_days >= 0 and cooling_off_days >= 0 and tenor_days > 0",
                        name="days_nonneg"),
        CheckConstraint("fee_bps >= 0 and penalty_rate_bps >= 0 and confirmed_discount_bps >= 0",
                        name="bps_nonneg"),
        CheckConstraint("min_amount_fen > 0 and max_amount_fen >= min_amount_fen",
                        name="amount_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(24), nullable=False, unique=True))
    name: str = Field(max_length=80)
    name_zh: str = Field(max_length=40)
    kind: str = Field(max_length=12)
    currency: str = Field(default="CNY", max_length=3)
    advance_rate_bps: int = 8000
    spreads_bps: dict[str, int] = Field(default_factory=dict,
                                        sa_column=Column(JSON, nullable=False))
    confirmed_discount_bps: int = 0
    fee_bps: int = 0
    fee_min_fen: int = Field(default=0, sa_column=_fen())
    grace_days: int = 0
    penalty_rate_bps: int = 0       # extra annual rate on principal past its due date
    day_count: int = 360
    cooling_off_days: int = 7
    waterfall: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tenor_days: int = 90            # order and revolving draws; receivables: invoice due
    min_amount_fen: int = Field(default=100_000, sa_column=_fen())
    max_amount_fen: int = Field(default=500_000_000, sa_column=_fen())
    auto_approve_grades: list[str] = Field(default_factory=list,
                                           sa_column=Column(JSON, nullable=False))
    auto_approve_max_fen: int = Field(default=0, sa_column=_fen())
    second_approval_above_fen: int = Field(default=0, sa_column=_fen())
    offer_valid_days: int = 7
    line_days: int = 365            # revolving: how long a line stays open
    provision_bps: dict[str, int] = Field(default_factory=dict,
                                          sa_column=Column(JSON, nullable=False))
    active: bool = True


# --- applications, decisions, offers --------------------------------------------------

class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    REVIEW = "review"                   # waits for an RM
    SECOND_APPROVAL = "second_approval" # approved once; a second, different RM must approve
    APPROVED = "approved"               # an offer is open
    DECLINED = "declined"
    ACCEPTED = "accepted"               # the vendor signed: a loan or a line exists
    EXPIRED = "expired"


class Application(SQLModel, table=True):
    __tablename__ = "loan_applications"
    __table_args__ = (
        CheckConstraint("requested_fen > 0", name="requested_pos"),
        CheckConstraint("eligible_fen >= 0", name="eligible_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    product_id: int = Field(foreign_key="loan_products.id")
    status: str = Field(default=ApplicationStatus.SUBMITTED, max_length=16, index=True)
    requested_fen: int = Field(sa_column=_fen(default=None))
    eligible_fen: int = Field(default=0, sa_column=_fen())
    limit_fen: int | None = Field(default=None, sa_column=_fen(nullable=True, default=None))
    invoice_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    order_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # voucher parts (``voucher_fragments.id``) pledged for receivable financing
    fragment_ids: list[int] = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default=text("'[]'")))
    anchor_confirmed: bool = True
    as_of: date
    applied_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    # scoring snapshot
    score: int | None = None
    grade: str | None = Field(default=None, max_length=2)
    pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(9, 6)))
    insufficient: bool = False
    flags: list[dict[str, Any]] = Field(default_factory=list,
                                        sa_column=Column(JSON, nullable=False))
    reasons: list[dict[str, Any]] = Field(default_factory=list,
                                          sa_column=Column(JSON, nullable=False))
    scorecard_version: str = Field(default="", max_length=40)
    # review and decline reasons: a message's JSON (a dict) or an RM's own words (a str)
    review_reasons: list[Any] = Field(default_factory=list,
                                      sa_column=Column(JSON, nullable=False))
    decline_reasons: list[Any] = Field(default_factory=list,
                                       sa_column=Column(JSON, nullable=False))
    decided_at: datetime | None = None
    # what the firm owed and was promised when this was decided, without this application
    # (origination.exposure_fen); None: not decided yet, or decided before it was kept
    exposure_fen: int | None = Field(default=None, sa_column=_fen(nullable=True, default=None))


class Decision(SQLModel, table=True):
    """One step of deciding an application (append-only). ``user_id`` None: automatic."""

    __tablename__ = "loan_decisions"
    __table_args__ = (
        CheckConstraint("action in ('auto_approve', 'auto_decline', 'refer', 'approve', "
                        "'decline')", name="action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="loan_applications.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=16)
    reasons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decided_at: datetime = Field(default_factory=utcnow)


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    # void before its validity ended: it promised a first loan's cooling-off and another
    # loan of the firm has been paid out since (trellis.ledger.expiry.void_first_loan_offers)
    SUPERSEDED = "superseded"


class Offer(SQLModel, table=True):
    """What the vendor sees before signing: amount, rate, annualised rate (IRR), cost."""

    __tablename__ = "loan_offers"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("fee_fen >= 0 and interest_fen >= 0 and total_cost_fen >= 0",
                        name="cost_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="loan_applications.id", index=True)
    status: str = Field(default=OfferStatus.OPEN, max_length=12)
    amount_fen: int = Field(sa_column=_fen(default=None))
    rate: Decimal = Field(sa_column=Column(Numeric(10, 6), nullable=False))
    rate_micro: int
    penalty_rate_micro: int = 0
    apr: Decimal = Field(sa_column=Column(Numeric(12, 8), nullable=False))
    cap: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 6)))
    fee_fen: int = Field(default=0, sa_column=_fen())
    interest_fen: int = Field(default=0, sa_column=_fen())
    total_cost_fen: int = Field(default=0, sa_column=_fen())
    start_date: date
    due_date: date
    tenor_days: int = 0
    schedule: list[dict[str, Any]] = Field(default_factory=list,
                                           sa_column=Column(JSON, nullable=False))
    cooling_off_days: int = 0
    first_loan: bool = False
    expires_on: date
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    accepted_by_id: int | None = Field(default=None, foreign_key="users.id")


class CreditLine(SQLModel, table=True):
    """A revolving working-capital line; each draw is a loan."""

    __tablename__ = "credit_lines"
    __table_args__ = (CheckConstraint("limit_fen > 0", name="limit_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    product_id: int = Field(foreign_key="loan_products.id")
    offer_id: int = Field(foreign_key="loan_offers.id")
    limit_fen: int = Field(sa_column=_fen(default=None))
    rate_micro: int
    status: str = Field(default="open", max_length=12)
    opened_on: date
    expires_on: date


# --- loans ----------------------------------------------------------------------------

class LoanStatus(enum.StrEnum):
    PENDING = "pending"         # accepted, waiting for the chain registry and pay-out
    ACTIVE = "active"
    OVERDUE = "overdue"
    REPAID = "repaid"
    COOLED_OFF = "cooled_off"   # repaid within the cooling-off window: interest, fees waived
    WRITTEN_OFF = "written_off"
    CANCELLED = "cancelled"


LIVE_STATUSES = (LoanStatus.ACTIVE, LoanStatus.OVERDUE)


class Loan(SQLModel, table=True):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("principal_fen >= 0 and interest_fen >= 0 and fees_fen >= 0 "
                        "and penalty_fen >= 0 and allowance_fen >= 0", name="balances_nonneg"),
        CheckConstraint("principal_fen <= amount_fen", name="principal_le_amount"),
        CheckConstraint("rate_micro >= 0 and penalty_rate_micro >= 0", name="rates_nonneg"),
        CheckConstraint("day_count in (360, 365)", name="day_count"),
        CheckConstraint("status in ('pending', 'active', 'overdue', 'repaid', 'cooled_off', "
                        "'written_off', 'cancelled')", name="status"),
        Index("ix_loans_status_accrued", "status", "accrued_until"),
        # one first loan per firm, even when two offers are accepted at once (0011b)
        Index("uq_loans_first_loan", "firm_id", unique=True,
              postgresql_where=text("first_loan AND status <> 'cancelled'"),
              sqlite_where=text("first_loan AND status <> 'cancelled'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    product_id: int = Field(foreign_key="loan_products.id")
    application_id: int | None = Field(default=None, foreign_key="loan_applications.id")
    offer_id: int | None = Field(default=None, foreign_key="loan_offers.id")
    line_id: int | None = Field(default=None, foreign_key="credit_lines.id", index=True)
    currency: str = Field(default="CNY", max_length=3)
    status: str = Field(default=LoanStatus.PENDING, max_length=12)
    amount_fen: int = Field(sa_column=_fen(default=None))
    rate_micro: int
    penalty_rate_micro: int = 0
    day_count: int = 360
    fee_fen: int = Field(default=0, sa_column=_fen())
    tenor_days: int = 0
    grace_days: int = 0
    cooling_off_days: int = 0
    first_loan: bool = False
    waterfall: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disbursed_on: date | None = None
    due_date: date | None = None
    accrued_until: date | None = None   # interest is booked for every day before this one
    closed_on: date | None = None
    principal_fen: int = Field(default=0, sa_column=_fen())
    interest_fen: int = Field(default=0, sa_column=_fen())
    penalty_fen: int = Field(default=0, sa_column=_fen())
    fees_fen: int = Field(default=0, sa_column=_fen())
    allowance_fen: int = Field(default=0, sa_column=_fen())    # loss allowance held
    written_off_fen: int = Field(default=0, sa_column=_fen())
    recovered_fen: int = Field(default=0, sa_column=_fen())
    #: why it was cancelled: a stored message (``Message.dumps``, rendered per locale;
    #: migration ``0021l``), "" while it is not cancelled
    cancel_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    #: the payout account the vendor consented to for this loan (at acceptance, or again
    #: after a change of account; migration payout12): the pay-out goes only there
    payout_account_id: int | None = Field(default=None, foreign_key="payout_accounts.id")
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def outstanding_fen(self) -> int:
        """Principal, interest, penalty and fees still owed, in fen (>= 0)."""
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.fees_fen


class LoanDocument(SQLModel, table=True):
    """An invoice or an order behind a loan."""

    __tablename__ = "loan_documents"
    __table_args__ = (
        CheckConstraint("(invoice_id is null) <> (order_id is null)", name="one_document"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="purchase_orders.id", index=True)


class LoanFragment(SQLModel, table=True):
    """A voucher part (a digital payable fragment) pledged behind a loan (migration
    ``0007_voucher_financing``; the fragment's own status says it is ``financed``).

    A part is pledged once, ever: its status goes ``held`` -> ``financed`` -> ``settled``
    and never back (the ``voucher_fragments`` status trigger), also when the loan is
    cancelled before pay-out (the part is detached, not freed). So at most one row per
    part, which a unique index keeps (migration ``0022l_loan_fragment_once``), behind the
    checks of ``origination.accept_offer``."""

    __tablename__ = "loan_fragments"
    __table_args__ = (Index("uq_loan_fragments_fragment_id", "fragment_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    fragment_id: int = Field(foreign_key="voucher_fragments.id")


class Disbursement(SQLModel, table=True):
    """A loan's pay-out: a fact (principal paid, fee charged, value date, who, its
    journal entry); never changed (migration ``0018m``), as repayments are not."""

    __tablename__ = "loan_disbursements"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("fee_fen >= 0", name="fee_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", unique=True)
    amount_fen: int = Field(sa_column=_fen(default=None))
    fee_fen: int = Field(default=0, sa_column=_fen())
    disbursed_on: date
    entry_id: int = Field(foreign_key="journal_entries.id", unique=True)
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")


class Repayment(SQLModel, table=True):
    """Money received for a loan: a fact (amount, value date, payer); never changed."""

    __tablename__ = "loan_repayments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("source in ('vendor', 'anchor', 'recovery')", name="source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    amount_fen: int = Field(sa_column=_fen(default=None))
    paid_on: date
    source: str = Field(default="vendor", max_length=10)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id")
    entry_id: int | None = Field(default=None, foreign_key="journal_entries.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
