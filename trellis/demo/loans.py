"""A loan book for the demo cluster, booked through the ledger's own services.

:func:`seed_loan_book` gives eleven vendors of the demo cluster one receivable-financing
loan each (80 % of a confirmed invoice to an anchor), dated back from *today* so that
the book holds every state a relationship manager meets: current (one partly repaid), in
its cooling-off window, repaid, repaid within cooling-off (interest and fee waived),
overdue in each days-past-due bucket, swept by the anchor paying the invoice (the surplus
owed to the vendor) and written off. Everything goes through the services that post in
production (disburse, repay, the anchor's payment, accrual, overdue, allowances,
write-off), so the journal, the trial balance and every statement hold real figures and
``trellis ledger check`` is clean. The demo vendor logins' own firms get no loan: their
first application still shows the first-loan cooling-off.

The chain registry is not asked at pay-out (there is no node while the demo is seeded);
the journal's entries are committed for anchoring like any others.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from trellis import clock
from trellis.db import id_of
from trellis.ledger import accrual, lifecycle, pricing, provisioning
from trellis.ledger.anchoring import queue_entries
from trellis.ledger.apr import fee_for, rate_micro
from trellis.ledger.models import Loan, LoanDocument, Product
from trellis.ledger.replay import project
from trellis.trade import payments
from trellis.trade.models import DocStatus, Firm, Invoice

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """One demo loan: days before today it was paid out and falls due, what happened."""

    name: str
    paid_out: int          # days ago
    due: int               # days from today (negative: in the past)
    repay: tuple[tuple[int, str], ...] = ()   # (days ago, "full" | "principal" | "30%")
    sweep: int | None = None                  # the anchor pays the invoice, days ago
    write_off: bool = False


PLANS = (
    Plan("current", 25, 35, repay=((5, "30%"),)),
    Plan("cooling_off", 2, 58),
    Plan("repaid", 70, -10, repay=((12, "full"),)),
    Plan("cooled_off", 30, 30, repay=((26, "principal"),)),
    Plan("overdue_1_30", 70, -12, repay=((30, "30%"),)),
    Plan("overdue_31_60", 100, -40),
    Plan("overdue_61_90", 130, -70, repay=((90, "30%"),)),
    Plan("overdue_90_plus", 160, -100),
    Plan("swept", 50, 10, sweep=3),
    Plan("written_off", 220, -130, write_off=True),
    Plan("current_2", 10, 80),
)


def _candidates(session: Session, cluster_id: int, skip: set[int], today: date
                ) -> list[tuple[Firm, Invoice]]:
    """Vendors of the cluster with an open confirmed invoice to an anchor (biggest
    first), one invoice each; firms in *skip* and firms with loans are left out."""
    has_loan = set(session.exec(select(Loan.firm_id)))
    anchors = set(session.exec(select(Firm.id).where(Firm.cluster_id == cluster_id,
                                                     Firm.role == "anchor")))
    rows = session.exec(
        select(Invoice, Firm).join(Firm, col(Firm.id) == col(Invoice.seller_id))
        .where(Firm.cluster_id == cluster_id, Firm.role == "vendor",
               Invoice.status == DocStatus.CONFIRMED, Invoice.paid_fen == 0,
               col(Invoice.buyer_id).in_(anchors),
               col(Invoice.issue_date) <= today - timedelta(days=5),
               Invoice.amount_fen >= 200_000)
        .order_by(col(Invoice.amount_fen).desc(), col(Invoice.id))).all()
    out, seen = [], set(skip) | has_loan
    for invoice, firm in rows:
        if firm.id is not None and firm.id not in seen:
            seen.add(firm.id)
            out.append((firm, invoice))
    return out


def bank_reference(seed: int, what: str, day: date) -> str:
    """The reference a bank statement shows for a demo transfer made on *day*: the value
    date and a 12-digit serial (交易流水号), the same for the same *seed*, *what* (one
    transfer's name) and *day*, so a demo seeded twice reads the same. Repayments carry it
    as their key, which the loan page shows as it is, as it shows a bank's."""
    serial = random.Random(f"{seed}:{what}:{day.isoformat()}").randrange(10**11, 10**12)
    return f"{day:%Y%m%d}{serial}"


def seed_loan_book(*, session: Session, cluster_id: int, today: date | None = None,
                   skip_firms: AbstractSet[int] = frozenset(), max_amount_fen: int = 50_000_000,
                   seed: int = 7) -> dict[str, int]:
    """Book the demo loans (see the module); returns loan id by plan name. Idempotent:
    does nothing when the cluster's firms already have loans. *seed*: the demo's seed, from
    which the transfers' bank references are made (:func:`bank_reference`)."""
    today = today or clock.today()
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    firms_with_loans = session.exec(select(col(Loan.id)).join(Firm,
                                                              col(Firm.id) == col(Loan.firm_id))
                                    .where(Firm.cluster_id == cluster_id)).first()
    if firms_with_loans is not None:
        return {}
    pool = _candidates(session, cluster_id, set(skip_firms), today)
    if len(pool) < len(PLANS):
        logger.warning("demo loan book: only %d vendors with open invoices", len(pool))
    cap = pricing.legal_cap(session=session, as_of=today)
    loans: dict[str, int] = {}
    for plan, (firm, invoice) in zip(PLANS, pool, strict=False):
        start = today - timedelta(days=plan.paid_out)
        rate = pricing.contract_rate(session=session, grade="B", anchor_confirmed=True,
                                     spreads_bps=product.spreads_bps,
                                     confirmed_discount_bps=product.confirmed_discount_bps,
                                     as_of=start)
        micro = rate_micro(rate)
        amount = min(invoice.amount_fen * product.advance_rate_bps // 10_000 // 100 * 100,
                     product.max_amount_fen, max_amount_fen)
        loan = Loan(firm_id=id_of(firm), product_id=id_of(product), currency=product.currency,
                    amount_fen=amount, rate_micro=micro,
                    penalty_rate_micro=pricing.penalty_within_cap(
                        rate_micro_=micro, penalty_bps=product.penalty_rate_bps, cap=cap),
                    day_count=product.day_count,
                    fee_fen=fee_for(amount, product.fee_bps, product.fee_min_fen),
                    tenor_days=plan.paid_out + plan.due, grace_days=0,
                    cooling_off_days=product.cooling_off_days, first_loan=True,
                    waterfall=list(product.waterfall), due_date=today + timedelta(days=plan.due))
        session.add(loan)
        session.flush()
        session.add(LoanDocument(loan_id=id_of(loan), invoice_id=invoice.id))
        session.flush()
        lifecycle.disburse(session=session, settings=None, loan_id=id_of(loan), as_of=start,
                           register_financing=lambda **_kw: [])
        for days_ago, how in plan.repay:
            _repay(session, loan, today - timedelta(days=days_ago), how,
                   bank_reference(seed, f"repay-{plan.name}", today - timedelta(days=days_ago)))
        if plan.sweep is not None:
            payments.record_invoice_payment(
                session=session, payer_id=invoice.buyer_id, invoice_id=id_of(invoice),
                amount_fen=invoice.amount_fen, paid_on=today - timedelta(days=plan.sweep),
                reference=bank_reference(seed, f"sweep-{plan.name}",
                                         today - timedelta(days=plan.sweep)), today=today,
                sweep=lifecycle.anchor_payment)
        loans[plan.name] = id_of(loan)
    accrual.accrue(session=session, as_of=today)
    accrual.mark_overdue(session=session, as_of=today)
    provisioning.provision(session=session, as_of=today)
    for plan in PLANS:
        if plan.write_off and plan.name in loans:
            lifecycle.write_off(session=session, loan_id=loans[plan.name], as_of=today,
                                idempotency_key=f"demo-write-off-{loans[plan.name]}")
    provisioning.provision(session=session, as_of=today)
    queue_entries(session=session)
    session.flush()
    logger.info("demo loan book: %d loans", len(loans))
    return loans


def _repay(session: Session, loan: Loan, day: date, how: str, reference: str) -> None:
    owed = project(lifecycle.terms_of(loan), until=day).balances
    amount = {"full": owed.total_fen, "principal": loan.amount_fen,
              "30%": loan.amount_fen * 3 // 10}[how]
    lifecycle.repay(session=session, loan_id=id_of(loan), amount_fen=amount, paid_on=day,
                    idempotency_key=reference, today=day)
