"""Tables of the vouchers area.

- :class:`VoucherPolicy`: one row; the longest tenor an anchor may choose (months,
  6 by default, 12 at most: a CHECK constraint).
- :class:`Voucher`: an anchor's confirmed payable (an invoice it owes) issued as a
  transferable claim: face value, issue date, maturity (``tenor_days`` between 1 and 366,
  a CHECK constraint).
- :class:`VoucherFragment`: a node of the voucher's lineage tree. The root is the whole
  face value held by the invoice's seller; a *split* closes a fragment and creates parts
  with the same holder; a *transfer* closes a fragment and creates one child of the same
  amount held by the new holder. Fragments never change amount, holder or parent; only
  their status moves (``held`` -> ``split`` / ``transferred`` / ``financed`` ->
  ``settled``). Triggers (migration ``0006_journeys``) refuse, on SQLite and
  PostgreSQL alike, a root that differs from the face value, parts that exceed their
  parent, and closing a parent whose parts do not sum to it exactly; so the live
  fragments of a voucher always sum to its face value.
- :class:`VoucherEvent`: the append-only history (issue, split, transfer, finance,
  settle), each one committed to the chain as a ``voucher_event`` document.

Money is integer fen. ``loan_id``/``application_id`` point at ledger rows without a
foreign key (the ledger's tables live on another migration branch).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow
from trellis.messages import N_, Message, msg

ABSOLUTE_MAX_TENOR_MONTHS = 12
ABSOLUTE_MAX_TENOR_DAYS = 366


class VoucherStatus(enum.StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"


class FragmentStatus(enum.StrEnum):
    HELD = "held"                # a live leaf: its holder may split, transfer or finance it
    FINANCED = "financed"        # a live leaf pledged to Trellis for receivable financing
    SPLIT = "split"              # closed: its parts are its children
    TRANSFERRED = "transferred"  # closed: its one child belongs to another firm
    SETTLED = "settled"          # paid by the anchor at maturity


LIVE = (FragmentStatus.HELD, FragmentStatus.FINANCED)

#: a part's status as words in a message (rendered through the catalogues)
FRAGMENT_WORDS = {
    FragmentStatus.HELD: N_("held"),
    FragmentStatus.FINANCED: N_("pledged for financing"),
    FragmentStatus.SPLIT: N_("split into parts"),
    FragmentStatus.TRANSFERRED: N_("passed on to another firm"),
    FragmentStatus.SETTLED: N_("settled at maturity"),
}


def fragment_word(status: str) -> Message:
    """*status* (a :class:`FragmentStatus` value) as words for a message."""
    try:
        return msg(FRAGMENT_WORDS[FragmentStatus(status)])
    except ValueError:
        return msg(N_("in an unknown state"))


def financing_product(product_name: str) -> Message:
    """The product of an application that finances voucher parts, in words: it is voucher
    financing, whatever product's terms price it ("凭证融资（应收账款融资）")."""
    return msg(N_("Voucher financing (%(product)s)"), product=product_name)


class EventKind(enum.StrEnum):
    ISSUE = "issue"
    SPLIT = "split"
    TRANSFER = "transfer"
    FINANCE = "finance"
    SETTLE = "settle"


class VoucherPolicy(SQLModel, table=True):
    """The platform's voucher rules (a single row, id 1)."""

    __tablename__ = "voucher_policy"
    __table_args__ = (
        CheckConstraint("max_tenor_months between 1 and 12", name="tenor_months"),
    )

    id: int | None = Field(default=None, primary_key=True)
    max_tenor_months: int = 6
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")


class Voucher(SQLModel, table=True):
    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("face_fen > 0", name="face_pos"),
        CheckConstraint("tenor_days between 1 and 366", name="tenor_days"),
        CheckConstraint("maturity_date > issued_on", name="maturity_after_issue"),
        CheckConstraint("status in ('active', 'settled')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(24), nullable=False, unique=True))
    issuer_id: int = Field(foreign_key="firms.id", index=True)
    invoice_id: int = Field(foreign_key="invoices.id", unique=True)
    face_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_on: date
    tenor_days: int
    maturity_date: date = Field(index=True)
    status: str = Field(default=VoucherStatus.ACTIVE, max_length=12)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    settled_at: datetime | None = None


class VoucherFragment(SQLModel, table=True):
    __tablename__ = "voucher_fragments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("status in ('held', 'financed', 'split', 'transferred', 'settled')",
                        name="status"),
        CheckConstraint("parent_id is null or parent_id <> id", name="not_own_parent"),
        Index("ix_voucher_fragments_holder_status", "holder_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    voucher_id: int = Field(foreign_key="vouchers.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="voucher_fragments.id",
                                  index=True)
    holder_id: int = Field(foreign_key="firms.id")
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=FragmentStatus.HELD, max_length=12)
    loan_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    application_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class VoucherEvent(SQLModel, table=True):
    """One step in a voucher's life (append-only), committed to the chain."""

    __tablename__ = "voucher_events"
    __table_args__ = (
        CheckConstraint("kind in ('issue', 'split', 'transfer', 'finance', 'settle')",
                        name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    voucher_id: int = Field(foreign_key="vouchers.id", index=True)
    kind: str = Field(max_length=10)
    fragment_id: int = Field(foreign_key="voucher_fragments.id")
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = Field(default_factory=utcnow)
    document_id: int | None = Field(default=None, sa_column=Column(BigInteger))
