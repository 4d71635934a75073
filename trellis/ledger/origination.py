"""Origination: application -> score -> decision -> offer -> acceptance (and draws).

* :func:`apply` checks the documents behind the request (the applicant's own, confirmed,
  not yet due, not already financed, never registered for financing by this platform,
  for an order not yet invoiced; or voucher parts the applicant holds, live, on a
  voucher not yet matured), sizes it (the product's advance rate), scores the
  firm (``trellis.scoring.service.score_firm`` unless another scorer is given) and decides
  automatically: approve for a grade the product auto-approves, with no flag and an
  amount up to the product's automatic limit; decline a grade the product does not lend
  to, with the scorecard's reasons; refer everything else to an RM, with the reasons.
* :func:`decide` records an RM's approval or decline. Above the product's
  ``second_approval_above_fen`` a second approver, not the first, must approve
  (maker-checker). A decline needs reasons.
* :func:`make_offer` prices an approved application: contract rate from scoring, fee,
  interest, total cost, schedule and the annualised rate (IRR of the cash flows including
  the fee). An offer above the legal cap is refused (the application is declined with
  that reason when this happens on approval).
* :func:`accept_offer` is the vendor's signature: it creates the loan (pending
  disbursement) or, for a revolving product, the credit line; :func:`draw` makes a loan
  on a line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from trellis import clock
from trellis.accounts.models import User
from trellis.chain.near_duplicates import screen
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.errors import NotFound, PermissionDenied, TrellisError, ValidationError
from trellis.ledger import claims, pricing, quoting, status
from trellis.ledger.apr import fee_for, rate_micro
from trellis.ledger.errors import (
    ApplicationNotFound,
    CannotAccept,
    IneligibleDocument,
    LimitExceeded,
    OfferAboveCap,
    OfferExpired,
    OfferNotFound,
    OfferOutdated,
    ProductNotFound,
    SameApprover,
)
from trellis.ledger.financed import parts as financed_parts
from trellis.ledger.models import (
    Application,
    ApplicationStatus,
    CreditLine,
    Decision,
    Loan,
    LoanDocument,
    LoanFragment,
    LoanStatus,
    Offer,
    OfferStatus,
    Product,
    ProductKind,
)
from trellis.messages import N_, Message, Money, msg
from trellis.protection import payout
from trellis.protection.models import PayoutAccount
from trellis.scoring.limits import credit_limit
from trellis.scoring.service import score_firm
from trellis.trade import maturity
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

logger = logging.getLogger(__name__)

OPEN_LOAN_STATUSES = (LoanStatus.PENDING, LoanStatus.ACTIVE, LoanStatus.OVERDUE)
DECIDERS = ("rm", "admin")


def product_by_code(session: Session, code: str) -> Product:
    """The active product with *code* (e.g. ``RF-STD``); raises ProductNotFound if there is none."""
    product = session.scalars(select(Product).where(col(Product.code) == code,
                                                    col(Product.active).is_(True))).first()
    if product is None:
        raise ProductNotFound(msg(N_("There is no active product %(code)s."), code=code))
    return product


def _financed(session: Session, *, invoice_ids: Sequence[int] = (),
              order_ids: Sequence[int] = (), fragment_ids: Sequence[int] = ()
              ) -> set[tuple[str, int]]:
    """The documents among these already behind an open loan."""
    out: set[tuple[str, int]] = set()
    for model, column, ids, label in (
            (LoanDocument, col(LoanDocument.invoice_id), invoice_ids, "invoice"),
            (LoanDocument, col(LoanDocument.order_id), order_ids, "order"),
            (LoanFragment, col(LoanFragment.fragment_id), fragment_ids, "voucher part")):
        if not ids:
            continue
        rows = session.execute(
            select(column).join(Loan, col(Loan.id) == model.loan_id)
            .where(column.in_(list(ids)),
                   col(Loan.status).in_([s.value for s in OPEN_LOAN_STATUSES])))
        out |= {(label, r[0]) for r in rows}
    return out


def _financed_names(session: Session, financed: set[tuple[str, int]]) -> list[Message]:
    """Documents found by :func:`_financed` as people name them (:func:`claims.name`)."""
    return [claims.name(session, kind, ident) for kind, ident in sorted(financed)]


def _documents(session: Session, product: Product, firm_id: int, invoice_ids: Sequence[int],
               order_ids: Sequence[int], as_of: date, fragment_ids: Sequence[int] = ()
               ) -> tuple[list[int], date | None]:
    """Validate the documents; return (each one's base amount in fen, latest due date).
    Voucher parts come as one amount (an application finances one part)."""

    kind = ProductKind(product.kind)
    latest: date | None
    docs: list[Invoice | PurchaseOrder | None]
    if fragment_ids:
        if kind is not ProductKind.RECEIVABLE or invoice_ids or order_ids:
            raise IneligibleDocument(N_("Voucher parts are financed on their own, with a "
                                        "receivable product."), field="fragment_ids")
        base, latest = financed_parts().eligible(session, firm_id=firm_id,
                                                 ids=fragment_ids, as_of=as_of)
        financed = _financed(session, fragment_ids=fragment_ids)
        if financed:
            raise IneligibleDocument(msg(N_("Already financed: %(names)s."),
                                         names=_financed_names(session, financed)),
                                     field="fragment_ids")
        return [base], latest
    if kind is ProductKind.RECEIVABLE:
        if not invoice_ids or order_ids:
            raise IneligibleDocument(N_("Receivable financing needs one or more invoices."),
                                     field="invoice_ids")
        docs = [session.get(Invoice, i) for i in invoice_ids]
    elif kind is ProductKind.ORDER:
        if not order_ids or invoice_ids:
            raise IneligibleDocument(N_("Order financing needs one or more purchase orders."),
                                     field="order_ids")
        docs = [session.get(PurchaseOrder, i) for i in order_ids]
    else:
        if invoice_ids or order_ids:
            raise IneligibleDocument(N_("A revolving line is not tied to invoices or orders."),
                                     field="invoice_ids")
        return [], None
    amounts: list[int] = []
    latest = None
    for ident, doc in zip(invoice_ids or order_ids, docs, strict=True):
        if doc is None or doc.seller_id != firm_id:
            raise IneligibleDocument(
                N_("Invoice %(number)s is not one of your firm's documents.") if invoice_ids
                else N_("Order %(number)s is not one of your firm's documents."),
                params={"number": ident},
                field="invoice_ids" if invoice_ids else "order_ids")
        if doc.status != DocStatus.CONFIRMED:
            raise IneligibleDocument(
                N_("Invoice %(number)s has not been confirmed by the buyer yet.")
                if invoice_ids else
                N_("Order %(number)s has not been confirmed by the buyer yet."),
                params={"number": doc.number})
        if kind is ProductKind.RECEIVABLE:
            assert isinstance(doc, Invoice)   # receivables finance invoices (above)
            if maturity.is_due(doc.due_date, as_of):
                raise IneligibleDocument(N_("Invoice %(number)s is already due."),
                                         params={"number": doc.number})
            open_fen = doc.amount_fen - (doc.paid_fen or 0)
            if open_fen <= 0:
                raise IneligibleDocument(N_("Invoice %(number)s has been paid."),
                                         params={"number": doc.number})
            if financed_parts().covers_invoice(session, id_of(doc)):
                raise IneligibleDocument(N_("Invoice %(number)s was issued as a voucher; "
                                            "finance a voucher part instead."),
                                         params={"number": doc.number})
            amounts.append(open_fen)
            latest = max(latest or doc.due_date, doc.due_date)
        else:
            amounts.append(doc.amount_fen)
    financed = _financed(session, invoice_ids=invoice_ids, order_ids=order_ids)
    if financed:
        raise IneligibleDocument(msg(N_("Already financed: %(names)s."),
                                     names=_financed_names(session, financed)))
    return amounts, latest


def _refuse_unfinanceable(session: Session, *, invoice_ids: Sequence[int],
                          order_ids: Sequence[int]) -> None:
    """Refuse documents no loan can be paid out on, whatever the open loans: an order
    that has become an invoice (the invoice is financed instead) and a document this
    platform registered for financing before (the registry holds it for ever), naming
    the invoice or the earlier loan."""
    claims.refuse_if_invoiced(session, order_ids)
    claims.refuse_if_registered(session, invoice_ids=invoice_ids, order_ids=order_ids)


def apply(*, session: Session, firm_id: int, product_code: str, invoice_ids: Sequence[int] = (),
          order_ids: Sequence[int] = (), fragment_ids: Sequence[int] = (),
          amount_fen: int | None = None,
          applied_by: int | None = None, as_of: date | None = None,
          scorer: Callable[..., Any] | None = None,
          limiter: Callable[..., int] | None = None) -> Application:
    """File an application, score it and decide what can be decided automatically.

    *fragment_ids* are voucher parts (``voucher_fragments.id``) held by the firm, for a
    receivable product, instead of invoices: each part's amount is the base, the voucher's
    maturity plus the product's grace days the due date; accepting the offer pledges the
    parts (through :mod:`trellis.ledger.financed`).
    *amount_fen* defaults to the most the documents allow (advance rate x open amount);
    revolving lines need it. *scorer* and *limiter* default to scoring's ``score_firm``
    and ``credit_limit``; an amount above the firm's credit limit goes to an RM. Returns
    the application: ``approved`` (an offer is open),
    ``declined`` (``decline_reasons`` say why) or ``review`` (``review_reasons``).
    Raises :class:`~trellis.ledger.errors.IneligibleDocument` or ``ValidationError`` for a
    request that cannot be filed at all, and :class:`~trellis.ledger.errors.OfferAboveCap`
    (nothing filed) when the firm's grade prices the loan above the legal cap
    (:func:`trellis.ledger.quoting.price`, the pricing of the offer).
    """

    as_of = as_of or clock.today()
    product = product_by_code(session, product_code)
    if session.get(Firm, firm_id) is None:
        raise NotFound(msg(N_("Firm %(firm_id)s does not exist."), firm_id=firm_id))
    invoice_ids, order_ids = list(dict.fromkeys(invoice_ids)), list(dict.fromkeys(order_ids))
    fragment_ids = list(dict.fromkeys(fragment_ids))
    # Two tabs filing on one document queue here; the second then sees the first.
    claims.lock_firm(session, firm_id)
    amounts, _latest = _documents(session, product, firm_id, invoice_ids, order_ids, as_of,
                               fragment_ids)
    claims.refuse_if_claimed(session, firm_id=firm_id, invoice_ids=invoice_ids,
                             order_ids=order_ids, fragment_ids=fragment_ids, as_of=as_of)
    # an order and the invoice it became are one trade, financed once
    claims.refuse_if_trade_claimed(session, firm_id=firm_id, invoice_ids=invoice_ids,
                                   order_ids=order_ids, as_of=as_of)
    # after the claims above, whose messages say more (the voucher, the application)
    _refuse_unfinanceable(session, invoice_ids=invoice_ids, order_ids=order_ids)
    if product.kind == ProductKind.REVOLVING:
        if amount_fen is None:
            raise ValidationError(N_("Say how large a line you need."), field="amount_fen")
        eligible = product.max_amount_fen
    else:
        # each document's advance, added up: the figures the apply page shows
        eligible = quoting.advance_of(product, amounts)
    requested = eligible if amount_fen is None else amount_fen
    if type(requested) is not int or requested <= 0:
        raise ValidationError(N_("The amount must be a positive whole number of fen."),
                              field="amount_fen")
    if requested > eligible:
        raise ValidationError(N_("You can borrow at most %(eligible)s against these "
                                 "documents."), params={"eligible": Money(eligible)},
                              field="amount_fen")
    if requested < product.min_amount_fen:
        raise ValidationError(N_("The smallest amount for this product is %(minimum)s."),
                              params={"minimum": Money(product.min_amount_fen)},
                              field="amount_fen")
    if scorer is None:

        scorer = score_firm
    result = scorer(session=session, firm_id=firm_id, as_of=as_of, applied_on=as_of)
    anchor_confirmed = product.kind != ProductKind.REVOLVING
    # A loan no grade could price under the legal cap is refused before anything is
    # filed (reader 11, F8: it was filed and then declined), priced as the offer would be.
    if not (result.insufficient or result.grade is None) \
            and result.grade in (product.spreads_bps or {}):
        try:
            quoting.price(session=session, product=product, grade=result.grade,
                          anchor_confirmed=anchor_confirmed, amount_fen=requested,
                          due=_loan_due(session, product, invoice_ids, fragment_ids, as_of),
                          as_of=as_of)
        except OfferAboveCap as exc:
            raise quoting.above_cap(exc, result.grade) from exc
    app = Application(firm_id=firm_id, product_id=id_of(product), requested_fen=requested,
                      eligible_fen=eligible, invoice_ids=invoice_ids, order_ids=order_ids,
                      fragment_ids=fragment_ids, anchor_confirmed=anchor_confirmed, as_of=as_of,
                      applied_by_id=applied_by)
    session.add(app)
    session.flush()
    app.score, app.grade, app.pd = result.score, result.grade, result.pd
    app.insufficient = bool(result.insufficient)
    app.flags = [{"code": f.code, "en": f.en, "zh": f.zh} for f in result.flags]
    app.reasons = [{"code": r.code, "en": r.en, "zh": r.zh, "points_lost": r.points_lost}
                   for r in result.reasons]
    app.scorecard_version = result.scorecard_version or ""
    if not (result.insufficient or result.grade is None):
        if limiter is None:

            limiter = credit_limit
        app.limit_fen = int(limiter(session=session, firm_id=firm_id, result=result,
                                    as_of=as_of))
    # A document within a band and a week of one presented before goes to a person
    # (the exact fingerprints, checked at pay-out, refuse; this coarse one only refers).

    near = screen(session=session, invoice_ids=invoice_ids, order_ids=order_ids,
                  application_id=app.id)
    _auto_decide(session, app, product, result, near)
    session.flush()
    return app


# Why an application goes to a relationship manager: the RM reads these in full.
NOT_ENOUGH_DATA = N_("Not enough data to score the firm.")
GRADE_NOT_AUTOMATIC = N_("Grade %(grade)s is not approved automatically.")
ABOVE_CREDIT_LIMIT = N_("%(requested)s is above the firm's credit limit of %(limit)s.")
ABOVE_AUTOMATIC_LIMIT = N_("%(requested)s is above the automatic approval limit of %(limit)s.")

# What the vendor is told of the same, in neutral words (reader 12, G16: a grade-A
# application under the automatic limit only said "客户经理正在审批"): never a screen's
# finding itself (a suspected duplicate is the bank's to raise), only what kind of check.
REVIEW_FOR_DATA = N_("There is not yet enough trade data on Trellis to decide automatically.")
REVIEW_FOR_GRADE = N_("Your firm's rating is one that a relationship manager decides on.")
REVIEW_FOR_LIMIT = N_("The amount requested is above your firm's credit limit.")
REVIEW_FOR_AMOUNT = N_("The amount requested is above what is approved automatically "
                       "(%(limit)s).")
REVIEW_FOR_DOCUMENTS = N_("A relationship manager checks the documents you applied with.")
# A screen's flag is about the firm, not this application's documents (reader 13, J3: an
# application was told its documents were checked for a duplicate among two other
# invoices). Duplicates are named by the firm's own invoice numbers, which it knows; other
# screens' findings are the bank's to raise, so only the kind of check is said.
REVIEW_FOR_DUPLICATES = N_("Some of your firm's invoices on Trellis look like duplicates of "
                           "each other (%(numbers)s); a relationship manager checks them "
                           "before deciding. They need not be invoices of this application.")
REVIEW_FOR_RECORDS = N_("A relationship manager checks your firm's trade records on Trellis "
                        "before deciding (not only the documents of this application).")


def review_topics(app: Application) -> list[Message]:
    """Why *app* went to a relationship manager, in neutral words for the vendor: one
    message per kind of reason of its ``review_reasons`` (data, rating, credit limit,
    automatic limit, a check of the documents applied with, possible duplicates among the
    firm's invoices named by their numbers, a check of the firm's other records), in that
    order, each once."""
    found: dict[str, Message] = {}
    for reason in app.review_reasons or []:
        template = reason.get("t") if isinstance(reason, dict) else None
        if template == NOT_ENOUGH_DATA or (isinstance(reason, dict) and "t" not in reason
                                           and not str(reason.get("en", "")).startswith(
                                               "Flag:")):
            found.setdefault("data", msg(REVIEW_FOR_DATA))
        elif template == GRADE_NOT_AUTOMATIC:
            found.setdefault("grade", msg(REVIEW_FOR_GRADE))
        elif template == ABOVE_CREDIT_LIMIT:
            found.setdefault("limit", msg(REVIEW_FOR_LIMIT))
        elif template == ABOVE_AUTOMATIC_LIMIT:
            limit = Message.from_json(reason).params.get("limit")
            found.setdefault("amount", msg(REVIEW_FOR_AMOUNT, limit=limit))
        elif isinstance(reason, dict) and str(reason.get("en", "")).startswith("Flag:"):
            numbers = [str(n) for n in reason.get("invoices") or []]
            if reason.get("code") == "duplicate_invoice" and numbers:
                found.setdefault("duplicates", msg(REVIEW_FOR_DUPLICATES, numbers=numbers))
            else:   # another screen's flag (or one stored before flags kept their code)
                found.setdefault("records", msg(REVIEW_FOR_RECORDS))
        elif isinstance(reason, dict):   # a near-duplicate of a document applied with
            found.setdefault("documents", msg(REVIEW_FOR_DOCUMENTS))
    order = ("data", "grade", "limit", "amount", "documents", "duplicates", "records")
    return [found[k] for k in order if k in found]


def _auto_decide(session: Session, app: Application, product: Product, result: Any,
                 near_duplicates: Sequence[dict[str, Any]] = ()) -> None:
    # *result*: what the scorer returned (scoring's ScoreResult, or a test's stand-in)
    review: list[dict[str, Any]] = list(near_duplicates)
    if result.insufficient or result.grade is None:
        review.append(msg(NOT_ENOUGH_DATA).to_json())
        review += [{"en": en, "zh": zh} for en, zh in zip(
            result.insufficient_reasons or [], getattr(result, "insufficient_zh", None)
            or result.insufficient_reasons or [], strict=False)]
    elif result.grade not in (product.spreads_bps or {}):
        reasons = [msg(N_("Grade %(grade)s is below what %(product)s lends to."),
                       grade=result.grade, product=product.name).to_json()]
        reasons += [{"en": r.en, "zh": r.zh} for r in result.reasons]
        _record(session, app, None, "auto_decline", reasons)
        status.move_application(app, ApplicationStatus.DECLINED)
        app.decline_reasons = reasons
        _decided(session, app)
        return
    for flag in result.flags:
        # the code and the firm's own invoice numbers: what the vendor is told
        # (review_topics), never the rest of the evidence
        rows = (flag.evidence or {}).get("invoices") if flag.code == "duplicate_invoice" else None
        numbers = [str(row["invoice"]) for row in (rows if isinstance(rows, list) else [])
                   if isinstance(row, dict) and row.get("invoice")]
        review.append({"en": f"Flag: {flag.en}", "zh": f"警示：{flag.zh}", "code": flag.code,
                       **({"invoices": numbers} if numbers else {})})
    if result.grade not in (product.auto_approve_grades or []):
        review.append(msg(GRADE_NOT_AUTOMATIC, grade=result.grade).to_json())
    if app.limit_fen is not None and app.requested_fen > app.limit_fen:
        review.append(msg(ABOVE_CREDIT_LIMIT, requested=Money(app.requested_fen),
                          limit=Money(app.limit_fen)).to_json())
    if app.requested_fen > product.auto_approve_max_fen:
        review.append(msg(ABOVE_AUTOMATIC_LIMIT, requested=Money(app.requested_fen),
                          limit=Money(product.auto_approve_max_fen)).to_json())
    if review:
        _record(session, app, None, "refer", review)
        status.move_application(app, ApplicationStatus.REVIEW)
        app.review_reasons = review
        return
    _record(session, app, None, "auto_approve",
            [msg(N_("Grade %(grade)s, no flags."), grade=result.grade).to_json()])
    _approve(session, app, product)


def _record(session: Session, app: Application, user_id: int | None, action: str,
            reasons: Sequence[str | dict[str, Any]]) -> None:
    """*reasons*: an RM's own words, or messages' JSON (``Message.to_json``)."""
    session.add(Decision(application_id=id_of(app), user_id=user_id, action=action,
                         reasons=list(reasons)))


def _approve(session: Session, app: Application, product: Product) -> None:
    """Final approval: make the offer, or decline if no legal offer exists."""
    try:
        make_offer(session=session, application=app)
    except OfferAboveCap as exc:
        why = Message(exc.template, exc.params).to_json()
        _record(session, app, None, "auto_decline", [why])
        status.move_application(app, ApplicationStatus.DECLINED)
        app.decline_reasons = [why]
        _decided(session, app)
        return
    status.move_application(app, ApplicationStatus.APPROVED)
    _decided(session, app)


def get_application(session: Session, application_id: int, *, lock: bool = False
                    ) -> Application:
    """Application *application_id* (locked for update with *lock*); raises
    ApplicationNotFound if it does not exist."""
    stmt = select(Application).where(col(Application.id) == application_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    app = session.scalars(stmt).first()
    if app is None:
        raise ApplicationNotFound(msg(N_("Application %(application_id)s does not exist."),
                                      application_id=application_id))
    return app


def decide(*, session: Session, application_id: int, user_id: int, approve: bool,
           reasons: Sequence[str] = (), as_of: date | None = None) -> Application:
    """An RM's (or admin's) decision on an application under review.

    Approving an amount above the product's ``second_approval_above_fen`` needs two
    different approvers: the first moves it to ``second_approval``; the same person
    approving again raises :class:`~trellis.ledger.errors.SameApprover`. Declining needs
    at least one reason. Raises :class:`~trellis.ledger.errors.CannotDecide` for an
    application that is not waiting for a decision.
    """
    app = get_application(session, application_id, lock=True)
    user = session.get(User, user_id)
    if user is None or user.role not in DECIDERS or not user.is_active:
        raise PermissionDenied(N_("Only relationship managers and administrators decide "
                                  "applications."))
    product = session.get_one(Product, app.product_id)   # a foreign key: it exists
    if app.status not in (ApplicationStatus.REVIEW, ApplicationStatus.SECOND_APPROVAL):
        status.move_application(app, ApplicationStatus.APPROVED if approve
                                else ApplicationStatus.DECLINED)   # raises CannotDecide
    if not approve:
        reasons = [r.strip() for r in reasons if r and r.strip()]
        if not reasons:
            raise ValidationError(N_("Give the reason for declining."), field="reasons")
        _record(session, app, user_id, "decline", reasons)
        status.move_application(app, ApplicationStatus.DECLINED)
        app.decline_reasons = reasons
        _decided(session, app)
        session.flush()
        return app
    note = [r.strip() for r in reasons if r and r.strip()] or ["Approved."]
    # Two applications on one document (filed before the rule, or raced past it): the
    # first filed may be approved, a later one is to be declined.
    claims.lock_firm(session, app.firm_id)
    financed = _financed(session, invoice_ids=app.invoice_ids or (),
                         order_ids=app.order_ids or (), fragment_ids=app.fragment_ids or ())
    if financed:
        raise IneligibleDocument(msg(N_("Already financed: %(names)s."),
                                     names=_financed_names(session, financed)))
    claims.refuse_if_claimed(session, firm_id=app.firm_id, invoice_ids=app.invoice_ids or (),
                             order_ids=app.order_ids or (),
                             fragment_ids=app.fragment_ids or (), before=app.id,
                             as_of=as_of or clock.today())
    claims.refuse_if_trade_claimed(session, firm_id=app.firm_id,
                                   invoice_ids=app.invoice_ids or (),
                                   order_ids=app.order_ids or (), before=app.id,
                                   as_of=as_of or clock.today())
    _refuse_unfinanceable(session, invoice_ids=app.invoice_ids or (),
                          order_ids=app.order_ids or ())
    # A firm with a credit limit may not be taken above it by approvals (two checkers
    # each under it once passed it together); a firm with none yet (0: no score or line)
    # is the RM's own judgement, which is why it was referred.
    if app.limit_fen:
        after = exposure_fen(session, app.firm_id) + app.requested_fen
        if after > app.limit_fen:
            raise LimitExceeded(
                N_("Approving would take the firm's exposure to %(after)s, above its credit "
                   "limit of %(limit)s; decline, or ask for a smaller amount."),
                params={"after": Money(after), "limit": Money(app.limit_fen)})
    if app.status == ApplicationStatus.SECOND_APPROVAL:
        first = session.scalars(select(Decision).where(col(Decision.application_id) == app.id,
                                                       col(Decision.action) == "approve")
                                .order_by(col(Decision.id).desc())).first()
        if first is not None and first.user_id == user_id:
            raise SameApprover(N_("A second approver is needed: you approved this application "
                                  "already."))
        _record(session, app, user_id, "approve", note)
        _approve(session, app, product)
    elif app.requested_fen > product.second_approval_above_fen:
        _record(session, app, user_id, "approve", note)
        status.move_application(app, ApplicationStatus.SECOND_APPROVAL)
    else:
        _record(session, app, user_id, "approve", note)
        _approve(session, app, product)
    session.flush()
    return app


def exposure_fen(session: Session, firm_id: int, *, without: int | None = None) -> int:
    """What the firm already owes or has been promised, in fen: principal outstanding on
    live loans, loans waiting for pay-out and open offers. A checker approving a new loan
    sees this plus the loan against the firm's credit limit; approvals may not pass it.
    *without*: an application id whose own offer and loan are left out (its page adds
    the amount it asks for)."""
    live = [s.value for s in status.LIVE]
    mine = col(Loan.firm_id) == firm_id
    if without is not None:
        mine = mine & ((col(Loan.application_id).is_(None))
                       | (col(Loan.application_id) != without))
    owed = session.execute(select(func.coalesce(func.sum(col(Loan.principal_fen)), 0)).where(
        mine, col(Loan.status).in_(live))).scalar_one()
    waiting = session.execute(select(func.coalesce(func.sum(col(Loan.amount_fen)), 0)).where(
        mine, col(Loan.status) == LoanStatus.PENDING)).scalar_one()
    offers = (select(func.coalesce(func.sum(col(Offer.amount_fen)), 0))
              .join(Application, col(Application.id) == col(Offer.application_id))
              .where(col(Application.firm_id) == firm_id, col(Offer.status) == OfferStatus.OPEN))
    if without is not None:
        offers = offers.where(col(Offer.application_id) != without)
    offered = session.execute(offers).scalar_one()
    return int(owed) + int(waiting) + int(offered)


def _decided(session: Session, app: Application) -> None:
    """Mark *app* decided now, keeping what the firm owed and was promised then (without
    the application's own offer or loan), the figure its page shows from then on."""
    app.decided_at = utcnow()
    app.exposure_fen = exposure_fen(session, app.firm_id, without=app.id)


def first_loan(session: Session, firm_id: int, *, lock: bool = False) -> bool:
    """True if the firm has never had a loan that was paid out or is about to be.

    With *lock*, the firm's row is locked first (``SELECT ... FOR UPDATE``), so that two
    loans of one firm made at once are counted one after the other: only one is first
    (a unique partial index on ``loans (firm_id) WHERE first_loan`` stands behind it,
    migration ``0011b``).
    """
    if lock:

        session.execute(select(col(Firm.id)).where(col(Firm.id) == firm_id).with_for_update())
    n: int = session.execute(select(func.count()).select_from(Loan).where(
        col(Loan.firm_id) == firm_id, col(Loan.status) != LoanStatus.CANCELLED)).scalar_one()
    return n == 0


def make_offer(*, session: Session, application: Application | None = None,
               application_id: int | None = None, as_of: date | None = None) -> Offer:
    """Price the application and open an offer (valid ``offer_valid_days``).

    Raises :class:`~trellis.ledger.errors.OfferAboveCap` if the contract rate or the
    annualised rate including fees would exceed the legal cap.
    """
    # neither given: no application has id None (ApplicationNotFound)
    app = application or get_application(session, cast(int, application_id))
    offer = terms(session=session, application=app, as_of=as_of)
    session.add(offer)
    session.flush()
    return offer


def proposed_terms(*, session: Session, application: Application,
                   as_of: date | None = None) -> Offer | Message:
    """What approving *application* would offer, priced now and not stored (the decider
    reads the rate, fees, term and total cost before approving), or why no offer could be
    made under the legal cap (an approval would end declined)."""
    try:
        return terms(session=session, application=application, as_of=as_of)
    except TrellisError as exc:     # above the cap, no grade, no base rate for the day
        return Message(exc.template, exc.params)


def terms(*, session: Session, application: Application, as_of: date | None = None) -> Offer:
    """The offer *application* is priced at as of *as_of* (its own day by default), not
    added to the session: the one pricing of :func:`make_offer` and
    :func:`proposed_terms`. Raises OfferAboveCap above the legal cap."""
    app = application
    product = session.get_one(Product, app.product_id)   # a foreign key: it exists
    as_of = as_of or app.as_of
    grade = app.grade
    if grade is None:
        raise ValidationError(N_("The application has no grade; it cannot be priced."))
    amount = app.requested_fen
    expires = as_of + timedelta(days=product.offer_valid_days)
    due = _loan_due(session, product, app.invoice_ids or (), app.fragment_ids or (), as_of)
    if app.fragment_ids:   # a voucher part is paid at maturity: sign before it
        expires = min(expires, due - timedelta(days=product.grace_days + 1))
    priced = quoting.price(session=session, product=product, grade=grade,
                           anchor_confirmed=app.anchor_confirmed, amount_fen=amount, due=due,
                           as_of=as_of)
    rate, fee, q, cap = priced.rate, priced.fee_fen, priced.quote, priced.cap
    micro = rate_micro(rate)
    penalty = pricing.penalty_within_cap(rate_micro_=micro,
                                         penalty_bps=product.penalty_rate_bps, cap=cap)
    is_first = first_loan(session, app.firm_id)
    offer = Offer(application_id=id_of(app), amount_fen=amount, rate=rate, rate_micro=micro,
                  penalty_rate_micro=penalty, apr=q.apr, cap=cap, fee_fen=fee,
                  interest_fen=q.interest_fen, total_cost_fen=q.total_cost_fen,
                  start_date=as_of, due_date=due, tenor_days=q.tenor_days,
                  schedule=list(q.schedule),
                  cooling_off_days=product.cooling_off_days if is_first else 0,
                  first_loan=is_first, expires_on=expires)
    return offer


def why_unpriceable(*, session: Session, product: Product, open_fen: int, due_date: date,
                    as_of: date, grade: str | None = None) -> Message | None:
    """Why a receivable of *open_fen* due on *due_date*, financed on its own, could not be
    priced under the legal cap for a firm of *grade* (the product's best grade when None),
    or None when it could: :func:`trellis.ledger.quoting.invoice_terms`, the pricing of
    :func:`make_offer`."""
    found = quoting.invoice_terms(session=session, product=product, grade=grade,
                                  open_fen=open_fen, due_date=due_date, as_of=as_of)
    return found if isinstance(found, Message) else None


def _loan_due(session: Session, product: Product, invoice_ids: Sequence[int],
              fragment_ids: Sequence[int], as_of: date) -> date:
    """The due date of a loan of *product* on these documents paid out on *as_of*: a
    receivable's latest document's due date (a voucher part's maturity) plus the grace
    days, else the product's tenor plus the grace days."""
    if product.kind == ProductKind.RECEIVABLE:
        if fragment_ids:
            latest = financed_parts().due(session, fragment_ids)[1]
        else:
            latest = max(session.get_one(Invoice, i).due_date for i in invoice_ids)
        return quoting.receivable_due(product, latest)
    return as_of + timedelta(days=product.tenor_days + product.grace_days)


def open_offer(session: Session, application_id: int) -> Offer | None:
    """The latest offer made on *application_id* (whatever its status), or None."""
    return session.scalars(select(Offer).where(col(Offer.application_id) == application_id)
                           .order_by(col(Offer.id).desc())).first()


def accept_offer(*, session: Session, offer_id: int, user_id: int | None = None,
                 as_of: date | None = None,
                 payout_account_id: int | None = None) -> Loan | CreditLine:
    """The vendor signs the offer: returns the loan (pending disbursement) or, for a
    revolving product, the open credit line.

    The loan is bound to the firm's consented payout account (the one the offer page
    shows; *payout_account_id*: the one the vendor saw, refused with
    :class:`~trellis.protection.errors.PayoutAccountChanged` when the account changed
    since); a firm with none is refused with
    :class:`~trellis.protection.errors.NoPayoutAccount`.

    Raises :class:`~trellis.ledger.errors.OfferExpired` after its validity date,
    :class:`~trellis.ledger.errors.CannotAccept` for an offer that is not open,
    ``PermissionDenied`` for a user of another firm, and
    :class:`~trellis.ledger.errors.IneligibleDocument` when a document was financed in
    the meantime.
    """
    offer = session.scalars(select(Offer).where(col(Offer.id) == offer_id).with_for_update()
                            .execution_options(populate_existing=True)).first()
    if offer is None:
        raise OfferNotFound(msg(N_("Offer %(offer_id)s does not exist."), offer_id=offer_id))
    app = get_application(session, offer.application_id, lock=True)
    as_of = as_of or clock.today()
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.firm_id != app.firm_id:
            raise PermissionDenied(N_("Only the applicant firm can accept its offer."))
    if offer.status == OfferStatus.SUPERSEDED:
        raise OfferOutdated(OUTDATED)
    if offer.status != OfferStatus.OPEN:
        raise CannotAccept(msg(N_("Offer %(offer)s is %(status)s; it cannot be accepted."),
                               offer=offer.id,
                               status=msg(N_("accepted") if offer.status == "accepted"
                                          else N_("expired"))))
    if as_of > offer.expires_on:
        raise OfferExpired(msg(N_("The offer expired on %(expires_on)s; apply again."),
                               expires_on=offer.expires_on))
    product = session.get_one(Product, app.product_id)   # a foreign key: it exists
    account = _payout_account(session, app.firm_id, payout_account_id)
    status.move_application(app, ApplicationStatus.ACCEPTED)
    offer.status, offer.accepted_at, offer.accepted_by_id = (OfferStatus.ACCEPTED, utcnow(),
                                                             user_id)
    if product.kind == ProductKind.REVOLVING:
        line = CreditLine(firm_id=app.firm_id, product_id=app.product_id, offer_id=offer_id,
                          limit_fen=offer.amount_fen, rate_micro=offer.rate_micro,
                          opened_on=as_of,
                          expires_on=as_of + timedelta(days=product.line_days))
        session.add(line)
        session.flush()
        return line
    fragment_ids = list(app.fragment_ids or [])
    # Locked before looking: two offers on one document accepted at once queue here, and
    # the second sees the first's loan (once they both became loans and both paid out).
    claims.lock_firm(session, app.firm_id)
    financed = _financed(session, invoice_ids=app.invoice_ids, order_ids=app.order_ids,
                         fragment_ids=fragment_ids)
    if financed:
        raise IneligibleDocument(msg(N_("Already financed since the offer: %(names)s."),
                                     names=_financed_names(session, financed)))
    # the other document of an order's or invoice's trade financed (or issued as a
    # voucher) since the offer; applications filed later are not in the way
    claims.refuse_if_trade_claimed(session, firm_id=app.firm_id,
                                   invoice_ids=app.invoice_ids or (),
                                   order_ids=app.order_ids or (), before=app.id,
                                   as_of=as_of)
    # an order invoiced since the offer; a document registered (an offer made before
    # this check existed, on an invoice whose earlier loan was repaid)
    _refuse_unfinanceable(session, invoice_ids=app.invoice_ids or (),
                          order_ids=app.order_ids or ())
    # The anchor may have issued an invoice as a voucher since the offer (vouchers.issue
    # takes the same lock): its parts are financed then, never the invoice itself.
    for invoice_id in app.invoice_ids or ():
        if financed_parts().covers_invoice(session, invoice_id):
            invoice = session.get(Invoice, invoice_id)
            raise IneligibleDocument(N_("Invoice %(number)s was issued as a voucher; "
                                        "finance a voucher part instead."),
                                     params={"number": invoice.number if invoice else invoice_id})
    loan = _new_loan(session, app.firm_id, product, offer.amount_fen, offer.rate_micro,
                     offer.penalty_rate_micro, offer.fee_fen,
                     due=offer.due_date if product.kind == ProductKind.RECEIVABLE else None,
                     offer=offer, application_id=app.id, offer_id=offer.id,
                     payout_account_id=account.id)
    loan_id = id_of(loan)
    for i in app.invoice_ids:
        session.add(LoanDocument(loan_id=loan_id, invoice_id=i))
    for o in app.order_ids:
        session.add(LoanDocument(loan_id=loan_id, order_id=o))
    session.flush()
    if fragment_ids:
        _add_parts(session, loan_id, fragment_ids)
        financed_parts().pledge(session, loan=loan, ids=fragment_ids, user_id=user_id)
    return loan


def _add_parts(session: Session, loan_id: int, fragment_ids: Sequence[int]) -> None:
    """Record the voucher parts behind loan *loan_id*. A part already behind a loan (of
    any status: a part is pledged once, ever) is refused by the database's unique index
    ``uq_loan_fragments_fragment_id`` should the checks above have missed it: then
    :class:`~trellis.ledger.claims.DocumentClaimed` names it (the request is rolled
    back), never a database error."""
    try:
        with session.begin_nested():
            session.add_all([LoanFragment(loan_id=loan_id, fragment_id=f)
                             for f in fragment_ids])
            session.flush()
    except IntegrityError as exc:
        # SQLite names the column, PostgreSQL the index
        if not any(s in str(exc.orig) for s in ("loan_fragments.fragment_id",
                                                 "uq_loan_fragments_fragment_id")):
            raise
        taken = sorted(set(session.scalars(select(col(LoanFragment.fragment_id)).where(
            col(LoanFragment.fragment_id).in_(list(fragment_ids))))))
        raise claims.DocumentClaimed(
            msg(N_("Already financed since the offer: %(names)s."),
                names=[claims.name(session, "voucher part", f) for f in taken]),
            field="fragment_ids") from None


#: Why an offer promising a first loan's cooling-off cannot be signed once the firm has
#: had another loan (and, once that loan is paid out, why the offer is void).
OUTDATED = N_("Your firm has taken another loan since this offer was made, so its "
              "cooling-off period no longer applies; ask for a new offer.")


def _new_loan(session: Session, firm_id: int, product: Product, amount: int, micro: int,
              penalty_micro: int, fee: int, *, due: date | None, offer: Offer | None = None,
              **links: Any) -> Loan:
    """A pending loan. Whether it is the firm's first is decided under the firm's lock;
    a loan made from an offer keeps the offer's cooling-off terms, and an offer that
    promised a first loan's cooling-off when the firm has had a loan since is refused
    (:class:`~trellis.ledger.errors.OfferOutdated`): what the vendor signs is what it
    saw. *links*: the loan's ``application_id``, ``offer_id`` or ``line_id``."""
    is_first = first_loan(session, firm_id, lock=True)
    if offer is not None:
        if offer.first_loan and not is_first:
            raise OfferOutdated(OUTDATED)
        first, cooling = offer.first_loan, offer.cooling_off_days
    else:
        first, cooling = is_first, product.cooling_off_days if is_first else 0
    loan = Loan(firm_id=firm_id, product_id=id_of(product), currency=product.currency,
                amount_fen=amount, rate_micro=micro, penalty_rate_micro=penalty_micro,
                day_count=product.day_count, fee_fen=fee, tenor_days=product.tenor_days,
                grace_days=product.grace_days, cooling_off_days=cooling,
                first_loan=first, waterfall=list(product.waterfall),
                due_date=due, **links)
    session.add(loan)
    session.flush()
    return loan


def draw(*, session: Session, line_id: int, amount_fen: int, as_of: date,
         requested_by: int | None = None) -> Loan:
    """Draw *amount_fen* on a revolving line: a new loan, pending disbursement, due after
    the product's tenor. Raises :class:`~trellis.ledger.errors.LimitExceeded` above the
    available limit (limit minus principal outstanding and pending)."""
    line = session.scalars(select(CreditLine).where(col(CreditLine.id) == line_id)
                           .with_for_update().execution_options(populate_existing=True)).first()
    if line is None:
        raise NotFound(msg(N_("Credit line %(line_id)s does not exist."), line_id=line_id))
    if requested_by is not None:
        user = session.get(User, requested_by)
        if user is None or (user.firm_id is not None and user.firm_id != line.firm_id):
            raise PermissionDenied(N_("Only the line's firm can draw on it."))
    if line.status != "open" or as_of > line.expires_on:
        raise LimitExceeded(msg(N_("Credit line %(line)s is closed."), line=line.id))
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValidationError(N_("The amount must be a positive whole number of fen."),
                              field="amount_fen")
    used = session.execute(select(func.coalesce(func.sum(col(Loan.principal_fen)), 0)).where(
        col(Loan.line_id) == line.id, col(Loan.status).in_([s.value for s in status.LIVE]))
    ).scalar_one()
    pending = session.execute(select(func.coalesce(func.sum(col(Loan.amount_fen)), 0)).where(
        col(Loan.line_id) == line.id, col(Loan.status) == LoanStatus.PENDING)).scalar_one()
    available = line.limit_fen - int(used) - int(pending)
    if amount_fen > available:
        raise LimitExceeded(N_("Only %(available)s of the line is available."),
                            params={"available": Money(available)})
    product = session.get_one(Product, line.product_id)   # foreign keys: they exist
    penalty = session.get_one(Offer, line.offer_id).penalty_rate_micro
    fee = fee_for(amount_fen, product.fee_bps, product.fee_min_fen)
    account = _payout_account(session, line.firm_id, None)
    loan = _new_loan(session, line.firm_id, product, amount_fen, line.rate_micro, penalty, fee,
                     due=None, line_id=line.id, offer_id=line.offer_id,
                     payout_account_id=account.id)
    return loan


def _payout_account(session: Session, firm_id: int, seen_id: int | None) -> PayoutAccount:
    """The firm's consented payout account a new loan is bound to; *seen_id*: the one the
    vendor was shown (None: not checked). Raises NoPayoutAccount or PayoutAccountChanged."""
    account = payout.require_for_payout(session=session, firm_id=firm_id, bound_id=seen_id)
    return account
