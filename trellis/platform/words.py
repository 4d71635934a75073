"""Codes the cores store, in words a person reads: the one place pages name them.

The cores keep short codes (a consent purpose ``trade_data``, a journal entry kind
``disbursement``, a days-past-due bucket ``current``, a cluster kind ``industrial_park``);
a page never shows a code itself. Each group below names every code of one kind of value,
marked for the catalogues (``N_``) and translated when read, through the request's
catalogue (a list calls :func:`word` for every row); templates call the global
``word(group, code)``, views :func:`word`. A code nobody gave words to reads as the
group's fallback ("other"), never as the raw code (tests/platform/test_words.py checks
that every code the cores define has words).
"""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from trellis import hashes
from trellis.ledger.models import OfferStatus
from trellis.ledger.status import APPLICATION_WORDS, OFFER_WORDS
from trellis.ledger.status import COLLECTION as LOAN_COLLECTION
from trellis.ledger.status import LABELS as LOAN_WORDS
from trellis.messages import N_, Message, technical_detail
from trellis.platform.i18n import render, translate

WORDS: dict[str, dict[str, str]] = {
    # accounts.CONSENT_PURPOSES: what a firm allows Trellis to use
    "consent": {
        "trade_data": N_("Trade data"),
        "credit_query": N_("Credit bureau queries"),
        "bank_account": N_("Bank account data"),
    },
    # trade.models.Cluster.kind
    "cluster_kind": {
        "industrial_park": N_("An industrial park"),
        "startup_base": N_("A startup base"),
    },
    # onboarding.models.SCOPE_*: what a data basis allows
    "basis_scope": {
        "pre_assessment": N_("Pre-assessment only (no credit decisions)"),
    },
    # ledger.lifecycle.BUCKETS: days past due
    "dpd_bucket": {
        "current": N_("Not past due"),
        "1-30": N_("1-30 days past due"),
        "31-60": N_("31-60 days past due"),
        "61-90": N_("61-90 days past due"),
        "90+": N_("Over 90 days past due"),
    },
    # ledger.models.LoanStatus, ApplicationStatus, OfferStatus and a credit line's "open":
    # the staff's loan book and application pages (ledger/_status.html)
    "ledger_status": {
        # a loan's: the ledger's one word per state (reader 13, G24)
        **{str(k.value): v for k, v in LOAN_WORDS.items()},
        "collection": LOAN_COLLECTION,
        # an application's states: the ledger's words, the ones its refusals use
        **{str(k.value): v for k, v in APPLICATION_WORDS.items()},
        "open": N_("available to draw"),
        # an offer void since another loan of the firm paid out (reader 13, J2)
        "superseded": OFFER_WORDS[OfferStatus.SUPERSEDED],
    },
    # ledger.journal.EntryKind
    "entry_kind": {
        "disbursement": N_("Pay-out"),
        "accrual": N_("Interest accrual"),
        "repayment": N_("Repayment"),
        "write_off": N_("Write-off"),
        "recovery": N_("Recovery after write-off"),
        "provision": N_("Loss allowance"),
        "payout": N_("Surplus paid out"),
        "reversal": N_("Reversal"),
    },
    # ledger.models.Repayment.source: who paid
    "payment_source": {
        "vendor": N_("The borrower"),
        "anchor": N_("The buyer (anchor)"),
        "recovery": N_("Recovery"),
    },
    # assistant.actions: what the assistant may propose and a person confirm
    "assistant_action": {
        "apply": N_("Apply for financing"),
        "repay": N_("Repay a loan"),
        "withdraw_consent": N_("Withdraw a consent"),
    },
    # onboarding.models.ImportKind: what a file or an import holds
    "import_kind": {
        "firms": N_("Firms"),
        "relationships": N_("Trading relationships"),
        "orders": N_("Orders"),
        "invoices": N_("Invoices"),
        "payments": N_("Payments"),
        "deliveries": N_("Deliveries"),
        "credit_notes": N_("Credit notes and returns"),
        "confirmations": N_("Confirmation status"),
        "tax_filings": N_("Tax filings"),
        "loans": N_("Historical loans"),
        "utility_readings": N_("Utility readings"),
        "headcount": N_("Social-insurance headcount"),
    },
    # the chain check page: what was uploaded
    "upload_kind": {
        "bundle": N_("Proof bundle"),
        "document": N_("Document"),
    },
    # vouchers.models.EventKind: what happened to a voucher
    "voucher_event": {
        "issue": N_("Voucher issued"),
        "split": N_("Part split off"),
        "transfer": N_("Part transferred"),
        "finance": N_("Part financed"),
        "settle": N_("Paid at maturity"),
    },
    # assistant.models.Ticket.reason: why the assistant handed a conversation to a person
    "handover_reason": {
        "human": N_("Asked for a person"),
        "complaint": N_("Complaint"),
        "fraud_call": N_("Customer asked about a possible scam"),
        "bank_account": N_("Bank account change"),
        "limit_change": N_("Limit change request"),
        "other_firm": N_("A question about another firm"),
        "low_confidence": N_("The assistant could not answer"),
        "service_error": N_("Records could not be read"),
        "ungrounded": N_("Answer failed the figure check"),
    },
    # who did something when no person did (accounts.services.record's actor label)
    "actor": {
        "system": N_("Trellis (automatic)"),
    },
    # trellis.chain.models.AuditRun.state: a chain audit's progress
    "audit_state": {
        "queued": N_("queued"),
        "running": N_("running"),
        "done": N_("Completed"),
        "failed": N_("failed"),
    },
    # accounts.models.User.role: who a user is
    "role": {
        "admin": N_("Administrator"),
        "rm": N_("Relationship manager"),
        "vendor": N_("Vendor"),
        "anchor": N_("Anchor firm"),
        "auditor": N_("Auditor"),
    },
    # how a vendor registered
    "registration": {
        "invitation": N_("From an invitation"),
        "form": N_("With the registration form"),
    },
}

FALLBACK = N_("Other")


def word(group: str, code) -> str:
    """*code* of *group* (a key of :data:`WORDS`) in the reader's language; a code without
    words reads as "other", never as itself."""
    found = WORDS.get(group, {}).get(str(code))
    return translate(found if found is not None else FALLBACK)


def has_word(group: str, code) -> bool:
    """Whether *code* of *group* has words of its own."""
    return str(code) in WORDS.get(group, {})


def scope_words(scope: str) -> str:
    """A data basis's stored scope (``pre_assessment: <the agreement's words>``) as read:
    the kind in words, then the agreement's own words."""
    kind, _sep, own = (scope or "").partition(":")
    if not has_word("basis_scope", kind.strip()):
        return scope or ""
    own = own.strip()
    if not own:
        return word("basis_scope", kind.strip())
    return _("%(label)s: %(value)s", label=word("basis_scope", kind.strip()), value=own)


def message_text(value) -> str:
    """A stored message (see :class:`trellis.messages.Message`) or plain text, rendered
    for the reader; used for outcomes the cores record."""
    return render(Message.loads(value) if isinstance(value, str) else value)


def short_hash(value: str | None) -> Markup:
    """A hash as every page shows it (:mod:`trellis.hashes`): its first and last
    characters, the full value on hover (``title``) and in a copy: the middle stays in
    the text at size 0, and the ellipsis shown in its place is not copied (reader Q10,
    tenth session). ``—`` for none."""
    if not value:
        return Markup("—")
    found = hashes.parts(value)
    if found is None:
        return Markup('<span class="mono hash" translate="no">%s</span>') % value
    head, middle, tail = (escape(p) for p in found)
    return Markup('<span class="mono hash" translate="no" title="{v}" data-hash="{v}">{h}'
                  '<span class="hash-gap" aria-hidden="true">{e}</span>'
                  '<span class="hash-mid">{m}</span>{t}</span>').format(
        v=escape(value), h=head, e=hashes.ELLIPSIS, m=middle, t=tail)


def product_name(product, *, voucher: bool = False) -> str:
    """*product* (a ``loan_products`` row) as every page names it, in the reader's
    language; with *voucher*, as the product of voucher parts' financing
    (凭证融资（应收账款融资）). The one naming of a product (reader 13, G24: the loan list and
    the loan page named one loan's product differently)."""
    from flask_babel import get_locale

    from trellis.vouchers.models import financing_product

    name = product.name_zh if get_locale().language == "zh" else product.name
    return render(financing_product(name)) if voucher else name


def loan_products(loans) -> dict[int, str]:
    """Each of *loans*' product as :func:`product_name` names it, by loan id: two
    statements whatever the number of loans (the products, and which loans finance
    voucher parts)."""
    from sqlmodel import col, select

    from trellis.ledger.models import LoanFragment, Product
    from trellis.platform.web import db

    loans = list(loans)
    if not loans:
        return {}
    products = {p.id: p for p in db().scalars(select(Product).where(
        col(Product.id).in_({loan.product_id for loan in loans})))}
    vouchers = set(db().scalars(select(col(LoanFragment.loan_id)).where(
        col(LoanFragment.loan_id).in_([loan.id for loan in loans]))))
    return {loan.id: product_name(products[loan.product_id], voucher=loan.id in vouchers)
            for loan in loans}


def borrower_state(loan) -> str:
    """The state code under which *loan*'s borrower reads it (``ledger_status`` words):
    a written-off loan still owed is ``collection``, one paid back in full ``repaid``
    (:func:`trellis.ledger.status.borrower_word`); any other its own status."""
    from trellis.ledger import lifecycle

    if loan.status == "written_off":
        return "collection" if lifecycle.owed_by_borrower(loan) > 0 else "repaid"
    return str(loan.status)


def install(app) -> None:
    """Give every template ``word``, ``scope_words``, the ``outcome`` filter and the one
    ``short_hash`` filter for hashes."""
    from trellis.vouchers.models import financing_product

    app.jinja_env.globals["word"] = word
    # a voucher-financing product in the same words on every page (a voucher part's name
    # comes from trellis.vouchers.naming, given by the view)
    app.jinja_env.globals["voucher_financing"] = \
        lambda product: render(financing_product(product))
    app.jinja_env.globals["scope_words"] = scope_words
    app.jinja_env.globals["product_name"] = product_name
    app.jinja_env.globals["borrower_state"] = borrower_state
    app.jinja_env.filters["outcome"] = message_text
    app.jinja_env.filters["technical_detail"] = technical_detail
    app.jinja_env.filters["short_hash"] = short_hash
