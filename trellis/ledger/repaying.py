"""The repayment's hot path: an on-time payment in three statements.

A payment is *on time* when its value date is on or after the day the loan's interest is
booked to (``accrued_until``) and that day is past a first loan's cooling-off window. It
then changes nothing already booked: its postings are the interest from
``accrued_until`` to its date, if any, and its allocation by the waterfall over the
balances that leaves. That is the general re-computation
(:func:`trellis.ledger.lifecycle.recompute`: replay the day from its opening balances
with every payment of the day, subtract what the journal holds) with the day's earlier
payments cancelling out, so it is computed directly: a replay *resumed* from the loan's
current balances with the new payment only (:func:`trellis.ledger.replay.replay`).
Those balances are summed from the journal (the truth, as for the general path), not
read from the loan row (derived from it).

On PostgreSQL, with the loan's id:

1. :func:`lock`: the loan row locked (``SELECT ... FOR UPDATE``), only the columns the
   arithmetic needs, without an ORM object;
2. one statement once that lock is held: the key looked up among the repayments, the
   loan's balances summed from its postings, and its shard's head locked
   (:func:`trellis.ledger.posting.lock_head_with`). The statement's snapshot is taken
   before any wait for the head; what it reads is kept still by the loan lock (every
   writer of a loan's balances locks the loan first) or, for a key sent to another loan
   meanwhile, caught by the entry's unique key in step 3;
3. one statement writing the entry, its postings, the new head, the loan's new balances
   and the repayment row (:func:`trellis.ledger.posting.post_locked` with two riders).

That is three round trips and the commit, instead of eight and the commit, and the
shard's head is held for the last two. SQLite (one writer at a time) runs the same
arithmetic through the plain statements. Anything else (a back-dated payment, one in the
cooling-off window, a loan that is not live) takes the general path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from trellis.clock import utcnow
from trellis.db import is_postgres, table_of
from trellis.ledger import status
from trellis.ledger.chart import DEFAULT_WATERFALL, LOAN_BALANCE_ACCOUNTS
from trellis.ledger.errors import LoanNotFound
from trellis.ledger.journal import Entry, EntryKind, net
from trellis.ledger.models import Loan, Repayment
from trellis.ledger.posting import (
    Rider,
    account_ids,
    attach_written,
    fetch_one,
    lock_head_with,
    post,
    post_locked,
    shard_count,
    shard_of,
)
from trellis.ledger.replay import Balances, Payment, Terms, replay
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)

_LOANS = table_of(Loan)
_LOCK = (select(_LOANS.c.id, _LOANS.c.status, _LOANS.c.currency, _LOANS.c.amount_fen,
                _LOANS.c.fee_fen, _LOANS.c.rate_micro, _LOANS.c.penalty_rate_micro,
                _LOANS.c.day_count, _LOANS.c.disbursed_on, _LOANS.c.due_date,
                _LOANS.c.cooling_off_days, _LOANS.c.first_loan, _LOANS.c.waterfall,
                _LOANS.c.accrued_until)
         .with_for_update())
#: :data:`_LOCK` as PostgreSQL text for :func:`~trellis.ledger.posting.fetch_one` (the
#: same columns in the same order; JSON arrives decoded from the driver as from the ORM)
_LOCK_SQL = ("SELECT " + ", ".join(c.name for c in _LOCK.selected_columns)
             + " FROM loans WHERE id = :loan FOR UPDATE")


@dataclass(frozen=True, slots=True)
class Locked:
    """What a repayment reads of a loan row it has locked."""

    id: int
    status: str
    currency: str
    accrued_until: date | None
    terms: Terms | None   # None before the pay-out


def lock(session: Session, loan_id: int) -> Locked:
    """Lock loan *loan_id* for this transaction (``SELECT ... FOR UPDATE``, one
    statement, no ORM object) and return what a repayment needs of it; raises
    :class:`~trellis.ledger.errors.LoanNotFound`."""
    session.flush()   # pending ORM changes first: the statements below bypass the session
    if is_postgres(session):
        row = fetch_one(session, _LOCK_SQL, {"loan": loan_id})
    else:
        found = session.connection().execute(_LOCK.where(_LOANS.c.id == loan_id)).first()
        row = tuple(found) if found is not None else None
    if row is None:
        raise LoanNotFound(msg(N_("Loan %(loan_id)s does not exist."), loan_id=loan_id))
    (id_, status_, currency, amount_fen, fee_fen, rate_micro, penalty_rate_micro, day_count,
     disbursed_on, due_date, cooling_off_days, first_loan, waterfall, accrued_until) = row
    terms = None
    if disbursed_on is not None and due_date is not None:
        terms = Terms(loan_id=id_, amount_fen=amount_fen, fee_fen=fee_fen,
                      rate_micro=rate_micro, penalty_rate_micro=penalty_rate_micro,
                      day_count=day_count, disbursed_on=disbursed_on, due_date=due_date,
                      cooling_off_days=cooling_off_days, first_loan=first_loan,
                      waterfall=tuple(waterfall or DEFAULT_WATERFALL))
    return Locked(id_, status_, currency, accrued_until, terms)


def on_time(loan: Locked, paid_on: date) -> bool:
    """Whether a payment dated *paid_on* to the locked *loan* takes the hot path: the
    loan is live and paid out, *paid_on* is on or after ``accrued_until``, and that day
    is past the cooling-off window (a payment inside it can change how the window's
    earlier payments were applied)."""
    if loan.terms is None or loan.accrued_until is None or loan.status not in status.LIVE:
        return False
    window_end = loan.terms.cooling_off_until
    return paid_on >= loan.accrued_until and (window_end is None
                                               or loan.accrued_until > window_end)


#: After the loan lock: the key looked up, and the loan's four balances from the journal.
_READ = (
    "SELECT (SELECT r.id FROM loan_repayments r WHERE r.idempotency_key = :rkey) AS found, "
    + ", ".join(f"coalesce(sum(CASE WHEN p.account_id = :{col} THEN p.amount_fen END), 0)"
                for col in LOAN_BALANCE_ACCOUNTS)
    + " FROM journal_postings p WHERE p.loan_id = :loan AND p.account_id IN ("
    + ", ".join(f":{col}" for col in LOAN_BALANCE_ACCOUNTS) + ")")

#: Riders of the entry's statement (PostgreSQL): the loan's new figures, the repayment.
_SET_LOAN = (
    "UPDATE loans SET principal_fen = CAST(:n_principal AS bigint), "
    "interest_fen = CAST(:n_interest AS bigint), penalty_fen = CAST(:n_penalty AS bigint), "
    "fees_fen = CAST(:n_fees AS bigint), accrued_until = CAST(:n_accrued AS date), "
    "status = CAST(:n_status AS varchar), "
    "closed_on = coalesce(CAST(:n_closed AS date), closed_on) "
    "WHERE id = CAST(:n_loan AS integer) AND EXISTS (SELECT 1 FROM e) RETURNING 1")
_ADD_REPAYMENT = (
    "INSERT INTO loan_repayments (loan_id, idempotency_key, amount_fen, paid_on, source, "
    "invoice_id, entry_id, recorded_at, recorded_by_id) SELECT CAST(:r_loan AS integer), "
    "CAST(:r_key AS varchar), CAST(:r_amount AS bigint), CAST(:r_paid AS date), "
    "CAST(:r_source AS varchar), CAST(:r_invoice AS integer), e.id, :r_at, "
    "CAST(:r_by AS integer) FROM e RETURNING id")


def record_on_time(*, session: Session, loan: Locked, payment: Payment, source: str,
                   invoice_id: int | None, recorded_by: int | None
                   ) -> tuple[Repayment, bool]:
    """Record *payment* to *loan* (locked by :func:`lock`, :func:`on_time` true): the
    repayment row and whether the key had already been recorded (then the original is
    returned, to be compared by the caller, and nothing is written)."""
    assert loan.terms is not None and loan.accrued_until is not None   # on_time holds
    ids = account_ids(session, loan.currency)
    params = {"rkey": payment.key, "loan": loan.id,
              **{col: ids[acct.value] for col, acct in LOAN_BALANCE_ACCOUNTS.items()}}
    locked = None
    if is_postgres(session):
        shard = shard_of(loan.id, shard_count(session, loan.currency))
        locked = lock_head_with(session, currency=loan.currency, shard=shard, query=_READ,
                                params=params)
    if locked is not None:
        head: tuple[int, str] | None = (locked[0], locked[1])
        found, *sums = locked[2]
    else:   # SQLite, or a shard with no head yet: post() creates it
        head = None
        found, *sums = session.connection().execute(text(_READ), params).one()
    if found is not None:
        return session.get_one(Repayment, found), True
    opening = Balances(*(int(x) for x in sums))
    outcome = replay(loan.terms, start=loan.accrued_until, until=payment.paid_on,
                     opening=opening, payments=(payment,), resume=True)
    postings = sorted(net(outcome.postings), key=lambda p: (p.value_date, str(p.account)))
    new = SimpleNamespace(id=loan.id, status=loan.status)
    accrued, closed_on = payment.paid_on, None
    if outcome.closed_on is not None:
        status.move(new, "cool_off" if outcome.cooled_off else "settle")
        accrued = closed_on = outcome.closed_on
    entry = Entry(kind=EntryKind.REPAYMENT, value_date=payment.paid_on,
                  idempotency_key=f"repayment:{payment.key}", postings=tuple(postings),
                  loan_id=loan.id, currency=loan.currency,
                  memo=f"Payment of {payment.amount_fen} fen on {payment.paid_on} ({source})")
    bal = outcome.balances
    figures: dict[str, object] = {
        "principal_fen": bal.principal_fen, "interest_fen": bal.interest_fen,
        "penalty_fen": bal.penalty_fen, "fees_fen": bal.fees_fen, "accrued_until": accrued,
        "status": new.status}
    if closed_on is not None:
        figures["closed_on"] = closed_on
    fact: dict[str, Any] = {"loan_id": loan.id, "idempotency_key": payment.key,
            "amount_fen": payment.amount_fen, "paid_on": payment.paid_on, "source": source,
            "invoice_id": invoice_id, "recorded_at": utcnow(), "recorded_by_id": recorded_by}
    if head is not None:
        set_loan = Rider("l", _SET_LOAN, {
            "n_principal": bal.principal_fen, "n_interest": bal.interest_fen,
            "n_penalty": bal.penalty_fen, "n_fees": bal.fees_fen, "n_accrued": accrued,
            "n_status": new.status, "n_closed": closed_on, "n_loan": loan.id})
        add_rep = Rider("r", _ADD_REPAYMENT, {
            "r_loan": loan.id, "r_key": payment.key, "r_amount": payment.amount_fen,
            "r_paid": payment.paid_on, "r_source": source, "r_invoice": invoice_id,
            "r_at": fact["recorded_at"], "r_by": recorded_by})
        written = post_locked(session=session, entry=entry, head=head,
                              riders=(set_loan, add_rep), posted_by=recorded_by)
        if written is None:   # posted meanwhile by the same command: not under our lock
            raise RuntimeError(f"entry {entry.idempotency_key} was written meanwhile "
                               f"under the lock of loan {loan.id}")
        moved, rep_id = written.riders
        if moved != 1 or rep_id is None:
            raise RuntimeError(f"repayment {payment.key}: loan row moved {moved}, "
                               f"repayment {rep_id}")
        # persistent as written, without reading it back or validating it again
        rep = attach_written(session, Repayment,
                             {**fact, "id": rep_id, "entry_id": written.entry_id})
    else:
        row = post(session=session, entry=entry, posted_by=recorded_by)
        session.connection().execute(update(_LOANS).where(_LOANS.c.id == loan.id)
                                     .values(**figures))
        rep = Repayment(**fact, entry_id=row.id)
        session.add(rep)
        session.flush()
    cached = session.identity_map.get(session.identity_key(Loan, (loan.id,)))
    if cached is not None:   # a Loan the caller holds: the new figures, as written
        for name, value in figures.items():
            set_committed_value(cached, name, value)
    logger.info("loan %s: payment %s of %s fen on %s", loan.id, payment.key,
                payment.amount_fen, payment.paid_on)
    return rep, False
