"""Errors of the accounts area."""

from trellis.errors import N_, Conflict, PermissionDenied, TrellisError, ValidationError


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


class ResetThrottled(TrellisError):
    """Raised when too many password resets were asked for one e-mail or from one address
    recently (said the same whether or not the e-mail has an account)."""

    code = "reset_throttled"
    status = 429
    template = N_("Too many password reset requests. Wait an hour and try again.")


class BadResetToken(TrellisError):
    """Raised when a password reset link is unknown, used already or expired (one message
    for all three: the link gives nothing away)."""

    code = "bad_reset_token"
    status = 400
    template = N_("This password reset link is not valid: it was used already, it "
                  "expired, or it is incomplete. Ask for a new one.")


class EmailTaken(Conflict):
    """Raised when a user with that e-mail already exists."""

    code = "email_taken"


__all__ = ["BadCredentials", "BadResetToken", "BadToken", "EmailTaken", "LoginThrottled",
           "ResetThrottled", "ValidationError"]
