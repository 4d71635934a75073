"""Exceptions of the chain area. Each message says what happened and what to do."""

from __future__ import annotations

from typing import Any

from trellis.errors import Conflict, NotFound, ValidationError
from trellis.errors import TrellisError as TrellisError  # re-exported for the chain's callers
from trellis.messages import DETAIL_LIMIT, Message


class WithDetail(TrellisError):
    """An error whose message people read is a catalogued template (what happened, what
    to do), with a library's own text (web3's, the node's, the JSON parser's) as *detail*:
    kept as the ``detail`` parameter, which no template shows (an administrator's
    technical section does, see :func:`trellis.messages.technical_detail`), and added to
    the English ``message`` for the log and the command line."""

    def __init__(self, message: str | Message | None = None, *, detail: str = "",
                 **kwargs: Any) -> None:
        detail = str(detail)[:DETAIL_LIMIT]
        if detail:
            kwargs["params"] = {**(kwargs.get("params") or {}), "detail": detail}
        super().__init__(message, **kwargs)
        if detail and "%(detail)" not in self.template:
            self.message = f"{self.message} ({detail})"
            self.args = (self.message,)


def detail_of(exc: BaseException) -> str:
    """The technical text *exc* carries (see :class:`WithDetail`; "" for a Trellis error
    without one), or a library exception's own text."""
    if isinstance(exc, TrellisError):
        return str(exc.params.get("detail") or "")
    return f"{type(exc).__name__}: {exc}"[:DETAIL_LIMIT]


class ChainError(WithDetail):
    """Raised for a chain failure that is neither the node being away nor a setting."""

    code = "chain_error"
    status = 502


class ChainUnavailable(ChainError):
    """Raised when the Ethereum node does not answer. Nothing is lost: work waits."""

    code = "chain_unavailable"
    status = 503


class ChainMisconfigured(ChainError):
    """Raised when the node's chain id is not the configured one, the contract is missing
    or its code is not Trellis's registry, or the signing key is unusable. Anchoring stops
    until an administrator fixes the setting named in the message."""

    code = "chain_misconfigured"
    status = 503


class FeeCeilingReached(ChainError):
    """Raised when a stuck transaction needs higher fees than TRELLIS_CHAIN_MAX_FEE_GWEI
    allows: it is left waiting and an alert is raised (health shows it)."""

    code = "chain_fee_ceiling"
    status = 503
    PREFIX = "fee ceiling reached"  # every message starts so (kept in Batch.last_error)


class TxRefused(ChainError):
    """Raised when the node refuses a transaction; ``nonce_used`` when its nonce is
    taken (the transaction itself may have been mined: look for its receipt)."""

    def __init__(self, message: str | Message, *, nonce_used: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.nonce_used = nonce_used


class TransactionReverted(ChainError):
    """Raised when the contract refuses a transaction; ``reason`` is its revert string."""

    code = "chain_reverted"
    status = 409

    def __init__(self, message: str | Message, *, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class DoubleFinancing(Conflict):
    """Raised by :func:`trellis.chain.registry.register_financing` when a fingerprint of the
    invoice or order is already registered on chain, by Trellis or another financier."""

    code = "double_financing"

    def __init__(self, message: str, *, subjects: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.subjects = subjects or []


class DocumentChanged(Conflict):
    """Raised when a document is queued again under the same id with different content."""

    code = "document_changed"


class CanonicalFormError(ValidationError):
    """Raised when a payload cannot be put in canonical form; ``field`` names the field."""

    code = "canonical_form"


class ProofNotReady(Conflict):
    """Raised when a proof is asked for a document whose batch is not included yet."""

    code = "proof_not_ready"


class DocumentNotFound(NotFound):
    """Raised when no queued or anchored document has the given id."""


class BundleError(ValidationError):
    """Raised when a proof bundle file is not a Trellis proof bundle."""

    code = "bad_bundle"
