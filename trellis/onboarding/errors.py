"""Exceptions of the onboarding area: refused imports and files, invitation codes. Each
message tells the user what to do."""

from __future__ import annotations

from trellis.errors import Conflict, NotFound, TrellisError, ValidationError
from trellis.messages import Message


class ImportRefused(ValidationError):
    """Raised when an uploaded file fails validation; nothing was written.

    ``errors`` lists the problems found as :class:`trellis.onboarding.importer.RowError`
    (at most ``importer.MAX_ERRORS``); ``count`` is how many there were in all.
    """

    code = "import_refused"

    def __init__(self, message: str | Message, *, errors=(), count: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = list(errors)
        self.count = len(self.errors) if count is None else count


class FileTooLarge(ValidationError):
    """Raised when an upload exceeds ``settings.upload_max_bytes``."""

    code = "file_too_large"
    status = 413


class UnreadableFile(ValidationError):
    """Raised when a file is neither CSV nor XLSX, or its text encoding cannot be read."""

    code = "unreadable_file"


class BadFileContent(UnreadableFile):
    """Raised when a file's content is refused (e.g. a NUL character in its text).

    ``template`` and ``params`` let the web layer translate the message.
    """

    code = "bad_file_content"

    def __init__(self, template: str, **params):
        super().__init__(template % params, field="file")
        self.template = template
        self.params = params


class FileLimitExceeded(BadFileContent):
    """Raised when a file is over a reading limit (uncompressed size, zip entries, rows,
    columns) or is compressed like a zip bomb; found while streaming, before the whole
    file is read."""

    code = "file_limit_exceeded"
    status = 413


class InvitationInvalid(NotFound):
    """Raised when an invitation code is unknown."""

    code = "invitation_invalid"


class InvitationUsed(Conflict):
    """Raised when an invitation code has already been redeemed or was revoked."""

    code = "invitation_used"


class InvitationExpired(TrellisError):
    """Raised when an invitation code has passed its expiry time."""

    code = "invitation_expired"
    status = 410


class AmbiguousBuyer(ValidationError):
    """Raised (on field ``buyer``) when what a vendor typed in the buyer box fits several
    firms of its park; ``choices`` names the first few of them, as
    ``(entry, name, uscc)`` with the list entry that picks each
    (:func:`trellis.onboarding.trade_entry.buyer_entry`), so a page can offer them."""

    code = "ambiguous_buyer"

    def __init__(self, message: str | Message, *, choices=(), **kwargs):
        super().__init__(message, **kwargs)
        self.choices = list(choices)
