"""Errors of the vouchers area; each message tells the user what to do."""

from trellis.errors import Conflict, NotFound, ValidationError


class VoucherNotFound(NotFound):
    """Raised when a voucher, fragment or payable does not exist or is not the caller's."""

    code = "voucher_not_found"


class NotConfirmed(Conflict):
    """Raised when an anchor issues a voucher against a payable it has not confirmed."""

    code = "not_confirmed"


class AlreadyIssued(Conflict):
    """Raised when a voucher already exists for the payable."""

    code = "already_issued"


class AlreadyFinanced(Conflict):
    """Raised when the payable (or the fragment) is already pledged for a loan."""

    code = "already_financed"


class TenorTooLong(ValidationError):
    """Raised when a maturity lies beyond the allowed tenor (or not after the issue date)."""

    code = "tenor_too_long"


class NotLive(Conflict):
    """Raised when a fragment was already split, transferred, financed or settled, or the
    voucher has matured."""

    code = "fragment_not_live"


class InApplication(Conflict):
    """Raised when a part a live application asks for is split or passed on."""

    code = "fragment_in_application"


class BadSplit(ValidationError):
    """Raised when the parts of a split are not positive or do not sum to the whole."""

    code = "bad_split"


class NotASupplier(ValidationError):
    """Raised when a holder transfers to a firm that is not one of its suppliers."""

    code = "not_a_supplier"


class NotMatured(Conflict):
    """Raised when a voucher is settled before its maturity date."""

    code = "not_matured"


class SettlementIncomplete(Conflict):
    """Raised by the daily settlement when some matured vouchers could not be settled;
    its message says how many were and, for each one that was not, why. Those that
    were settled stay settled; the others stay active for the next run."""

    code = "settlement_incomplete"


class LoanNotLive(Conflict):
    """Raised when a financed part of a voucher repays a loan that can no longer take
    payments (closed or written off)."""

    code = "loan_not_live"
