"""The one pricing of a loan: what an offer, the apply page and the refusal all read.

Reader 11 (F8) saw the apply page mark an invoice at 36.86% a year and the application
for it declined at 38.95%: the page priced it at the best grade, the offer at the firm's
own. Everything now goes through :func:`price` (the contract rate for the grade, the
fee, the bullet-loan quote and the legal cap) and :func:`invoice_terms` (what one
invoice would advance and cost), with the same grade, amount and due date that
``origination.apply`` and ``origination.terms`` use; the apply page shows these figures
before the vendor applies, and ``apply`` refuses what they refuse.

Amounts are integer fen; rates annual ``Decimal`` fractions; *as_of* a calendar day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from trellis.ledger import pricing
from trellis.ledger.apr import Quote, fee_for, quote
from trellis.ledger.errors import OfferAboveCap
from trellis.ledger.models import Product
from trellis.messages import N_, Message, Percent, msg
from trellis.scoring import service as scoring


@dataclass(frozen=True)
class Priced:
    """A loan priced under the legal cap: what the borrower receives and pays."""

    rate: Decimal  # the contract rate, annual
    fee_fen: int  # the arrangement fee, repaid with the loan
    quote: Quote  # interest, total cost, the annualised rate (IRR incl. the fee)
    cap: Decimal  # the legal cap in force on the day

    @property
    def amount_fen(self) -> int:
        """What the borrower receives at pay-out, in fen."""
        return self.quote.amount_fen

    @property
    def cost_fen(self) -> int:
        """What the borrower pays for the loan: interest plus the fee, in fen (>= 0)."""
        return self.quote.total_cost_fen

    @property
    def repay_fen(self) -> int:
        """What the borrower repays on the due date: the amount, interest and fee, in fen."""
        return self.quote.amount_fen + self.quote.total_cost_fen


def price(
    *,
    session: Session,
    product: Product,
    grade: str,
    anchor_confirmed: bool,
    amount_fen: int,
    due: date,
    as_of: date,
) -> Priced:
    """Price a bullet loan of *amount_fen* paid out on *as_of* and due on *due* for a firm
    of *grade*. Raises :class:`OfferAboveCap` when the contract rate or the annualised
    rate including fees (IRR) would exceed the legal cap; the message names the
    annualised rate the loan would need and the cap. The one place the rule is applied."""
    rate = pricing.contract_rate(
        session=session,
        grade=grade,
        anchor_confirmed=anchor_confirmed,
        spreads_bps=product.spreads_bps,
        confirmed_discount_bps=product.confirmed_discount_bps,
        as_of=as_of,
    )
    fee = fee_for(amount_fen, product.fee_bps, product.fee_min_fen)
    q = quote(
        amount_fen=amount_fen,
        rate=rate,
        fee_fen=fee,
        start=as_of,
        due=due,
        day_count=product.day_count,
    )
    cap = pricing.legal_cap(session=session, as_of=as_of)
    if q.apr > cap:
        raise OfferAboveCap(
            N_(
                "No offer: the annualised rate including fees, %(apr)s, "
                "would exceed the legal cap of %(cap)s."
            ),
            params={"apr": Percent(q.apr), "cap": Percent(cap)},
        )
    return Priced(rate=rate, fee_fen=fee, quote=q, cap=cap)


def advance_fen(product: Product, open_fen: int) -> int:
    """The most *product* advances against one document worth *open_fen*: its advance
    rate, rounded down to the fen, up to its largest amount."""
    return advance_of(product, (open_fen,))


def advance_of(product: Product, open_amounts: Iterable[int]) -> int:
    """The most *product* advances against documents of these open amounts (fen each):
    the advance rate of each, rounded down to the fen, added up, up to the product's
    largest amount. Rounded per document so that the total is the sum of the figures the
    apply page shows beside each invoice (reader 13, H9: rounding the sum instead made
    the headline a fen more than its rows)."""
    each = sum(amount * product.advance_rate_bps // 10_000 for amount in open_amounts)
    return min(each, product.max_amount_fen)


def receivable_due(product: Product, latest_due: date) -> date:
    """The due date of a receivable loan on invoices due at the latest on *latest_due*."""
    return latest_due + timedelta(days=product.grace_days)


def best_grade(product: Product) -> str | None:
    """The grade *product* prices lowest (None when it lends to no grade)."""
    spreads = product.spreads_bps or {}
    return min(spreads, key=lambda g: spreads[g]) if spreads else None


def expected_grade(*, session: Session, firm_id: int, as_of: date) -> str | None:
    """The grade an application of the firm filed on *as_of* would most likely be priced
    at: its latest stored score's grade, or, never scored, a score computed now (not
    stored); None when there is not enough data to grade it. An application scores the
    firm afresh, so the grade seldom differs from this."""
    latest = scoring.latest(session=session, firm_id=firm_id)
    if latest is None:
        latest = scoring.score_firm(session=session, firm_id=firm_id, as_of=as_of, store=False)
    if latest.insufficient:
        return None
    return latest.grade


def invoice_terms(
    *,
    session: Session,
    product: Product,
    grade: str | None,
    open_fen: int,
    due_date: date,
    as_of: date,
) -> Priced | Message | None:
    """What financing one invoice of *open_fen* due on *due_date* on its own would give
    and cost for a firm of *grade* (the product's best grade when None): the
    :class:`Priced` loan ``origination.apply`` would offer for the default amount, the
    reason it cannot be priced under the legal cap (a :class:`Message` naming the rate and
    the cap), or None when nothing can be said (a grade the product does not price, no
    amount, an invoice already due)."""
    grade = grade if grade in (product.spreads_bps or {}) else best_grade(product)
    amount = advance_fen(product, open_fen)
    due = receivable_due(product, due_date)
    if grade is None or amount <= 0 or due <= as_of:
        return None
    try:
        return price(
            session=session,
            product=product,
            grade=grade,
            anchor_confirmed=True,
            amount_fen=amount,
            due=due,
            as_of=as_of,
        )
    except OfferAboveCap as exc:
        if "apr" in exc.params and "cap" in exc.params:  # one sentence for the list
            return msg(
                N_(
                    "Financed on its own, this invoice would cost %(apr)s a year "
                    "including fees, above the legal cap of %(cap)s."
                ),
                apr=exc.params["apr"],
                cap=exc.params["cap"],
            )
        return msg(
            N_("Financed on its own, this invoice cannot be priced: %(why)s"),
            why=exc.params.get("why") or Message(exc.template, exc.params),
        )


def above_cap(exc: OfferAboveCap, grade: str) -> OfferAboveCap:
    """The refusal of an application whose loan could not be priced under the cap
    (:func:`price` raised *exc*), before anything is filed: it names the grade, the
    annualised rate the loan would need and the cap, and what to do instead."""
    if "apr" not in exc.params or "cap" not in exc.params:
        return exc
    return OfferAboveCap(
        N_(
            "This application cannot be made: at your grade %(grade)s, "
            "the loan would cost %(apr)s a year including fees, above the "
            "legal cap of %(cap)s. Choose invoices due later, or keep these "
            "until they are paid."
        ),
        params={"grade": grade, "apr": exc.params["apr"], "cap": exc.params["cap"]},
    )
