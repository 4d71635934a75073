"""Helpers shared by the vendor and anchor pages: form errors from domain errors, money
input, the firm of the current user, warnings for the person, and the chain proof state."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import abort, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select
from wtforms import ValidationError as WTFValidationError

from trellis import clock
from trellis.chain.models import ON_CHAIN_STATES, Batch, Document
from trellis.errors import TrellisError, ValidationErrors
from trellis.ledger import status as loan_status
from trellis.ledger.models import ApplicationStatus
from trellis.ledger.status import APPLICATION_WORDS
from trellis.messages import N_
from trellis.onboarding.errors import AmbiguousBuyer
from trellis.platform.errors import translated
from trellis.platform.i18n import translate
from trellis.platform.web import commit, current_firm_id, db
from trellis.protection import notifications
from trellis.trade.models import Firm
from trellis.typed import number_text

MAX_YUAN = Decimal("10000000000")  # ten billion yuan: anything larger is a typing mistake


def own_firm() -> Firm:
    """The current vendor or anchor user's firm (404 if the user has none)."""
    firm_id = current_firm_id()
    firm = db().get(Firm, firm_id) if firm_id else None
    if firm is None:
        abort(404)
    return firm


def attach_error(form, exc: TrellisError, default: str | None = None) -> None:
    """Show a domain error next to its field (``exc.field``) or the *default* field;
    otherwise as a form-level error (``form.form_errors``). A
    :class:`~trellis.errors.ValidationErrors` shows each of its errors."""
    if isinstance(exc, ValidationErrors):
        for each in exc.errors:
            attach_error(form, each, default)
        return
    name = getattr(exc, "field", None)
    message = translated(exc)
    for candidate in (name, default):
        if candidate and candidate in form:
            form[candidate].errors = [*form[candidate].errors, message]
            return
    form.form_errors.append(message)


def refused_fields(form) -> set[str] | None:
    """The names of the fields *form* refused, for a core to check the rest (and name
    every bad field at once); ``None`` when the form itself was not accepted (a missing
    or stale CSRF token), when nothing more is checked."""
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        return None
    return {name for name, f in form._fields.items() if f.errors}


def ambiguity(exc: TrellisError | None) -> list:
    """The firms to pick from when *exc* is, or holds, an ambiguous buyer
    (:class:`~trellis.onboarding.errors.AmbiguousBuyer`): ``(entry, name, uscc)`` each."""
    for each in getattr(exc, "errors", None) or ([exc] if exc is not None else []):
        if isinstance(each, AmbiguousBuyer):
            return each.choices
    return []


class AmountTooLarge(WTFValidationError):
    """An amount past any a person means (:data:`MAX_YUAN` or more). A page that knows the
    limit says it instead ("you can borrow at most ..."): it asks the core with
    :attr:`FEN`, an amount above any limit that still fits a bigint."""

    FEN = int(MAX_YUAN) * 100


def parse_yuan(raw) -> int:
    """A yuan amount typed by a person (``1,234.50``, ``¥1234.5``, full-width
    ``１２３４．５``: :func:`trellis.typed.number_text`) -> integer fen > 0.

    Raises wtforms' ValidationError with a plain message.
    """
    text = number_text(raw or "")
    if not text:
        raise WTFValidationError(_("Enter an amount in yuan."))
    number = re.fullmatch(r"(-?)(\d+)(\.\d+)?", text)
    if number is None:
        raise WTFValidationError(_("Enter the amount as a number, e.g. 12500.00."))
    if number.group(1):   # -0 too: nothing to pay
        raise WTFValidationError(_("The amount must be more than zero."))
    if len(number.group(2).lstrip("0")) > len(str(int(MAX_YUAN))):
        # a number, only too long for any amount: the same words as any too-large one
        raise AmountTooLarge(_("That amount is too large."))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise WTFValidationError(_("Enter the amount as a number, e.g. 12500.00.")) from None
    if not amount.is_finite():
        raise WTFValidationError(_("Enter the amount as a number, e.g. 12500.00."))
    if amount <= 0:
        raise WTFValidationError(_("The amount must be more than zero."))
    if amount >= MAX_YUAN:
        raise AmountTooLarge(_("That amount is too large."))
    if amount != amount.quantize(Decimal("0.01")):
        raise WTFValidationError(_("Use at most two decimal places."))
    return int(amount * 100)


def yuan(fen: int | None) -> str:
    """Fen as a plain yuan string for a form field (``123456`` -> ``1234.56``)."""
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:.2f}"


def localized(row, field: str) -> str:
    """``row.<field>_zh`` in Chinese, ``row.<field>_en`` otherwise."""
    lang = "zh" if str(get_locale() or "zh_CN").startswith("zh") else "en"
    return getattr(row, f"{field}_{lang}") or getattr(row, f"{field}_en")


def current_user_obj():
    return current_user._get_current_object() if current_user.is_authenticated else None


def proof_state(kind: str, doc_id: int) -> dict:
    """Where a trade document stands on the chain: queued, batched (and the batch's state)
    or not committed yet; with the document number for a proof bundle."""
    source = {"invoice": "invoices", "order": "purchase_orders"}[kind]
    doc = db().exec(select(Document).where(Document.doc_type == kind,
                                           Document.source == source,
                                           Document.source_id == doc_id)).first()
    confirmation = db().exec(select(Document).where(
        Document.doc_type == "confirmation", Document.doc_id == f"{kind}:{doc_id}")).first()
    out = {"document": doc, "confirmation": confirmation, "batch": None,
           "confirmation_batch": None}
    if doc is not None and doc.batch_id:
        out["batch"] = db().get(Batch, doc.batch_id)
    if confirmation is not None and confirmation.batch_id:
        out["confirmation_batch"] = db().get(Batch, confirmation.batch_id)
    return out


def event_proofs(events) -> dict:
    """For a voucher's history: each event's chain document by its number, as
    ``{number: {"hash": content hash, "anchored": bool}}`` (the page shows the hash and,
    once anchored, links the proof; the bare number meant nothing to a reader)."""
    numbers = {e.document_id for e in events if e.document_id}
    if not numbers:
        return {}
    docs = db().exec(select(Document).where(col(Document.id).in_(numbers))).all()
    batches = {b.id: b for b in db().exec(select(Batch).where(
        col(Batch.id).in_({d.batch_id for d in docs if d.batch_id})))}
    return {d.id: {"hash": d.content_hash,
                   "anchored": d.batch_id in batches
                   and batches[d.batch_id].state in ON_CHAIN_STATES} for d in docs}


def today() -> date:
    return clock.today()


# Marked for the catalogues and translated when read, through the request's catalogue
# (a list shows a status on every row).
STATUS_WORDS = {
    "pending": N_("Awaiting confirmation"), "confirmed": N_("Confirmed"),
    # pending, but its buyer is no anchor firm: nobody on Trellis can confirm it
    "unconfirmable": N_("Buyer is not an anchor firm: cannot be confirmed"),
    "rejected": N_("Rejected"), "held": N_("Held"), "financed": N_("Financed"),
    "split": N_("Split up"), "transferred": N_("Transferred"), "settled": N_("Settled"),
    "active": N_("Active"), "overdue": N_("Overdue"), "repaid": N_("Repaid"),
    "cooled_off": N_("Repaid in cooling-off"), "cancelled": N_("Cancelled"),
    "written_off": N_("Written off"), "submitted": N_("Submitted"),
    "collection": N_("Overdue (passed to collection)"),
    # an application's review states: the ledger's words, the ones its refusals use
    "review": APPLICATION_WORDS[ApplicationStatus.REVIEW],
    "second_approval": APPLICATION_WORDS[ApplicationStatus.SECOND_APPROVAL],
    "approved": APPLICATION_WORDS[ApplicationStatus.APPROVED], "declined": N_("Declined"),
    "accepted": N_("Accepted"), "expired": N_("Expired"), "open": N_("Available to draw"),
    "applied": N_("In effect"),
}
# Words that differ by what the status is of: a loan is not "awaiting confirmation" but
# awaiting pay-out, a voucher is not "repaying" but in force.
KIND_STATUS_WORDS = {
    # the ledger's one word per state (reader 13, G24: 正常 on one page, 还款中 on another)
    "loan": {**{str(k.value): v for k, v in loan_status.LABELS.items()},
             "collection": loan_status.COLLECTION},
    "voucher": {"active": N_("In force"), "settled": N_("Paid at maturity")},
    "fragment": {"settled": N_("Paid at maturity")},
    # an application reads as the ledger words it in a refusal ("... is already in
    # application 12 (waiting for review)"): one word for one state, page and message
    "application": {str(k.value): v for k, v in APPLICATION_WORDS.items()},
    # a change of the payout account waits its safety delay, then takes effect (nothing
    # of it is confirmed: 待确权 is an anchor's confirmation of an invoice)
    "bank_change": {"pending": N_("Waiting to take effect"), "applied": N_("In effect"),
                    "cancelled": N_("Withdrawn")},
}


def state_for(status: object, buyer_role: object) -> str:
    """The status to show for a document in *status* sold to a buyer of *buyer_role*: only
    an anchor firm confirms (确权), so a document waiting on any other buyer is
    ``unconfirmable``. One rule for the lists, the overviews and the home page."""
    if str(status) == "pending" and str(buyer_role) != "anchor":
        return "unconfirmable"
    return str(status)


def doc_state(doc, buyer: Firm) -> str:
    """The status to show for invoice or order *doc* sold to *buyer* (:func:`state_for`)."""
    return state_for(doc.status, buyer.role)


def tier2_buyers(firm: Firm, buyer_ids: list[int] | None = None) -> list[tuple[Firm, list[str]]]:
    """Buyers of *firm*'s waiting documents that are suppliers themselves (the firm is tier
    2), or only those of *buyer_ids*: only an anchor firm confirms, so each comes with the
    names of the anchors it sells to, whose vouchers it can pass on."""
    from trellis.trade.models import DocStatus, Invoice, PurchaseOrder, Relationship

    waiting = select(Invoice.buyer_id).where(Invoice.seller_id == firm.id,
                                             Invoice.status == DocStatus.PENDING)
    ordered = select(PurchaseOrder.buyer_id).where(PurchaseOrder.seller_id == firm.id,
                                                   PurchaseOrder.status == DocStatus.PENDING)
    query = select(Firm).where(Firm.role != "anchor", Firm.id.in_(waiting.union(ordered)))
    if buyer_ids is not None:
        query = query.where(Firm.id.in_(buyer_ids))
    out = []
    for buyer in db().exec(query.order_by(Firm.name).limit(20)).all():
        anchors = db().exec(select(Firm.name).join(Relationship, Relationship.buyer_id == Firm.id)
                            .where(Relationship.supplier_id == buyer.id, Firm.role == "anchor")
                            .order_by(Firm.name)).all()
        out.append((buyer, list(anchors)))
    return out


def status_labels() -> dict[str, str]:
    """Every status of :data:`STATUS_WORDS` in the reader's language."""
    return {key: translate(text) for key, text in STATUS_WORDS.items()}


def status_label(status, kind: str = "") -> str:
    """A document, fragment, loan or application status in plain words (translated);
    *kind* ("loan", "voucher", "fragment", "bank_change") picks the words for that kind
    of record."""
    key = str(status)
    found = KIND_STATUS_WORDS.get(kind, {}).get(key) or STATUS_WORDS.get(key)
    if found is None:
        return key
    text = translate(found)   # the ledger's words are for mid-sentence: capitalised here
    return text[:1].upper() + text[1:]


#: the status tabs' words where a status's own words are too long for a tab on a phone
#: (390 px): the tab's page says the rest (see ``trade.html``)
TAB_WORDS = {"unconfirmable": N_("Cannot be confirmed")}


def status_tab(status) -> str:
    """A status as the list's tab names it: short (translated)."""
    found = TAB_WORDS.get(str(status))
    return translate(found) if found is not None else status_label(status)


def install(bp) -> None:
    """Give templates the shared helpers (a global, so imported macros see it too)."""
    bp.add_app_template_global(status_label, "status_label")
    bp.add_app_template_global(status_tab, "status_tab")


def read_here(path: str | None = None) -> None:
    """Mark read the signed-in user's messages about the page at *path* (this request's
    page by default): opening an offer, a loan, a document or a voucher is reading what
    its messages say (reader 13: an offer's message stayed 新 after it was opened and
    signed). Commits when one was unread."""
    if notifications.read_about(session=db(), user_id=current_user.id,
                                link=path or request.path):
        commit()
