"""Settlement at maturity: the anchor pays every live fragment's holder.

For a held fragment the anchor pays the holder (a trade :class:`Payment` to the holder,
allocated to the voucher's invoice). For a financed fragment the payment goes to the
platform's settlement account and repays the loan through the ledger
(:func:`trellis.ledger.lifecycle.repay` with source ``anchor``); the ledger owes any
surplus to the vendor. Each settled fragment gets a ``settle`` event on chain. Settling
is idempotent per fragment: a retry settles only what is still live.

The daily run (:func:`settle_matured`) settles each matured voucher in a transaction of
its own, so one that fails is rolled back alone and reported, and the loans and ledger
heads a voucher locks are released when that voucher commits, not at the end of the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.db import ATTEMPTS, id_of, is_postgres, is_retryable, run, transaction
from trellis.errors import TrellisError
from trellis.ledger.errors import CannotRepay
from trellis.ledger.lifecycle import lock_loans, repay
from trellis.messages import N_, Message, msg
from trellis.trade.models import Invoice, Payment, PaymentAllocation
from trellis.vouchers import services
from trellis.vouchers.errors import LoanNotLive, NotMatured, VoucherNotFound
from trellis.vouchers.models import (
    LIVE,
    EventKind,
    FragmentStatus,
    Voucher,
    VoucherFragment,
    VoucherStatus,
)

logger = logging.getLogger(__name__)


@dataclass
class Settled:
    fragment_id: int
    holder_id: int
    amount_fen: int
    loan_id: int | None
    payment_id: int | None


def settle(*, session: Session, voucher_id: int, paid_on: date, anchor_id: int | None = None,
           user: User | None = None, today: date | None = None) -> list[Settled]:
    """Pay every live fragment of the voucher on *paid_on* (on or after maturity).

    *anchor_id*, when given, must be the issuer (another firm's voucher reads as missing).
    Returns what was paid; marks the voucher settled and the invoice paid. A financed
    part repays its loan, whose ledger refuses a *paid_on* after *today* (default: the
    date today).
    """
    query = select(Voucher).where(Voucher.id == voucher_id)
    if is_postgres(session):
        query = query.with_for_update()
    voucher = session.exec(query).first()
    if voucher is None or (anchor_id is not None and voucher.issuer_id != anchor_id):
        raise VoucherNotFound(N_("That voucher does not exist."))
    if voucher.status == VoucherStatus.SETTLED:
        return []
    if paid_on < voucher.maturity_date:
        raise NotMatured(msg(N_("Voucher %(code)s matures on %(maturity_date)s; it "
                                "cannot be settled before."),
                             code=voucher.code, maturity_date=voucher.maturity_date))
    live = list(session.exec(select(VoucherFragment).where(
        VoucherFragment.voucher_id == voucher.id,
        col(VoucherFragment.status).in_(list(LIVE))).order_by(col(VoucherFragment.id))))
    invoice = session.get_one(Invoice, voucher.invoice_id)
    _lock_loans(session, [f.loan_id for f in live if f.status == FragmentStatus.FINANCED])
    out = []
    for frag in live:
        payment_id = None
        if frag.status == FragmentStatus.FINANCED and frag.loan_id:
            try:
                repay(session=session, loan_id=frag.loan_id, amount_fen=frag.amount_fen,
                      paid_on=paid_on, idempotency_key=f"voucher-settle:{frag.id}",
                      source="anchor", invoice_id=invoice.id,
                      recorded_by=user.id if user else None, today=today)
            except CannotRepay as exc:
                raise LoanNotLive(N_("Loan %(loan)s, which a part of voucher %(code)s "
                                     "repays, can no longer take payments (it is closed "
                                     "or written off)."),
                                  params={"loan": frag.loan_id, "code": voucher.code}) from exc
        else:
            payment = Payment(payer_id=voucher.issuer_id, payee_id=frag.holder_id,
                              reference=f"{voucher.code}-{frag.id}", amount_fen=frag.amount_fen,
                              paid_on=paid_on)
            session.add(payment)
            session.flush()
            session.add(PaymentAllocation(payment_id=id_of(payment), invoice_id=id_of(invoice),
                                          amount_fen=frag.amount_fen))
            payment_id = payment.id
        frag.status = FragmentStatus.SETTLED
        frag.closed_at = utcnow()
        session.add(frag)
        session.flush()
        services.record_event(session=session, voucher=voucher, kind=EventKind.SETTLE,
                              fragment=frag, user=user, paid_on=paid_on.isoformat(),
                              to_loan=frag.loan_id is not None)
        out.append(Settled(id_of(frag), frag.holder_id, frag.amount_fen, frag.loan_id, payment_id))
    invoice.paid_fen = min(invoice.amount_fen, invoice.paid_fen + sum(s.amount_fen for s in out))
    session.add(invoice)
    voucher.status = VoucherStatus.SETTLED
    voucher.settled_at = utcnow()
    session.add(voucher)
    session.flush()
    logger.info("voucher %s settled: %d fragments, %d fen", voucher.code, len(out),
                sum(s.amount_fen for s in out))
    return out


def _lock_loans(session: Session, loan_ids: list[int | None]) -> None:
    """Lock the loans that financed parts will repay, by id, then their ledger heads,
    before the first repayment (:func:`trellis.ledger.lifecycle.lock_loans`)."""
    ids = [i for i in loan_ids if i]
    if ids:
        lock_loans(session, ids)


@dataclass(frozen=True)
class Unsettled:
    """A matured voucher the daily run could not settle, and why (a message for people)."""

    voucher_id: int
    code: str
    amount_fen: int   # what its live parts still owe
    reason: Message


@dataclass
class MaturedRun:
    """What :func:`settle_matured` did: the vouchers it settled, those it could not."""

    settled: list[int] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)


def matured(*, session: Session, as_of: date) -> list[int]:
    """The ids of the active vouchers whose maturity is on or before *as_of*, by id."""
    return [i for i in session.exec(
        select(col(Voucher.id)).where(Voucher.status == VoucherStatus.ACTIVE,
                                      Voucher.maturity_date <= as_of)
        .order_by(col(Voucher.id))) if i is not None]


def settle_if_active(*, session: Session, voucher_id: int, as_of: date) -> bool:
    """Settle voucher *voucher_id* on *as_of* in the session's transaction if it is still
    active (False: settled meanwhile, by another run or by hand; nothing is written).

    Lock order as :func:`settle`'s: the voucher row, then the loans its financed parts
    repay (by id), then those loans' ledger heads, and only then is anything written."""
    query = select(col(Voucher.status)).where(Voucher.id == voucher_id)
    if is_postgres(session):
        query = query.with_for_update()
    if session.exec(query).first() != VoucherStatus.ACTIVE:
        return False
    settle(session=session, voucher_id=voucher_id, paid_on=as_of)
    return True


def settle_matured(*, session_factory: sessionmaker, as_of: date,
                   attempts: int = ATTEMPTS) -> MaturedRun:
    """Settle every active voucher whose maturity is on or before *as_of*, each in its
    own short transaction (:func:`settle_if_active`, run again on a conflict, at most
    *attempts* times in all: :func:`trellis.db.run`).

    A voucher that cannot be settled (a loan it repays is closed, a conflict that kept
    coming back, anything unexpected) is rolled back alone, reported in the result with
    the reason, and left active for the next run; the others are settled and committed
    one by one. So a repayment of a loan waits at most for the one voucher that repays
    it, not for the whole run, and a run again settles only what is still active."""
    with transaction(session_factory) as session:
        ids = matured(session=session, as_of=as_of)
    out = MaturedRun()
    for voucher_id in ids:
        try:
            if run(session_factory, partial(_settle_one, voucher_id=voucher_id, as_of=as_of),
                   attempts=attempts):
                out.settled.append(voucher_id)
        except TrellisError as exc:
            out.unsettled.append(_unsettled(session_factory, voucher_id,
                                            Message(exc.template, exc.params)))
            logger.warning("voucher %s not settled: %s", voucher_id, exc.message)
        except DBAPIError as exc:
            if is_retryable(exc):
                why = Message(N_("payments to the same loans conflicted %(n)s times in a "
                                 "row"), {"n": attempts})
            else:
                why = Message(N_("a database error (%(error)s)"),
                              {"error": type(exc.orig).__name__})
            logger.warning("voucher %s not settled: %s", voucher_id, exc)
            out.unsettled.append(_unsettled(session_factory, voucher_id, why))
        except Exception as exc:  # one voucher's bug does not stop the others; logged whole
            logger.exception("voucher %s not settled", voucher_id)
            out.unsettled.append(_unsettled(session_factory, voucher_id, Message(
                N_("an unexpected error (%(error)s), recorded in the log"),
                {"error": type(exc).__name__})))
    logger.info("matured vouchers on %s: %d settled, %d not", as_of, len(out.settled),
                len(out.unsettled))
    return out


def _settle_one(session: Session, *, voucher_id: int, as_of: date) -> bool:
    # looked up at each call, so that a test can stand in for it
    return settle_if_active(session=session, voucher_id=voucher_id, as_of=as_of)


def _unsettled(session_factory: sessionmaker, voucher_id: int, reason: Message) -> Unsettled:
    """The voucher's code and what its live parts owe, read after its rollback."""
    with transaction(session_factory) as session:
        voucher = session.get_one(Voucher, voucher_id)
        owed = sum(f.amount_fen for f in session.exec(select(VoucherFragment).where(
            VoucherFragment.voucher_id == voucher_id,
            col(VoucherFragment.status).in_(list(LIVE)))))
        return Unsettled(voucher_id, voucher.code, owed, reason)
