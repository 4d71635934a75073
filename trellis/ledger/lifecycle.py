"""Servicing a loan: disbursement, repayment, anchor sweeps, write-off, recovery.

Every function takes the session as ``session=``, locks the loan row (``SELECT ... FOR
UPDATE``; loans before the ledger head, always), posts balanced entries through
:mod:`trellis.ledger.posting` and flushes; the caller commits.

Repayments are re-computations. The loan's balances and postings on and after a payment's
value date are a pure function (:func:`trellis.ledger.replay.replay`) of the balances
before that date and every payment dated from then on. :func:`recompute` posts, in one
entry, the difference between that replay and the postings already in the journal for
those days (each posting on its own value date). For an on-time payment the difference is
just the payment's allocation; for a back-dated one it also reverses the accruals and
allocations made since on the old balances and books the corrected ones. The loan's
balance columns are set from the replay, so they equal the sub-ledger by construction.

Origination (apply, decide, offers, draws) lives in :mod:`trellis.ledger.origination` and
is re-exported here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Date, case, func, or_, select, type_coerce
from sqlmodel import Session, col

from trellis.accounts.models import User
from trellis.chain import registry as chain_registry
from trellis.chain.errors import DoubleFinancing
from trellis.db import id_of
from trellis.errors import PermissionDenied, TrellisError
from trellis.ledger import claims, expiry, repaying, status
from trellis.ledger.chart import DEFAULT_WATERFALL, LOAN_BALANCE_ACCOUNTS, Acct
from trellis.ledger.dates import check_not_future
from trellis.ledger.errors import (
    BadRepayment,
    CannotDisburse,
    CannotRecover,
    IdempotencyMismatch,
    IneligibleDocument,
    LoanNotFound,
)
from trellis.ledger.financed import parts as financed_parts
from trellis.ledger.journal import Entry, EntryKind, Posting, net
from trellis.ledger.models import (
    Disbursement,
    JournalEntry,
    JournalPosting,
    Loan,
    LoanDocument,
    LoanFragment,
    LoanStatus,
    Repayment,
)
from trellis.ledger.posting import account_ids, lock_heads, post
from trellis.ledger.replay import (
    Balances,
    Outcome,
    Payment,
    Terms,
    disbursement_postings,
    replay,
    start_for,
)
from trellis.ledger.reports import _loan_allowances
from trellis.messages import N_, Message, Money, msg, stored
from trellis.protection import payout
from trellis.trade.models import Invoice

if TYPE_CHECKING:
    from trellis.config import Settings

logger = logging.getLogger(__name__)

#: Accounts a replay writes; other accounts (allowance, write-off, recoveries) never move.
REPLAY_ACCOUNTS = (Acct.CASH, Acct.LOANS, Acct.INTEREST_RECEIVABLE, Acct.PENALTY_RECEIVABLE,
                   Acct.FEES_RECEIVABLE, Acct.INTEREST_INCOME, Acct.PENALTY_INCOME,
                   Acct.FEE_INCOME, Acct.VENDOR_PAYABLE)
#: Entry kinds a replay regenerates.
REPLAY_KINDS = (EntryKind.DISBURSEMENT, EntryKind.ACCRUAL, EntryKind.REPAYMENT)


def lock_loan(session: Session, loan_id: int) -> Loan:
    """The loan row, locked for this transaction and freshly read; raises LoanNotFound."""
    loan = session.scalars(select(Loan).where(col(Loan.id) == loan_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if loan is None:
        raise LoanNotFound(msg(N_("Loan %(loan_id)s does not exist."), loan_id=loan_id))
    return loan


def lock_loans(session: Session, loan_ids: Iterable[int]) -> None:
    """Lock loans *loan_ids* in ascending id order, then the heads of their shards in
    ascending shard order: what a transaction that repays several loans takes first.

    Every writer locks a loan before its shard's head (:mod:`trellis.ledger.posting`). A
    transaction that repaid one loan (taking its head) and then locked the next would
    hold a head while waiting for a loan, and deadlock with a repayment of that loan
    waiting for the head; taking every loan first, in one order, leaves no such cycle."""
    ids = sorted(set(loan_ids))
    if not ids:
        return
    session.flush()
    # LockRows sits above the sort: PostgreSQL locks the rows in id order
    session.execute(select(col(Loan.id)).where(col(Loan.id).in_(ids)).order_by(col(Loan.id))
                    .with_for_update())
    lock_heads(session, ids)


def terms_of(loan: Loan) -> Terms:
    """The replay's view of a paid-out loan: amounts in fen, rates in millionths a year
    (``rate_micro`` 65_000 = 6.5 %), day count 360 or 365, dates from its row."""
    disbursed_on, due_date = loan.disbursed_on, loan.due_date
    assert disbursed_on is not None and due_date is not None, "a loan not paid out has no terms"
    return Terms(loan_id=id_of(loan), amount_fen=loan.amount_fen, fee_fen=loan.fee_fen,
                 rate_micro=loan.rate_micro, penalty_rate_micro=loan.penalty_rate_micro,
                 day_count=loan.day_count, disbursed_on=disbursed_on,
                 due_date=due_date, cooling_off_days=loan.cooling_off_days,
                 first_loan=loan.first_loan,
                 waterfall=tuple(loan.waterfall or DEFAULT_WATERFALL))


# --- disbursement ---------------------------------------------------------------------

def disburse(*, session: Session, settings: Settings | None, loan_id: int, as_of: date,
             register_financing: Callable[..., object] | None = None,
             posted_by: int | None = None) -> Loan:
    """Pay out an accepted loan on *as_of*.

    First registers the fingerprints of the invoices, orders and voucher parts behind the
    loan with the chain registry (``trellis.chain.registry.register_financing`` unless
    another callable is given, with *settings*: None only for such a callable or a loan
    without documents); its ``DoubleFinancing`` or ``ChainUnavailable`` propagate and
    nothing is posted. Then books principal out and the fee charged, and starts accrual
    on *as_of*.
    Raises :class:`~trellis.ledger.errors.CannotDisburse` unless the loan is pending, and
    :class:`~trellis.ledger.claims.DocumentClaimed` when another loan on one of its
    documents was paid out and is open.

    The money goes only to the firm's consented payout account: the one the loan is bound
    to (a loan bound to none is bound to the one in force now). Raises
    :class:`~trellis.protection.errors.NoPayoutAccount` when the firm has none and
    :class:`~trellis.protection.errors.PayoutAccountChanged` when it changed after the
    vendor consented for this loan (:func:`confirm_payout_account`); nothing is posted.
    """
    loan = lock_loan(session, loan_id)
    if not status.allowed(loan.status, "disburse"):
        status.move(loan, "disburse")   # raises CannotDisburse with the reason
    account = payout.require_for_payout(session=session, firm_id=loan.firm_id,
                                        bound_id=loan.payout_account_id)
    loan.payout_account_id = account.id
    docs = session.scalars(select(LoanDocument).where(col(LoanDocument.loan_id) == loan.id)).all()
    invoice_ids = [d.invoice_id for d in docs if d.invoice_id is not None]
    order_ids = [d.order_id for d in docs if d.order_id is not None]
    fragment_ids = list(session.scalars(select(col(LoanFragment.fragment_id)).where(
        col(LoanFragment.loan_id) == loan.id).order_by(col(LoanFragment.id))))
    if invoice_ids or order_ids or fragment_ids:
        # Another loan on one of these documents paid out meanwhile: refused (the job
        # cancels this one); two pay-outs of one firm's loans queue on the firm's row.
        claims.lock_firm(session, loan.firm_id)
        claims.refuse_if_paid_out_elsewhere(session, loan)
        # fragment_ids only when there are some: older registrars take invoices and orders
        extra: dict[str, Any] = {"fragment_ids": fragment_ids} if fragment_ids else {}
        registrar: Callable[..., object]
        if register_financing is None:
            # Typed as any registrar (as the argument is): the default one needs settings.
            registrar = cast(Callable[..., object], chain_registry.register_financing)
            # The registration's claim names this loan (its id and creation second), so
            # that only this loan's retry is taken for its own earlier registration.
            extra["financing_ref"] = f"loan:{loan.id}:{loan.created_at:%Y%m%d%H%M%S}"
        else:
            registrar = register_financing
        registrar(session=session, settings=settings, invoice_ids=invoice_ids,
                  order_ids=order_ids, financed_by="trellis", **extra)
    loan.disbursed_on = as_of
    if loan.due_date is None:
        loan.due_date = as_of + timedelta(days=loan.tenor_days + loan.grace_days)
    if loan.due_date <= as_of:
        raise IneligibleDocument(msg(N_("Loan %(loan)s would be due on %(due_date)s, not after "
                                        "its pay-out on %(as_of)s: it cannot be paid out."),
                                     loan=loan.id, due_date=loan.due_date, as_of=as_of))
    entry = Entry(kind=EntryKind.DISBURSEMENT, value_date=as_of,
                  idempotency_key=f"disbursement:{loan.id}",
                  postings=disbursement_postings(terms_of(loan)), loan_id=loan.id,
                  memo=f"Pay-out of loan {loan.id}")
    row = post(session=session, entry=entry, posted_by=posted_by)
    session.add(Disbursement(loan_id=loan_id, amount_fen=loan.amount_fen,
                             fee_fen=loan.fee_fen, disbursed_on=as_of, entry_id=id_of(row),
                             recorded_by_id=posted_by))
    status.move(loan, "disburse")
    loan.principal_fen, loan.fees_fen = loan.amount_fen, loan.fee_fen
    loan.interest_fen = loan.penalty_fen = 0
    loan.accrued_until = as_of
    session.flush()
    # The firm has had a loan now: its other offers promising a first loan's cooling-off
    # can never be signed; they are void and their documents free (reader 13, J2).
    claims.lock_firm(session, loan.firm_id)
    expiry.void_first_loan_offers(session=session, firm_id=loan.firm_id)
    logger.info("disbursed loan %s: %s fen on %s", loan.id, loan.amount_fen, as_of)
    return loan


def confirm_payout_account(*, session: Session, loan_id: int, user_id: int,
                           payout_account_id: int) -> Loan:
    """The vendor consents again, for pending loan *loan_id*, to its firm's payout account
    in force (*payout_account_id*: the one the page showed), after the account changed
    since the offer. Raises ``PermissionDenied`` for a user of another firm,
    :class:`~trellis.ledger.errors.CannotDisburse` for a loan no longer pending,
    :class:`~trellis.protection.errors.PayoutAccountChanged` when the account in force is
    not the one shown, and ``NoPayoutAccount`` when there is none. Flushes."""
    loan = lock_loan(session, loan_id)
    user = session.get(User, user_id)
    if user is None or user.firm_id != loan.firm_id:
        raise PermissionDenied(N_("Only the borrower firm can choose where its loan is paid."))
    if loan.status != LoanStatus.PENDING:
        raise CannotDisburse(msg(N_("Loan %(loan)s is no longer waiting to be paid out."),
                                 loan=loan.id))
    account = payout.require_for_payout(session=session, firm_id=loan.firm_id,
                                        bound_id=payout_account_id)
    loan.payout_account_id = account.id
    session.add(loan)
    session.flush()
    logger.info("loan %s: payout account %s confirmed by user %s", loan.id, account.id, user_id)
    return loan


def cancel(*, session: Session, loan_id: int, reason: str | Message) -> Loan:
    """Cancel a loan that was never paid out (e.g. its invoice was financed elsewhere);
    voucher parts pledged to it are detached from it (:meth:`Parts.release`).

    *reason* is kept as a stored message (``Message.dumps``), which the pages render in
    the reader's language (plain text is kept as it is)."""
    loan = lock_loan(session, loan_id)
    status.move(loan, "cancel")
    loan.cancel_reason = stored(reason)
    session.flush()
    if session.scalars(select(col(LoanFragment.id))
                       .where(col(LoanFragment.loan_id) == loan.id)).first():
        financed_parts().release(session, loan=loan)
    return loan


def not_paid_out(session: Session, loan_id: int, exc: TrellisError) -> Message:
    """Why loan *loan_id* is cancelled at pay-out, as a message the vendor reads in its
    language: the refusal's own message, or for the chain registry's refusal (whose
    text is the registry's English, with fingerprints and accounts) the loan's
    documents by name, the registry's text kept as the ``detail`` no page shows."""
    if isinstance(exc, DoubleFinancing):
        docs = session.scalars(select(LoanDocument).where(
            col(LoanDocument.loan_id) == loan_id)).all()
        # This platform's own earlier financing holds a document (a loan repaid in the
        # cooling-off period, say): say so, and not that another financier might.
        own = claims.registered_documents(
            session, invoice_ids=[d.invoice_id for d in docs if d.invoice_id is not None],
            order_ids=[d.order_id for d in docs if d.order_id is not None], without=loan_id)
        if own:
            document, earlier = own[0]
            return msg(N_("Not paid out: %(why)s This platform's own earlier financing holds "
                          "it, not another financier. The loan is cancelled and nothing is "
                          "owed on it."),
                       why=claims.registered_message(session, document, earlier),
                       detail=exc.message[:800])
        names = [claims.name(session, "invoice", d.invoice_id) for d in docs
                 if d.invoice_id is not None]
        names += [claims.name(session, "order", d.order_id) for d in docs
                  if d.order_id is not None]
        names += [claims.name(session, "voucher part", f) for f in session.scalars(
            select(col(LoanFragment.fragment_id)).where(col(LoanFragment.loan_id) == loan_id))]
        return msg(N_("Not paid out: the double-financing registry shows %(documents)s "
                      "already registered for financing by another financier. The loan is "
                      "cancelled and nothing is owed on it."),
                   documents=names, detail=exc.message[:800])
    return msg(N_("Not paid out: %(why)s The loan is cancelled and nothing is owed on it."),
               why=Message(exc.template, exc.params))


# --- repayment ------------------------------------------------------------------------

def _loan_postings(session: Session, loan_id: int, start: date
                   ) -> tuple[Balances, dict[tuple[str, date], int]]:
    """In one statement: the loan's balances at the start of *start* (every posting before
    it) and what the journal holds from *start* on, per (account, value date), of the
    postings a replay regenerates (its accounts, its kinds)."""
    ids = account_ids(session)
    codes = {ids[a.value]: a.value for a in REPLAY_ACCOUNTS}
    replayed = {k.value for k in REPLAY_KINDS}
    later = type_coerce(case((col(JournalPosting.value_date) >= start,
                              col(JournalPosting.value_date)), else_=None), Date).label("later")
    stmt = (select(col(JournalPosting.account_id), later, col(JournalEntry.kind),
                   func.sum(col(JournalPosting.amount_fen)))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .where(col(JournalPosting.loan_id) == loan_id,
                   col(JournalPosting.account_id).in_(list(codes)))
            .group_by(col(JournalPosting.account_id), later, col(JournalEntry.kind)))
    opening: dict[str, int] = defaultdict(int)
    old: dict[tuple[str, date], int] = defaultdict(int)
    for account_id, vd, kind, total in session.execute(stmt):
        if vd is None:
            opening[codes[account_id]] += int(total or 0)
        elif kind in replayed:
            old[(codes[account_id], vd)] += int(total or 0)
    cols = {a.value: name for name, a in LOAN_BALANCE_ACCOUNTS.items()}   # Balances' fields
    balances = Balances(**{cols[code]: amount for code, amount in opening.items()
                           if code in cols})
    return balances, {k: v for k, v in old.items() if v}


def stored_payments(session: Session, loan_id: int, since: date | None = None
                    ) -> list[Payment]:
    """The loan's vendor and anchor payments (value date order, then as received)."""
    stmt = (select(Repayment).where(col(Repayment.loan_id) == loan_id,
                                    col(Repayment.source) != "recovery")
            .order_by(col(Repayment.paid_on), col(Repayment.id)))
    if since is not None:
        stmt = stmt.where(col(Repayment.paid_on) >= since)
    return [Payment(r.idempotency_key, r.amount_fen, r.paid_on) for r in session.scalars(stmt)]


def recompute(*, session: Session, loan: Loan, start: date, until: date,
              new_payments: Sequence[Payment] = (), idempotency_key: str,
              kind: EntryKind = EntryKind.REPAYMENT, memo: str = "",
              posted_by: int | None = None) -> tuple[JournalEntry | None, Outcome]:
    """Bring the loan's postings from *start* on in line with a replay up to *until*
    (dates; the replay may start earlier, at the pay-out, inside the cooling-off window),
    with *new_payments* added to the stored ones; returns the entry posted and the
    replay's outcome (balances in fen).

    The loan must be locked and live. Posts one entry holding the difference (or nothing
    if there is none) and sets the loan's balances, ``accrued_until`` and status.
    """
    terms = terms_of(loan)
    start = start_for(terms, start)
    opening, old = _loan_postings(session, id_of(loan), start)   # empty before the pay-out
    payments = stored_payments(session, id_of(loan), since=start) + list(new_payments)
    outcome = replay(terms, start=start, until=until, opening=opening, payments=payments)
    new: dict[tuple[str, date], int] = defaultdict(int)
    for p in outcome.postings:
        assert p.value_date is not None   # a replay dates every posting
        new[(str(p.account), p.value_date)] += p.amount_fen
    delta = [Posting(Acct(a), new.get((a, vd), 0) - old.get((a, vd), 0), loan.id, vd)
             for (a, vd) in sorted(set(new) | set(old), key=lambda k: (k[1], k[0]))]
    delta = [p for p in net(delta) if p.amount_fen]
    bal = outcome.balances
    loan.principal_fen, loan.interest_fen = bal.principal_fen, bal.interest_fen
    loan.penalty_fen, loan.fees_fen = bal.penalty_fen, bal.fees_fen
    loan.accrued_until = max(until, loan.accrued_until or until)
    if outcome.closed_on is not None:
        status.move(loan, "cool_off" if outcome.cooled_off else "settle")
        loan.closed_on = loan.accrued_until = outcome.closed_on
    session.flush()   # before the ledger head is locked: every poster waits on that row
    entry = None
    if delta:
        entry = post(session=session, posted_by=posted_by, entry=Entry(
            kind=kind, value_date=max(p.paid_on for p in new_payments) if new_payments
            else until, idempotency_key=idempotency_key, postings=tuple(delta),
            loan_id=loan.id, memo=memo))
    session.flush()
    return entry, outcome


def _same_repayment(found: Repayment, loan_id: int, amount_fen: int, paid_on: date
                    ) -> Repayment:
    if (found.loan_id, found.amount_fen, found.paid_on) != (loan_id, amount_fen, paid_on):
        raise IdempotencyMismatch(
            msg(N_("The key %(idempotency_key)s was already used for a payment of "
                   "%(amount)s on %(paid_on)s to loan %(loan_id)s."),
                idempotency_key=found.idempotency_key, amount=Money(found.amount_fen),
                paid_on=found.paid_on, loan_id=found.loan_id))
    return found


def _find_repayment(session: Session, key: str) -> Repayment | None:
    return session.scalars(select(Repayment).where(col(Repayment.idempotency_key) == key)).first()


#: The largest amount (fen) one payment may carry unless the caller passes the setting
#: ``TRELLIS_LEDGER_MAX_AMOUNT_FEN``: 1 billion yuan, far above any product's maximum
#: loan and far below what would overflow a 64-bit sum of the journal.
MAX_AMOUNT_FEN = 100_000_000_000
#: Idempotency keys: 1 to 128 printable ASCII characters (the API's rule), kept as given.
KEY_MAX = 128


def check_amount(amount_fen: object, max_amount_fen: int | None = None) -> int:
    """*amount_fen* if it is a whole number of fen from 1 to the maximum, else raise
    :class:`~trellis.ledger.errors.BadRepayment` (nothing is written)."""
    limit = max_amount_fen or MAX_AMOUNT_FEN
    if type(amount_fen) is not int or amount_fen <= 0:
        raise BadRepayment(N_("The amount must be a positive whole number of fen."),
                           field="amount_fen")
    if amount_fen > limit:
        raise BadRepayment(N_("The amount is above the largest the ledger accepts in one "
                              "payment."), field="amount_fen")
    return amount_fen


def check_key(key: object) -> str:
    """*key* if it is 1 to 128 printable ASCII characters (no spaces), else raise. Keys
    are never coerced: ``777`` (a number) is refused, ``"777"`` is a key."""
    if (type(key) is not str or not 1 <= len(key) <= KEY_MAX
            or not all("!" <= ch <= "~" for ch in key)):
        raise BadRepayment(msg(N_("The idempotency key must be text of 1 to %(count)s printable "
                                  "characters without spaces."),
                               count=KEY_MAX), field="idempotency_key")
    return key



def repay(*, session: Session, loan_id: int, amount_fen: int, paid_on: date,
          idempotency_key: str, source: str = "vendor", invoice_id: int | None = None,
          recorded_by: int | None = None, today: date | None = None,
          max_amount_fen: int | None = None) -> Repayment:
    """Apply a payment of *amount_fen* with value date *paid_on* to a live loan.

    Allocation follows the loan's waterfall (penalty, fees, interest, principal by
    default); a surplus is owed to the vendor. A payment dated before the last booked
    day (back-dated) re-computes every accrual and allocation from its date. A full
    repayment of a first loan within the cooling-off window waives interest and fees.
    Retrying with the same *idempotency_key* returns the original repayment; the same key
    with another loan, amount or date raises
    :class:`~trellis.ledger.errors.IdempotencyMismatch`. Raises
    :class:`~trellis.ledger.errors.CannotRepay` for a loan that is not active or overdue
    and :class:`~trellis.ledger.errors.BadRepayment` for a bad amount (not a whole number
    of fen from 1 to *max_amount_fen*, default :data:`MAX_AMOUNT_FEN`), an empty or
    malformed key or a date before disbursement; :class:`~trellis.ledger.errors.BadDate`
    for *paid_on* after *today* (default: the date today). Nothing is written then.
    """
    return record_repayment(session=session, loan_id=loan_id, amount_fen=amount_fen,
                            paid_on=paid_on, idempotency_key=idempotency_key, source=source,
                            invoice_id=invoice_id, recorded_by=recorded_by, today=today,
                            max_amount_fen=max_amount_fen)[0]


def record_repayment(*, session: Session, loan_id: int, amount_fen: int, paid_on: date,
                     idempotency_key: str, source: str = "vendor",
                     invoice_id: int | None = None, recorded_by: int | None = None,
                     today: date | None = None, max_amount_fen: int | None = None
                     ) -> tuple[Repayment, bool]:
    """:func:`repay`, also saying whether the key was already recorded (a replay: the
    original repayment is returned and nothing is written)."""
    check_amount(amount_fen, max_amount_fen)
    check_key(idempotency_key)
    check_not_future(paid_on, today=today, field="paid_on")
    payment = Payment(idempotency_key, amount_fen, paid_on)
    locked = repaying.lock(session, loan_id)
    if repaying.on_time(locked, paid_on):   # the hot path: three statements
        rep, replayed = repaying.record_on_time(
            session=session, loan=locked, payment=payment, source=source,
            invoice_id=invoice_id, recorded_by=recorded_by)
        if replayed:
            return _same_repayment(rep, loan_id, amount_fen, paid_on), True
        return rep, False
    loan = lock_loan(session, loan_id)   # already locked: the ORM row for the general path
    # looked up in a statement of its own once the lock is held: a retry of the same
    # payment waited for the first attempt to commit and now sees it (a subquery of the
    # locking statement would still read its snapshot from before the wait)
    found = _find_repayment(session, idempotency_key)
    if found is not None:
        return _same_repayment(found, loan_id, amount_fen, paid_on), True
    status.require_live(loan)
    disbursed_on, accrued_until = loan.disbursed_on, loan.accrued_until
    assert disbursed_on is not None and accrued_until is not None   # live: paid out
    if paid_on < disbursed_on:
        raise BadRepayment(msg(N_("Loan %(loan)s was paid out on %(disbursed_on)s; a payment "
                                  "cannot be dated %(paid_on)s."),
                               loan=loan.id, disbursed_on=loan.disbursed_on, paid_on=paid_on),
                               field="paid_on")
    start = min(paid_on, accrued_until)
    until = max(paid_on, accrued_until)
    entry, _ = recompute(session=session, loan=loan, start=start, until=until,
                         new_payments=(payment,), idempotency_key=f"repayment:{idempotency_key}",
                         memo=f"Payment of {amount_fen} fen on {paid_on} ({source})",
                         posted_by=recorded_by)
    rep = Repayment(loan_id=loan_id, idempotency_key=idempotency_key, amount_fen=amount_fen,
                    paid_on=paid_on, source=source, invoice_id=invoice_id,
                    entry_id=entry.id if entry is not None else None,
                    recorded_by_id=recorded_by)
    session.add(rep)
    session.flush()
    logger.info("loan %s: payment %s of %s fen on %s", loan.id, idempotency_key, amount_fen,
                paid_on)
    return rep, False


def loans_for_invoice(session: Session, invoice_id: int, *, live_only: bool = True
                      ) -> list[Loan]:
    """Loans financing *invoice_id* directly or through the order it came from."""

    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        return []
    cond = col(LoanDocument.invoice_id) == invoice_id
    if invoice.order_id is not None:
        cond = or_(cond, col(LoanDocument.order_id) == invoice.order_id)
    stmt = (select(Loan).join(LoanDocument, col(LoanDocument.loan_id) == col(Loan.id)).where(cond)
            .order_by(col(Loan.id)))
    if live_only:
        stmt = stmt.where(col(Loan.status).in_([s.value for s in status.LIVE]))
    return list(session.scalars(stmt).unique())


def anchor_payment(*, session: Session, invoice_id: int, amount_fen: int, paid_on: date,
                   idempotency_key: str, recorded_by: int | None = None
                   ) -> Repayment | None:
    """The anchor paid *invoice_id* (*amount_fen* fen with value date *paid_on*): sweep
    the loan financing it, surplus to the vendor; the amount, key and date are checked
    as by :func:`repay`.

    Returns the repayment (the original one for a key already recorded), or None when no
    live loan finances the invoice (the payment is then none of the ledger's business).
    """
    found = _find_repayment(session, idempotency_key)
    if found is not None:
        return found
    loans = loans_for_invoice(session, invoice_id)
    if not loans:
        return None
    return repay(session=session, loan_id=id_of(loans[0]), amount_fen=amount_fen, paid_on=paid_on,
                 idempotency_key=idempotency_key, source="anchor", invoice_id=invoice_id,
                 recorded_by=recorded_by)


# --- losses ---------------------------------------------------------------------------

def write_off(*, session: Session, loan_id: int, as_of: date, idempotency_key: str,
              user_id: int | None = None) -> Loan:
    """Write off an overdue loan on *as_of*: interest is booked up to that day, then every
    receivable is removed against the loan's loss allowance and, beyond it, the credit
    loss expense. Raises :class:`~trellis.ledger.errors.CannotWriteOff` unless overdue,
    :class:`~trellis.ledger.errors.BadDate` for a date after today."""
    check_not_future(as_of, field="as_of")
    loan = lock_loan(session, loan_id)
    if not status.allowed(loan.status, "write_off"):
        status.move(loan, "write_off")
    accrued_until = loan.accrued_until
    assert accrued_until is not None   # overdue: paid out
    if as_of < accrued_until:
        raise BadRepayment(msg(N_("Interest on loan %(loan)s is booked up to "
                                  "%(accrued_until)s; write it off on or after that day."),
                               loan=loan.id, accrued_until=loan.accrued_until),
                           field="as_of")
    if as_of > accrued_until:
        recompute(session=session, loan=loan, start=accrued_until, until=as_of,
                  idempotency_key=f"write-off-accrual:{idempotency_key}",
                  kind=EntryKind.ACCRUAL, memo="Interest up to the write-off")
    lid = loan_id
    total = loan.outstanding_fen
    held = _loan_allowances(session, [lid]).get(lid, 0)   # the journal, not the row
    used = min(held, total)
    all_legs = [Posting(Acct.LOSS_ALLOWANCE, used, lid),
                Posting(Acct.WRITE_OFF_EXPENSE, total - used, lid),
                Posting(Acct.LOANS, -loan.principal_fen, lid),
                Posting(Acct.INTEREST_RECEIVABLE, -loan.interest_fen, lid),
                Posting(Acct.PENALTY_RECEIVABLE, -loan.penalty_fen, lid),
                Posting(Acct.FEES_RECEIVABLE, -loan.fees_fen, lid)]
    legs = tuple(p for p in all_legs if p.amount_fen)
    if legs:
        post(session=session, posted_by=user_id, entry=Entry(
            kind=EntryKind.WRITE_OFF, value_date=as_of, idempotency_key=f"write-off:{lid}",
            postings=legs, loan_id=lid, memo=f"Write-off of loan {lid}"))
    status.move(loan, "write_off")
    loan.written_off_fen, loan.allowance_fen = total, held - used
    loan.principal_fen = loan.interest_fen = loan.penalty_fen = loan.fees_fen = 0
    loan.closed_on = as_of
    session.flush()
    logger.info("wrote off loan %s: %s fen", lid, total)
    return loan


def recover(*, session: Session, loan_id: int, amount_fen: int, paid_on: date,
            idempotency_key: str, recorded_by: int | None = None) -> Repayment:
    """Book *amount_fen* (whole fen, 1 to :data:`MAX_AMOUNT_FEN`) received on *paid_on*
    (not after today) for a written-off loan as a recovery (income); anything beyond
    what was written off, less what was recovered before, is owed to the vendor. A key
    already recorded for the same payment returns the original repayment. Raises
    :class:`~trellis.ledger.errors.CannotRecover` unless the loan was written off,
    :class:`~trellis.ledger.errors.BadRepayment` for a bad amount or key,
    :class:`~trellis.ledger.errors.BadDate` for a future date and
    :class:`~trellis.ledger.errors.IdempotencyMismatch` for a key used by another
    payment."""
    check_amount(amount_fen)
    check_key(idempotency_key)
    check_not_future(paid_on, field="paid_on")
    found = _find_repayment(session, idempotency_key)
    if found is not None:
        return _same_repayment(found, loan_id, amount_fen, paid_on)
    loan = lock_loan(session, loan_id)
    if loan.status != LoanStatus.WRITTEN_OFF:
        raise CannotRecover(msg(N_("Loan %(loan)s was not written off; apply the money as a "
                                   "repayment instead."), loan=loan.id))
    recoverable = max(loan.written_off_fen - loan.recovered_fen, 0)
    recovered = min(amount_fen, recoverable)
    surplus = amount_fen - recovered
    legs = [Posting(Acct.CASH, amount_fen, loan.id), Posting(Acct.RECOVERIES, -recovered,
                                                             loan.id),
            Posting(Acct.VENDOR_PAYABLE, -surplus, loan.id)]
    entry = post(session=session, posted_by=recorded_by, entry=Entry(
        kind=EntryKind.RECOVERY, value_date=paid_on,
        idempotency_key=f"recovery:{idempotency_key}",
        postings=tuple(p for p in legs if p.amount_fen), loan_id=loan.id,
        memo=f"Recovery on written-off loan {loan.id}"))
    loan.recovered_fen += recovered
    rep = Repayment(loan_id=loan_id, idempotency_key=idempotency_key, amount_fen=amount_fen,
                    paid_on=paid_on, source="recovery", entry_id=entry.id,
                    recorded_by_id=recorded_by)
    session.add(rep)
    session.flush()
    return rep


# --- reading --------------------------------------------------------------------------

def dpd(loan: Loan, as_of: date) -> int:
    """Days past due at *as_of* (0 when not due yet or nothing is owed)."""
    if loan.due_date is None or loan.status not in status.LIVE or loan.outstanding_fen == 0:
        return 0
    return max((as_of - loan.due_date).days, 0)


def owed_by_borrower(loan: Loan) -> int:
    """What the borrower still owes on *loan*, in fen (>= 0).

    A write-off is the lender's accounting: it clears the receivables from the journal
    (and the loan's balance columns), but the debt stands. For a written-off loan this is
    what was written off less what has been recovered since; otherwise the open balance."""
    if loan.status == LoanStatus.WRITTEN_OFF:
        return max(loan.written_off_fen - loan.recovered_fen, 0)
    return loan.outstanding_fen


def borrower_dpd(loan: Loan, as_of: date) -> int:
    """Days past due at *as_of* as the borrower owes them (>= 0): :func:`dpd`, and for a
    written-off loan still owed, the days since its due date (the write-off does not
    stop the clock for the borrower)."""
    if loan.status == LoanStatus.WRITTEN_OFF:
        if loan.due_date is None or owed_by_borrower(loan) == 0:
            return 0
        return max((as_of - loan.due_date).days, 0)
    return dpd(loan, as_of)


def dpd_at_write_off(loan: Loan) -> int | None:
    """Days past due on the day *loan* was written off (its ``closed_on``), >= 0; None
    unless the loan was written off."""
    if loan.status != LoanStatus.WRITTEN_OFF or loan.closed_on is None or loan.due_date is None:
        return None
    return max((loan.closed_on - loan.due_date).days, 0)


def firm_owed_by_borrower(session: Session, firm_id: int) -> int:
    """What firm *firm_id* still owes on all its loans, in fen (>= 0): open balances plus
    what was written off and not recovered (see :func:`owed_by_borrower`)."""
    open_owed = Loan.principal_fen + Loan.interest_fen + Loan.penalty_fen + Loan.fees_fen
    written = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    owed = case((col(Loan.status) == LoanStatus.WRITTEN_OFF.value,
                 written(Loan.written_off_fen - Loan.recovered_fen, 0)), else_=open_owed)
    return int(session.execute(select(func.coalesce(func.sum(owed), 0))
                               .where(col(Loan.firm_id) == firm_id)).scalar_one())


BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(days_past_due: int) -> str:
    """The DPD bucket of a number of days past due."""
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def allocations(*, session: Session, loan_id: int, until: date | None = None
                ) -> Outcome | tuple[()]:
    """How every payment of the loan was applied, by replaying it from disbursement up
    to *until* (default: the last booked day or the last payment, if later): the replay's
    outcome, or an empty tuple before the pay-out (the journal holds the same figures;
    this view is per payment, for statements)."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise LoanNotFound(msg(N_("Loan %(loan_id)s does not exist."), loan_id=loan_id))
    disbursed_on, accrued_until = loan.disbursed_on, loan.accrued_until
    if disbursed_on is None:
        return ()
    assert accrued_until is not None   # set with disbursed_on
    payments = stored_payments(session, loan_id)
    end = until or max([accrued_until] + [p.paid_on for p in payments])
    payments = [p for p in payments if p.paid_on <= end]
    outcome = replay(terms_of(loan), start=disbursed_on, until=end, opening=Balances(),
                     payments=payments)
    return outcome
