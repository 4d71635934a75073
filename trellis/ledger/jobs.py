"""Scheduled jobs of the ledger area (declared in :data:`trellis.jobs.JOBS`).

Each job opens its own transactions through ``session_factory`` and returns a one-line
outcome. ``as_of`` (default: today) lets operators and tests run a job for a given day.

* :func:`accrue_daily` books every missing day of interest up to today (set-based), marks
  loans past their due date overdue, moves loss allowances to their DPD buckets and
  commits the new entries for anchoring.
* :func:`disburse_approved` pays out accepted loans, one transaction each, after the chain
  registry accepted their invoices and orders; a loan whose document was financed
  elsewhere is cancelled with the registry's reason; if the chain is down the job stops
  and the loans wait for the next run.
* :func:`update_overdue` is the overdue and allowance step on its own (then anchors).
* :func:`anchor_ledger_head` commits every journal entry not yet committed (sequence
  number and hash; the head among them) for anchoring in the chain's next batch, so an
  auditor can prove the ledger was not rewritten (:mod:`trellis.ledger.anchoring`). It
  runs every 10 minutes (at least hourly, a test holds it), and the daily job and
  :func:`update_overdue` do it as their last step too.
* :func:`expire_offers` marks open offers past their validity date (and approved
  applications left without an open offer) expired.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from trellis import clock, hashes
from trellis.chain.errors import ChainUnavailable, DoubleFinancing
from trellis.db import run, transaction
from trellis.errors import TrellisError
from trellis.ledger import accrual, expiry, lifecycle, provisioning
from trellis.ledger.anchoring import queue_entries
from trellis.ledger.dates import check_not_future
from trellis.ledger.errors import IneligibleDocument
from trellis.ledger.models import Loan, LoanStatus
from trellis.messages import N_, Money, line, msg
from trellis.protection.errors import NoPayoutAccount, PayoutAccountChanged

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from trellis.config import Settings

logger = logging.getLogger(__name__)


def accrue_daily(*, session_factory: sessionmaker[Session], settings: Settings,
                 as_of: date | None = None) -> str:
    """Book interest up to *as_of* (not after today), mark overdue loans, move allowances.

    Short transactions, each taking its loans before the ledger head (the one lock order):
    one per day of interest, one for the overdue step, one for the allowances; each is
    run again if the database ends it with a deadlock (:func:`trellis.db.run`).
    """
    as_of = as_of or clock.today()
    check_not_future(as_of, field="date")
    days: list[accrual.DayResult] = []
    day = run(session_factory, lambda s: accrual.first_unbooked_day(session=s, as_of=as_of))
    while day is not None and day < as_of:
        nxt = day + timedelta(days=1)

        def book(s: Session, d: date = nxt) -> list[accrual.DayResult]:
            return accrual.accrue(session=s, as_of=d)

        days += run(session_factory, book)
        day = nxt
    overdue, provisioned = _overdue_and_allowances(session_factory, as_of)
    anchor_ledger_head(session_factory=session_factory, settings=settings)
    interest = sum(d.interest_fen for d in days)
    penalty = sum(d.penalty_fen for d in days)
    loan_days = sum(d.loans for d in days)
    return line(N_("accrued %(days)s day(s) up to %(as_of)s: %(loan_days)s loan-days, "
                   "%(interest)s interest, %(penalty)s penalty; %(overdue)s loan(s) now "
                   "overdue; %(provisioned)s allowance(s) moved"), days=len(days),
                as_of=as_of, loan_days=loan_days, interest=Money(interest),
                penalty=Money(penalty), overdue=overdue, provisioned=provisioned)


def _overdue_and_allowances(session_factory: sessionmaker[Session], as_of: date) -> tuple[int, int]:
    overdue = run(session_factory, lambda s: accrual.mark_overdue(session=s, as_of=as_of))
    provisioned = run(session_factory,
                      lambda s: provisioning.provision(session=s, as_of=as_of))
    return overdue, provisioned


def update_overdue(*, session_factory: sessionmaker[Session], settings: Settings,
                   as_of: date | None = None) -> str:
    """Mark loans past due overdue and move allowances to their DPD buckets on *as_of*
    (default today, never later), then anchor every shard's head; one-line outcome."""
    as_of = as_of or clock.today()
    check_not_future(as_of, field="date")
    overdue, provisioned = _overdue_and_allowances(session_factory, as_of)
    anchor_ledger_head(session_factory=session_factory, settings=settings)
    return line(N_("%(overdue)s loan(s) now overdue; %(provisioned)s allowance(s) moved"),
                overdue=overdue, provisioned=provisioned)


def disburse_approved(*, session_factory: sessionmaker[Session], settings: Settings,
                      as_of: date | None = None) -> str:
    """Pay out every accepted (pending) loan on *as_of* (default today), one transaction
    each: cancelled if its document was financed elsewhere, left waiting if the chain is
    down; returns a one-line outcome with the counts."""

    as_of = as_of or clock.today()
    with transaction(session_factory) as session:
        pending: list[int] = list(session.scalars(select(col(Loan.id)).where(
            col(Loan.status) == LoanStatus.PENDING).order_by(col(Loan.id))))
    paid, cancelled, waiting, failed, no_account = 0, 0, 0, 0, 0
    for loan_id in pending:
        try:
            with transaction(session_factory) as session:
                loan = lifecycle.lock_loan(session, loan_id)
                if loan.status != LoanStatus.PENDING:
                    continue   # another worker got there first
                lifecycle.disburse(session=session, settings=settings, loan_id=loan_id,
                                   as_of=as_of)
            paid += 1
        except (DoubleFinancing, IneligibleDocument) as exc:
            with transaction(session_factory) as session:
                lifecycle.cancel(session=session, loan_id=loan_id,
                                 reason=lifecycle.not_paid_out(session, loan_id, exc))
            cancelled += 1
            logger.warning("loan %s cancelled: %s", loan_id, exc.message)
        except (NoPayoutAccount, PayoutAccountChanged) as exc:
            # left pending: paid out once the vendor consents to its payout account
            no_account += 1
            logger.info("loan %s waits for its payout account: %s", loan_id, exc.message)
        except ChainUnavailable as exc:
            waiting = len(pending) - paid - cancelled - failed - no_account
            logger.warning("chain unavailable, %s loan(s) wait: %s", waiting, exc.message)
            break
        except TrellisError as exc:   # left pending for an operator; the others go on
            failed += 1
            logger.error("loan %s not paid out: %s", loan_id, exc.message)
    return line(N_("paid out %(paid)s loan(s), cancelled %(cancelled)s (financed elsewhere)"
                   "%(waiting)s%(no_account)s%(failed)s"), paid=paid, cancelled=cancelled,
                waiting=msg(N_("; %(n)s wait for the chain"), n=waiting) if waiting else "",
                no_account=msg(N_("; %(n)s wait for the vendor's consent to a payout account"),
                               n=no_account) if no_account else "",
                failed=msg(N_("; %(n)s failed (see the log)"), n=failed) if failed else "")


def anchor_ledger_head(*, session_factory: sessionmaker[Session], settings: Settings) -> str:
    """Commit every journal entry not yet committed (the head among them) for anchoring."""

    n, seq, digest = run(session_factory, lambda s: queue_entries(session=s))
    if seq == 0:
        return line(N_("the journal is empty"))
    if n == 0:
        return line(N_("ledger head %(seq)s (%(digest)s) already queued for anchoring"),
                    seq=seq, digest=hashes.abbreviate(digest))
    return line(N_("queued ledger head %(seq)s (%(digest)s) for anchoring (%(n)s entries)"),
                seq=seq, digest=hashes.abbreviate(digest), n=n)


def expire_offers(*, session_factory: sessionmaker[Session], settings: Settings,
                  as_of: date | None = None) -> str:
    """Mark offers past their validity date expired, with their applications."""

    as_of = as_of or clock.today()
    with transaction(session_factory) as session:
        n = expiry.expire_offers(session=session, as_of=as_of)
    return line(N_("%(n)s offer(s) expired as of %(as_of)s"), n=n, as_of=as_of)
