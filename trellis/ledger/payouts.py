"""Paying out surpluses owed to vendors.

When the anchor's payment sweeps a loan and exceeds what is owed (or a recovery exceeds
what was written off) the surplus is credited to the vendor-payable account (``2241``)
*for that loan* (every such posting carries the loan id). What a firm is owed is
therefore the credit balance of vendor payable over the firm's loans: :func:`surplus_owed`.

:func:`pay_out_surplus` books the payment to the vendor: one ``payout`` entry debiting
vendor payable and crediting cash and settlement, loan by loan (oldest loan first), so
each loan's sub-ledger balances and the per-loan payable never goes below zero, on the
payout's value date or on any later one. The firm's loans that hold a payable are
locked first (``SELECT ... FOR UPDATE``, by id: the ledger's lock order, loans before
the ledger head), so concurrent payouts for one firm run one after the other and the
second sees what the first paid. The idempotency key makes a retried command post once.
Like every domain service it only flushes; the caller commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from trellis.errors import Conflict, ValidationError
from trellis.ledger.chart import Acct
from trellis.ledger.errors import IdempotencyMismatch
from trellis.ledger.journal import Entry, EntryKind, Posting
from trellis.ledger.models import JournalEntry, JournalPosting, Loan, Repayment
from trellis.ledger.posting import account_ids, find_entry, post
from trellis.messages import N_, Money, msg
from trellis.protection import payout as payout_account

logger = logging.getLogger(__name__)


class BadPayout(ValidationError):
    """Raised for a payout amount that is not a positive whole number of fen."""

    code = "bad_payout"


class NothingOwed(Conflict):
    """Raised when a payout is asked for a firm that is owed no surplus."""

    code = "nothing_owed"


class PayoutExceedsOwed(Conflict):
    """Raised when a payout would pay a vendor more surplus than it is owed."""

    code = "payout_exceeds_owed"


@dataclass(frozen=True)
class Payout:
    """A booked payout: the journal entry, the total and how much came from each loan;
    ``replayed``: a retried key that returned the original payout (nothing posted now)."""

    entry: JournalEntry
    firm_id: int
    amount_fen: int
    by_loan: dict[int, int] = field(default_factory=dict)
    replayed: bool = False


def _payable_id(session: Session) -> int:
    return account_ids(session)[Acct.VENDOR_PAYABLE.value]


def owed_by_loan(*, session: Session, firm_id: int) -> dict[int, int]:
    """Surplus still owed to *firm_id*, per loan (only loans owing something)."""
    stmt = (select(col(JournalPosting.loan_id), func.sum(col(JournalPosting.amount_fen)))
            .join(Loan, col(Loan.id) == col(JournalPosting.loan_id))
            .where(col(Loan.firm_id) == firm_id,
                   col(JournalPosting.account_id) == _payable_id(session))
            .group_by(col(JournalPosting.loan_id)))
    return {loan_id: -int(total) for loan_id, total in session.execute(stmt)
            if total is not None and total < 0}


@dataclass(frozen=True)
class LoanSurplus:
    """What a loan's payments brought in above what it owed (fen): ``credited`` to the
    vendor over the loan's life, ``paid`` back to it since, ``owed`` still to pay."""

    credited: int
    paid: int

    @property
    def owed(self) -> int:
        """The part of the surplus not yet paid back to the vendor, in fen."""
        return self.credited - self.paid


def loan_surplus(*, session: Session, loan_id: int) -> LoanSurplus:
    """The surplus of loan *loan_id*: its vendor-payable credits (a payment above what
    the loan owed) and debits (payouts of it to the vendor), as the journal holds them."""
    amount = col(JournalPosting.amount_fen)
    credited, paid = session.execute(
        select(func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0),
               func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0))
        .where(col(JournalPosting.loan_id) == loan_id,
               col(JournalPosting.account_id) == _payable_id(session))).one()
    return LoanSurplus(credited=int(credited), paid=int(paid))


def surplus_of_repayment(*, session: Session, entry_id: int | None, loan_id: int) -> int:
    """The part of a repayment the journal booked as owed to the vendor (what exceeded the
    loan), in fen: the credit to the vendor payable of *loan_id* in the repayment's entry
    *entry_id* (0 when the whole payment went to the loan or nothing was posted)."""
    if entry_id is None:
        return 0
    total = session.execute(
        select(func.sum(col(JournalPosting.amount_fen)))
        .where(col(JournalPosting.entry_id) == entry_id,
               col(JournalPosting.loan_id) == loan_id,
               col(JournalPosting.account_id) == _payable_id(session))).scalar()
    return max(-int(total or 0), 0)


def surplus_sources(*, session: Session, loan_ids: list[int]) -> list[str]:
    """Who paid the money that exceeded what loans *loan_ids* owed: the sources
    (``vendor`` the borrower itself, ``anchor`` the buyer, ``recovery``) of the receipts
    whose journal entries booked a surplus owed to the vendor, in a fixed order."""
    if not loan_ids:
        return []
    # one statement: the receipts whose entry credits their loan's vendor payable (the
    # rule of surplus_of_repayment, for every receipt at once)
    credited = (select(col(Repayment.source))
                .join(JournalPosting, (col(JournalPosting.entry_id) == col(Repayment.entry_id))
                      & (col(JournalPosting.loan_id) == col(Repayment.loan_id)))
                .where(col(Repayment.loan_id).in_(loan_ids),
                       col(JournalPosting.account_id) == _payable_id(session))
                .group_by(col(Repayment.id), col(Repayment.source))
                .having(func.sum(col(JournalPosting.amount_fen)) < 0))
    found = set(session.scalars(credited))
    return [s for s in ("vendor", "anchor", "recovery") if s in found]


def surplus_owed(*, session: Session, firm_id: int) -> int:
    """The surplus owed to *firm_id* and not yet paid out, in fen (0 if none)."""
    total = session.execute(
        select(func.sum(col(JournalPosting.amount_fen)))
        .join(Loan, col(Loan.id) == col(JournalPosting.loan_id))
        .where(col(Loan.firm_id) == firm_id,
               col(JournalPosting.account_id) == _payable_id(session))).scalar()
    return max(-int(total or 0), 0)


def _payable_loans(session: Session, firm_id: int) -> list[int]:
    """Lock (by id) and return the firm's loans that ever held a vendor payable."""
    holders = (select(col(JournalPosting.loan_id))
               .where(col(JournalPosting.account_id) == _payable_id(session),
                      col(JournalPosting.loan_id).is_not(None)))
    return list(session.scalars(
        select(col(Loan.id)).where(col(Loan.firm_id) == firm_id, col(Loan.id).in_(holders))
        .order_by(col(Loan.id)).with_for_update()))


def _available(session: Session, loan_ids: list[int], paid_on: date) -> dict[int, int]:
    """Per loan, the most that can be paid on *paid_on* without the payable going below
    zero on that day or any later value date."""
    if not loan_ids:
        return {}
    rows = session.execute(
        select(col(JournalPosting.loan_id), col(JournalPosting.value_date),
               func.sum(col(JournalPosting.amount_fen)))
        .where(col(JournalPosting.loan_id).in_(loan_ids),
               col(JournalPosting.account_id) == _payable_id(session))
        .group_by(col(JournalPosting.loan_id), col(JournalPosting.value_date)))
    by_loan: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, vd, total in rows:
        by_loan[loan_id].append((vd, -int(total or 0)))
    out = {}
    for loan_id, days in by_loan.items():
        days.sort()
        owed_then = sum(amount for vd, amount in days if vd <= paid_on)
        lowest, running = owed_then, owed_then
        for vd, amount in days:
            if vd > paid_on:
                running += amount
                lowest = min(lowest, running)
        if lowest > 0:
            out[loan_id] = lowest
    return out


def _existing(session: Session, found: JournalEntry, firm_id: int,
              amount_fen: int | None) -> Payout:
    """The payout a retried key booked; refuses a key reused for another command."""
    rows = session.execute(
        select(col(JournalPosting.loan_id), col(Loan.firm_id), col(JournalPosting.amount_fen))
        .join(Loan, col(Loan.id) == col(JournalPosting.loan_id))
        .where(col(JournalPosting.entry_id) == found.id,
               col(JournalPosting.account_id) == _payable_id(session))).all()
    by_loan = {loan_id: amount for loan_id, _f, amount in rows}
    total = sum(by_loan.values())
    if (found.kind != EntryKind.PAYOUT or any(f != firm_id for _l, f, _a in rows)
            or (amount_fen is not None and amount_fen != total)):
        raise IdempotencyMismatch(
            msg(N_("The key %(idempotency_key)s was already used for another entry "
                   "(number %(seq)s); use a new key for a different payout."),
                idempotency_key=found.idempotency_key, seq=found.seq))
    return Payout(entry=found, firm_id=firm_id, amount_fen=total, by_loan=by_loan,
                  replayed=True)


def pay_out_surplus(*, session: Session, firm_id: int, amount_fen: int | None = None,
                    paid_on: date, idempotency_key: str, user_id: int | None = None
                    ) -> Payout:
    """Pay *amount_fen* (None: everything owed) of the surplus owed to *firm_id*.

    Posts one balanced ``payout`` entry with value date *paid_on* (debit vendor payable,
    credit cash and settlement, per loan, oldest loan first). Retrying with the same
    *idempotency_key* returns the original payout; the key reused for another firm or
    amount raises :class:`~trellis.ledger.errors.IdempotencyMismatch`. Raises
    :class:`BadPayout` for an amount that is not a positive whole number of fen,
    :class:`NothingOwed` when nothing is owed and :class:`PayoutExceedsOwed` when the
    amount is more than is owed (on *paid_on* and on every later day), and
    :class:`~trellis.protection.errors.NoPayoutAccount` when the firm has no consented
    payout account to pay it into.
    """
    if amount_fen is not None and (type(amount_fen) is not int or amount_fen <= 0):
        raise BadPayout(N_("The amount must be a positive whole number of fen."),
                        field="amount_fen")
    if not idempotency_key:
        raise BadPayout(N_("A payout needs an idempotency key."), field="idempotency_key")
    key = f"payout:{idempotency_key}"
    found = find_entry(session, key)
    if found is not None:
        return _existing(session, found, firm_id, amount_fen)
    # the money goes to the firm's consented payout account only (NoPayoutAccount otherwise)
    payout_account.require_for_payout(session=session, firm_id=firm_id, bound_id=None)
    loan_ids = _payable_loans(session, firm_id)   # locks: concurrent payouts queue here
    found = find_entry(session, key)              # a concurrent retry may have won
    if found is not None:
        return _existing(session, found, firm_id, amount_fen)
    available = _available(session, loan_ids, paid_on)
    owed = sum(available.values())
    if owed == 0:
        raise NothingOwed(N_("The firm is owed no surplus on %(day)s."),
                          params={"day": paid_on})
    amount = owed if amount_fen is None else amount_fen
    if amount > owed:
        raise PayoutExceedsOwed(
            N_("The firm is owed %(owed)s of surplus on %(day)s; %(amount)s cannot be paid "
               "out."), params={"owed": Money(owed), "day": paid_on, "amount": Money(amount)})
    by_loan: dict[int, int] = {}
    left = amount
    for loan_id in sorted(available):
        take = min(left, available[loan_id])
        if take:
            by_loan[loan_id] = take
            left -= take
    legs = []
    for loan_id, take in by_loan.items():
        legs += [Posting(Acct.VENDOR_PAYABLE, take, loan_id),
                 Posting(Acct.CASH, -take, loan_id)]
    entry = post(session=session, posted_by=user_id, entry=Entry(
        kind=EntryKind.PAYOUT, value_date=paid_on, idempotency_key=key,
        postings=tuple(legs), memo=f"Surplus paid out to firm {firm_id}"))
    session.flush()
    logger.info("paid out %s fen of surplus to firm %s on %s (%s)", amount, firm_id,
                paid_on, key)
    return Payout(entry=entry, firm_id=firm_id, amount_fen=amount, by_loan=by_loan)


__all__ = ["BadPayout", "LoanSurplus", "NothingOwed", "Payout", "PayoutExceedsOwed",
           "loan_surplus", "owed_by_loan", "pay_out_surplus", "surplus_owed"]
