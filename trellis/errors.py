"""The root of every Trellis exception.

Each area has its own ``errors`` module whose exceptions derive from :class:`TrellisError`.
An error carries a plain-language ``message`` (safe to show to a user), a machine ``code``
and the HTTP ``status`` a view or the API should answer with.
"""

from __future__ import annotations


class TrellisError(Exception):
    """Raised for any expected failure the user can act on."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 zh: str = ""):
        super().__init__(message)
        self.message = message
        self.message_zh = zh  # the same message in Chinese, when the core knows it
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationError(TrellisError):
    """Raised when input fails validation; ``field`` names the offending field or column."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str, *, field: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.field = field


class NotFound(TrellisError):
    """Raised when a record does not exist or is not visible to the caller."""

    code = "not_found"
    status = 404


class PermissionDenied(TrellisError):
    """Raised when the caller's role or firm may not perform the action."""

    code = "forbidden"
    status = 403


class Conflict(TrellisError):
    """Raised when the action conflicts with the record's current state."""

    code = "conflict"
    status = 409


class ConfigError(TrellisError):
    """Raised at start-up when a TRELLIS_* variable is missing or malformed."""

    code = "config_error"
    status = 500
