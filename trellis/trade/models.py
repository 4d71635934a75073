"""Tables of the trade area.

Money is integer fen (``*_fen`` columns, CHECK >= 0 or > 0). Natural keys: a firm's USCC;
an invoice's (seller, number); an order's (buyer, number); a payment's (payer, reference);
a credit note's (seller, number). Confirmation (确权) by the anchor is recorded on the
invoice or order as its ``status`` with who and when.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    true,
)
from sqlmodel import Field, SQLModel, col

from trellis.clock import utcnow


class FirmRole(enum.StrEnum):
    ANCHOR = "anchor"
    VENDOR = "vendor"


class Industry(enum.StrEnum):
    CONSTRUCTION = "construction"
    MANUFACTURING = "manufacturing"
    WHOLESALE_RETAIL = "wholesale_retail"
    TRANSPORT_LOGISTICS = "transport_logistics"
    OTHER = "other"


class DocStatus(enum.StrEnum):
    """Confirmation state of an invoice or order."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Cluster(SQLModel, table=True):
    """An industrial park or startup base (产业园区, 创业基地)."""

    __tablename__ = "clusters"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    name: str = Field(max_length=200)
    kind: str = Field(default="industrial_park", max_length=32)
    region: str = Field(default="", max_length=120)
    data_version: int = Field(default=0)  # bumped on every import; graph caches key on it
    created_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None  # archived: kept, read-only, no longer listed


class ClusterManager(SQLModel, table=True):
    """An RM assigned to a cluster."""

    __tablename__ = "cluster_managers"

    cluster_id: int = Field(foreign_key="clusters.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)


class Firm(SQLModel, table=True):
    __tablename__ = "firms"
    __table_args__ = (
        CheckConstraint("role in ('anchor', 'vendor')", name="role"),
        CheckConstraint("length(uscc) = 18", name="uscc_length"),
        CheckConstraint("tax_vat_sales_fen is null or tax_vat_sales_fen >= 0",
                        name="tax_sales_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(sa_column=Column(String(18), nullable=False, unique=True))
    name: str = Field(max_length=200)
    role: str = Field(max_length=8)
    industry: str = Field(default=Industry.OTHER, max_length=24)
    # GB/T 4754-2017: a division's two digits (36 汽车制造业) or a section's letter (C 制造业)
    # when only the section is known; None when the data does not say (trade.industries).
    industry_code: str | None = Field(default=None, max_length=4)
    region: str = Field(default="", max_length=120)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)
    legal_rep: str | None = Field(default=None, max_length=80)
    address: str | None = Field(default=None, max_length=300)
    bank_account: str | None = Field(default=None, max_length=40, index=True)
    founded_on: date | None = None
    tax_vat_sales_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    tax_paid_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    tax_period: str | None = Field(default=None, max_length=16)  # e.g. "2025"
    created_at: datetime = Field(default_factory=utcnow)
    # "pending" for a firm that registered itself without an invitation, until an RM
    # approves it ("approved"); None for firms known from a cluster's data.
    registration: str | None = Field(default=None, max_length=16)

    @property
    def awaiting_approval(self) -> bool:
        """Whether the firm registered itself and waits for a relationship manager's approval."""
        return self.registration == "pending"


class Relationship(SQLModel, table=True):
    """A supply edge: goods flow from supplier to buyer."""

    __tablename__ = "relationships"
    __table_args__ = (
        UniqueConstraint("supplier_id", "buyer_id"),
        # a buyer's suppliers from the index alone (the anchor's tiers; migration 0023w)
        Index("ix_relationships_buyer_supplier", "buyer_id", "supplier_id"),
        CheckConstraint("supplier_id <> buyer_id", name="not_self"),
        CheckConstraint("payment_terms_days >= 0", name="terms_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="firms.id", index=True)
    buyer_id: int = Field(foreign_key="firms.id", index=True)
    since: date
    payment_terms_days: int = 60


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("buyer_id", "number"),
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        # migration 0018p: an anchor's pending orders counted from the index alone
        Index("ix_purchase_orders_buyer_status", "buyer_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    buyer_id: int = Field(foreign_key="firms.id", index=True)
    seller_id: int = Field(foreign_key="firms.id", index=True)
    number: str = Field(max_length=64)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    order_date: date = Field(index=True)
    status: str = Field(default=DocStatus.PENDING, max_length=12)
    confirmed_at: datetime | None = None
    confirmed_by_id: int | None = Field(default=None, foreign_key="users.id")
    # how the buyer decided: "web" (a person on its pages) or "api" (its ERP, with a
    # token: no user); NULL for a document loaded decided (an import, the demo)
    decided_via: str | None = Field(default=None, max_length=8)
    reject_reason: str | None = Field(default=None, max_length=300)


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="purchase_orders.id", index=True)
    delivered_on: date
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("seller_id", "number"),
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("seller_id <> buyer_id", name="not_self"),
        # migration 0011a: two payments at once can never pay more than the invoice
        CheckConstraint("paid_fen >= 0 and paid_fen <= amount_fen", name="paid_within_amount"),
        # (the anchor's payables: ix_invoices_buyer_status_open_due, below the class)
        # migration 0018p: the anchor's queue, oldest first, read in index order
        Index("ix_invoices_buyer_status_issued", "buyer_id", "status", "issue_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seller_id: int = Field(foreign_key="firms.id", index=True)
    buyer_id: int = Field(foreign_key="firms.id", index=True)
    number: str = Field(max_length=64)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    issue_date: date = Field(index=True)
    due_date: date
    order_id: int | None = Field(default=None, foreign_key="purchase_orders.id")
    status: str = Field(default=DocStatus.PENDING, max_length=12)
    confirmed_at: datetime | None = None
    confirmed_by_id: int | None = Field(default=None, foreign_key="users.id")
    # how the buyer decided: "web" (a person on its pages) or "api" (its ERP, with a
    # token: no user); NULL for a document loaded decided (an import, the demo)
    decided_via: str | None = Field(default=None, max_length=8)
    reject_reason: str | None = Field(default=None, max_length=300)
    paid_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


def invoice_outstanding():
    """SQL: the invoice is not paid in full (``paid_fen < amount_fen``), written as the
    expression :data:`ix_invoices_buyer_status_open_due` keeps, so that a query of an
    anchor's outstanding invoices reads that index's part for them alone."""
    return (col(Invoice.amount_fen) > col(Invoice.paid_fen)) == true()


# Migration 0019p: an anchor's payables (due, overdue and their outstanding sums, the
# vouchers it can issue) read from this index alone, and only the invoices still
# outstanding: most of an anchor's confirmed invoices are paid, and the overdue figure
# once read every confirmed invoice past its due date (70,439 on the 10,000-firm cluster)
# to find the 4,278 unpaid ones. The pending count reads its first two columns. An
# expression in the key rather than a partial index: with SQLite's statistics the planner
# takes a partial index for a heavy buyer as the worse choice.
ix_invoices_buyer_status_open_due = Index(
    "ix_invoices_buyer_status_open_due", col(Invoice.buyer_id), col(Invoice.status),
    col(Invoice.amount_fen) > col(Invoice.paid_fen), col(Invoice.due_date),
    col(Invoice.amount_fen), col(Invoice.paid_fen))


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("payer_id", "reference"),
        CheckConstraint("amount_fen > 0", name="amount_pos"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payer_id: int = Field(foreign_key="firms.id", index=True)
    payee_id: int = Field(foreign_key="firms.id", index=True)
    reference: str = Field(max_length=64)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(index=True)


class PaymentAllocation(SQLModel, table=True):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    invoice_id: int = Field(foreign_key="invoices.id", index=True)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class CreditNote(SQLModel, table=True):
    """A credit note or return against a sale."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("seller_id", "number"),
        CheckConstraint("amount_fen > 0", name="amount_pos"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seller_id: int = Field(foreign_key="firms.id", index=True)
    buyer_id: int = Field(foreign_key="firms.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id")
    number: str = Field(max_length=64)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_on: date
    reason: str = Field(default="return", max_length=16)  # return, discount, dispute


class LoanOutcome(SQLModel, table=True):
    """Historical outcome of a past loan (from before Trellis, or matured on it).

    Scoring trains on these; the demo simulator plants them.
    """

    __tablename__ = "loan_outcomes"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    disbursed_on: date
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    defaulted: bool = False
    source: str = Field(default="history", max_length=16)


class Utility(enum.StrEnum):
    ELECTRICITY = "electricity"  # kWh
    WATER = "water"  # cubic metres
    GAS = "gas"  # cubic metres


class UtilityReading(SQLModel, table=True):
    """A firm's metered use of one utility in one month (the park meters its tenants).

    ``month`` is the first day of the month; ``quantity`` in the utility's unit (kWh for
    electricity, m3 for water and gas). A month without a reading is unknown, never zero.
    """

    __tablename__ = "utility_readings"
    __table_args__ = (
        UniqueConstraint("firm_id", "utility", "month"),
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        CheckConstraint("utility in ('electricity', 'water', 'gas')", name="utility"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    utility: str = Field(default=Utility.ELECTRICITY, max_length=12)
    month: date
    quantity: Decimal = Field(sa_column=Column(Numeric(16, 3), nullable=False))


class HeadcountRecord(SQLModel, table=True):
    """Employees a firm paid social insurance for in one month (first day of the month)."""

    __tablename__ = "headcount_records"
    __table_args__ = (
        UniqueConstraint("firm_id", "month"),
        CheckConstraint("headcount >= 0", name="headcount_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    month: date
    headcount: int


class TaxFiling(SQLModel, table=True):
    """A VAT filing for a stated period: compare it with invoices of that period only."""

    __tablename__ = "tax_filings"
    __table_args__ = (
        UniqueConstraint("firm_id", "period_start", "period_end"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("vat_sales_fen >= 0", name="sales_nonneg"),
        CheckConstraint("tax_paid_fen is null or tax_paid_fen >= 0", name="paid_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    period_start: date
    period_end: date
    vat_sales_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    tax_paid_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
