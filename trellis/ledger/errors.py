"""Exceptions of the ledger area.

Every exception derives from :mod:`trellis.errors` and carries a message a user (an RM, a
vendor, an operator) can act on. Illegal loan status moves each have their own class, so a
caller can tell "cannot disburse" from "cannot write off" without parsing text.
"""

from __future__ import annotations

from typing import Any

from trellis.errors import Conflict, NotFound, PermissionDenied, ValidationError
from trellis.messages import Message


class UnbalancedEntry(ValidationError):
    """Raised when a journal entry's postings do not sum to zero (per value date) or when
    it has fewer than two postings."""

    code = "unbalanced_entry"


class UnknownAccount(ValidationError):
    """Raised when a posting names an account that is not in the chart of accounts."""

    code = "unknown_account"


class IdempotencyMismatch(Conflict):
    """Raised when an idempotency key is reused for a different command (other loan,
    amount or date): the original is kept, the new one refused."""

    code = "idempotency_mismatch"


class LedgerTampered(Conflict):
    """Raised by :func:`trellis.ledger.reports.verify_chain` callers that want an exception
    when a stored hash does not match its recomputed value."""

    code = "ledger_tampered"


class ProductNotFound(NotFound):
    """Raised when no active product has the requested code."""


class LoanNotFound(NotFound):
    """Raised when a loan id does not exist (or is not visible to the caller)."""


class ApplicationNotFound(NotFound):
    """Raised when an application id does not exist."""


class OfferNotFound(NotFound):
    """Raised when an offer id does not exist."""


class IneligibleDocument(ValidationError):
    """Raised when an invoice or order cannot back a loan (not the applicant's, not
    confirmed, already due, already financed)."""

    code = "ineligible_document"


class OfferAboveCap(Conflict):
    """Raised when the annualised rate of an offer (IRR including every fee) would exceed
    the legal cap; no offer is made."""

    code = "offer_above_cap"


class OfferExpired(Conflict):
    """Raised when a vendor accepts an offer after its validity date."""

    code = "offer_expired"


class OfferOutdated(Conflict):
    """Raised when an offer promised a first loan's cooling-off but the firm has had a
    loan since it was made (two offers accepted at once: only one loan is first)."""

    code = "offer_outdated"


class SameApprover(PermissionDenied):
    """Raised when the second approver of a large loan is the person who approved first
    (maker-checker)."""

    code = "same_approver"


class LimitExceeded(Conflict):
    """Raised when a draw would take a revolving line above its limit."""

    code = "limit_exceeded"


class BadRepayment(ValidationError):
    """Raised for a repayment with a non-positive amount, an amount above the product's
    maximum, an empty idempotency key or a date before disbursement."""

    code = "bad_repayment"


class BadDate(ValidationError):
    """Raised for a business date that is not ``YYYY-MM-DD`` or lies in the future
    (``future`` is then true)."""

    code = "bad_date"

    def __init__(self, message: str | Message, *, future: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.future = future


# --- illegal status moves: one class per target -----------------------------------------

class IllegalTransition(Conflict):
    """Base of every illegal loan or application status move."""

    code = "illegal_transition"


class CannotDisburse(IllegalTransition):
    """Raised when a loan that is not awaiting disbursement is disbursed."""


class CannotCancel(IllegalTransition):
    """Raised when a loan that has already been paid out is cancelled."""


class CannotMarkOverdue(IllegalTransition):
    """Raised when a loan that is not active is marked overdue."""


class CannotCure(IllegalTransition):
    """Raised when a loan that is not overdue is returned to active."""


class CannotSettle(IllegalTransition):
    """Raised when a loan that is not active or overdue is marked repaid."""


class CannotCoolOff(IllegalTransition):
    """Raised when a cooling-off settlement is applied to a loan that is not live."""


class CannotWriteOff(IllegalTransition):
    """Raised when a loan that is not overdue is written off."""


class CannotRepay(IllegalTransition):
    """Raised when money is applied to a loan that is not active or overdue (a closed or
    written-off loan: use a recovery or a vendor refund instead)."""


class CannotRecover(IllegalTransition):
    """Raised when a recovery is booked on a loan that was not written off."""


class CannotDecide(IllegalTransition):
    """Raised when an application that is not awaiting a decision is approved or declined."""


class CannotAccept(IllegalTransition):
    """Raised when an offer that is not open is accepted."""


class BadShardCount(ValidationError):
    """Raised when the journal is asked for fewer shards than it has (a shard's chain
    holds entries and anchored history: it is never removed) or for a count outside 1
    to :data:`trellis.ledger.posting.MAX_SHARDS`."""

    code = "bad_shard_count"
