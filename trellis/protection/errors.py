"""Errors of the protection area."""

from trellis.errors import Conflict, NotFound, PermissionDenied, ValidationError


class WarningNotFound(NotFound):
    """Raised when a fraud warning does not exist."""

    code = "warning_not_found"


class BadWarning(ValidationError):
    """Raised when a warning's text or audience is not valid."""

    code = "bad_warning"


class ReauthenticationFailed(PermissionDenied):
    """Raised when the password given to confirm a sensitive change is wrong."""

    code = "reauthentication_failed"
    status = 403


class BadAccount(ValidationError):
    """Raised when a bank account number is not plausible."""

    code = "bad_account"


class ChangePending(Conflict):
    """Raised when a bank-account change is already waiting for the firm."""

    code = "change_pending"


class ChangeNotFound(NotFound):
    """Raised when a bank-account change request does not exist or is not the firm's."""

    code = "change_not_found"


class NotPlatformAccount(ValidationError):
    """Raised when a vendor is about to repay to an account that is not Trellis's."""

    code = "not_platform_account"


class ConsentMissing(ValidationError):
    """Raised when a payout account is declared without ticking the consent to pay-outs
    into it, or without the firm's consent to the use of its bank account data."""

    code = "payout_consent_missing"


class HolderMismatch(ValidationError):
    """Raised when a payout account's holder is not the firm's registered name."""

    code = "payout_holder_mismatch"


class NoPayoutAccount(Conflict):
    """Raised when a loan would be paid out but its firm has no consented payout account."""

    code = "no_payout_account"


class PayoutAccountChanged(Conflict):
    """Raised when a loan would be paid out but the firm's payout account changed after
    the vendor consented to it for that loan: the vendor must consent again."""

    code = "payout_account_changed"


class NotOwnPayoutAccount(PayoutAccountChanged):
    """Raised when the payout account named for a loan (at acceptance, or consenting again)
    is not one of the firm's own consented accounts: another firm's, or none. Its message
    names no account, so a refusal never discloses another firm's bank or digits."""

    code = "payout_account_not_own"


class SettlementChangeRefused(Conflict):
    """Raised when a settlement account proposal cannot be decided: it is not open, or its
    proposer tries to approve it (a second administrator must)."""

    code = "settlement_change_refused"
