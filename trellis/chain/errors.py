"""Exceptions of the chain area. Each message says what happened and what to do."""

from __future__ import annotations

from typing import Any

from trellis.errors import Conflict, NotFound, ValidationError
from trellis.errors import TrellisError as TrellisError  # re-exported for the chain's callers


class ChainError(TrellisError):
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

    def __init__(self, message: str, *, nonce_used: bool = False) -> None:
        super().__init__(message)
        self.nonce_used = nonce_used


class TransactionReverted(ChainError):
    """Raised when the contract refuses a transaction; ``reason`` is its revert string."""

    code = "chain_reverted"
    status = 409

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
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
