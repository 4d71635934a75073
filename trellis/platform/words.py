"""Codes the cores store, in words a person reads: the one place pages name them.

The cores keep short codes (a consent purpose ``trade_data``, a journal entry kind
``disbursement``, a days-past-due bucket ``current``, a cluster kind ``industrial_park``);
a page never shows a code itself. Each group below names every code of one kind of value,
translated through the catalogues (``lazy_gettext``); templates call the global
``word(group, code)``, views :func:`word`. A code nobody gave words to reads as the
group's fallback ("other"), never as the raw code (tests/platform/test_words.py checks
that every code the cores define has words).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trellis.messages import Message
from trellis.platform.i18n import render

WORDS: dict[str, dict[str, object]] = {
    # accounts.CONSENT_PURPOSES: what a firm allows Trellis to use
    "consent": {
        "trade_data": _l("Trade data"),
        "credit_query": _l("Credit bureau queries"),
        "bank_account": _l("Bank account data"),
    },
    # trade.models.Cluster.kind
    "cluster_kind": {
        "industrial_park": _l("An industrial park"),
        "startup_base": _l("A startup base"),
    },
    # onboarding.models.SCOPE_*: what a data basis allows
    "basis_scope": {
        "pre_assessment": _l("Pre-assessment only (no credit decisions)"),
    },
    # ledger.lifecycle.BUCKETS: days past due
    "dpd_bucket": {
        "current": _l("Not past due"),
        "1-30": _l("1-30 days past due"),
        "31-60": _l("31-60 days past due"),
        "61-90": _l("61-90 days past due"),
        "90+": _l("Over 90 days past due"),
    },
    # ledger.journal.EntryKind
    "entry_kind": {
        "disbursement": _l("Pay-out"),
        "accrual": _l("Interest accrual"),
        "repayment": _l("Repayment"),
        "write_off": _l("Write-off"),
        "recovery": _l("Recovery after write-off"),
        "provision": _l("Loss allowance"),
        "payout": _l("Surplus paid out"),
        "reversal": _l("Reversal"),
    },
    # ledger.models.Repayment.source: who paid
    "payment_source": {
        "vendor": _l("The borrower"),
        "anchor": _l("The buyer (anchor)"),
        "recovery": _l("Recovery"),
    },
    # assistant.actions: what the assistant may propose and a person confirm
    "assistant_action": {
        "apply": _l("Apply for financing"),
        "repay": _l("Repay a loan"),
        "withdraw_consent": _l("Withdraw a consent"),
    },
    # onboarding.models.ImportKind: what a file or an import holds
    "import_kind": {
        "firms": _l("Firms"),
        "relationships": _l("Trading relationships"),
        "orders": _l("Orders"),
        "invoices": _l("Invoices"),
        "payments": _l("Payments"),
        "deliveries": _l("Deliveries"),
        "credit_notes": _l("Credit notes and returns"),
        "confirmations": _l("Confirmation status"),
        "tax_filings": _l("Tax filings"),
        "loans": _l("Historical loans"),
        "utility_readings": _l("Utility readings"),
        "headcount": _l("Social-insurance headcount"),
    },
    # the chain check page: what was uploaded
    "upload_kind": {
        "bundle": _l("Proof bundle"),
        "document": _l("Document"),
    },
    # vouchers.models.EventKind: what happened to a voucher
    "voucher_event": {
        "issue": _l("Voucher issued"),
        "split": _l("Part split off"),
        "transfer": _l("Part transferred"),
        "finance": _l("Part financed"),
        "settle": _l("Paid at maturity"),
    },
    # assistant.models.Ticket.reason: why the assistant handed a conversation to a person
    "handover_reason": {
        "human": _l("Asked for a person"),
        "complaint": _l("Complaint"),
        "fraud_call": _l("Customer asked about a possible scam"),
        "bank_account": _l("Bank account change"),
        "limit_change": _l("Limit change request"),
        "other_firm": _l("A question about another firm"),
        "low_confidence": _l("The assistant could not answer"),
        "service_error": _l("Records could not be read"),
        "ungrounded": _l("Answer failed the figure check"),
    },
    # who did something when no person did (accounts.services.record's actor label)
    "actor": {
        "system": _l("Trellis (automatic)"),
    },
    # trellis.chain.models.AuditRun.state: a chain audit's progress
    "audit_state": {
        "queued": _l("queued"),
        "running": _l("running"),
        "done": _l("Completed"),
        "failed": _l("failed"),
    },
    # accounts.models.User.role: who a user is
    "role": {
        "admin": _l("Administrator"),
        "rm": _l("Relationship manager"),
        "vendor": _l("Vendor"),
        "anchor": _l("Anchor firm"),
        "auditor": _l("Auditor"),
    },
    # how a vendor registered
    "registration": {
        "invitation": _l("From an invitation"),
        "form": _l("With the registration form"),
    },
}

FALLBACK = _l("Other")


def word(group: str, code) -> str:
    """*code* of *group* (a key of :data:`WORDS`) in the reader's language; a code without
    words reads as "other", never as itself."""
    found = WORDS.get(group, {}).get(str(code))
    return str(found if found is not None else FALLBACK)


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


def install(app) -> None:
    """Give every template ``word``, ``scope_words`` and the ``outcome`` filter."""
    app.jinja_env.globals["word"] = word
    app.jinja_env.globals["scope_words"] = scope_words
    app.jinja_env.filters["outcome"] = message_text
