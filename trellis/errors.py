"""The root of every Trellis exception.

Each area has its own ``errors`` module whose exceptions derive from :class:`TrellisError`.
An error carries a machine ``code``, the HTTP ``status`` a view or the API should answer
with, and what to tell the user as an English ``template`` (``%(name)s`` placeholders,
marked with :func:`N_` for the catalogues) with typed ``params`` (a
:class:`~trellis.messages.Money` is fen shown in yuan). The web layer renders the template in
the reader's language (``trellis.platform.i18n.error_text``); ``message`` and ``str(exc)``
stay English, for logs and the command line.
"""

from __future__ import annotations

from trellis.messages import N_, Message, Money, Percent  # noqa: F401  (re-exported)


class TrellisError(Exception):
    """Raised for any expected failure the user can act on."""

    code = "error"
    status = 400

    #: the English template shown when an error is raised without a message
    template = N_("The request could not be completed.")

    def __init__(self, message: str | Message | None = None, *, params: dict | None = None,
                 code: str | None = None, status: int | None = None, zh: str = ""):
        if isinstance(message, Message):
            params = {**message.params, **(params or {})}
            message = message.template
        self.template = type(self).template if message is None else message
        self.params = dict(params or {})
        self.message = str(Message(self.template, self.params))
        self.message_zh = zh  # the same message in Chinese, when the core knows it
        super().__init__(self.message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationError(TrellisError):
    """Raised when input fails validation; ``field`` names the offending field or column."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str | Message | None = None, *, field: str | None = None,
                 **kwargs):
        super().__init__(message, **kwargs)
        self.field = field


class ValidationErrors(ValidationError):
    """Raised when several fields fail at once, so that a form can show every problem
    together: ``errors`` holds one :class:`ValidationError` per problem, in the form's
    order; the first one is also this error's message and ``field``."""

    def __init__(self, errors: list[ValidationError]):
        self.errors = list(errors)
        if not self.errors:   # nothing more precise to say
            super().__init__()
            return
        first = self.errors[0]
        super().__init__(first.template, params=first.params, field=first.field,
                         code=first.code, zh=first.message_zh)


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
