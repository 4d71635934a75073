"""Errors of the accounts area."""

from trellis.errors import Conflict, PermissionDenied, TrellisError, ValidationError


class LoginThrottled(TrellisError):
    """Raised when too many failed logins came for one e-mail or address recently."""

    code = "login_throttled"
    status = 429

    def __init__(self, template: str, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


class BadCredentials(PermissionDenied):
    """Raised when the e-mail or password is wrong (never says which)."""

    code = "bad_credentials"
    status = 401


class BadToken(PermissionDenied):
    """Raised when an API token is unknown, malformed or revoked."""

    code = "bad_token"
    status = 401


class EmailTaken(Conflict):
    """Raised when a user with that e-mail already exists."""

    code = "email_taken"


__all__ = ["BadCredentials", "BadToken", "EmailTaken", "LoginThrottled", "ValidationError"]
