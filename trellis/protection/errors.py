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
