"""Tables of the chain area.

- :class:`Document`: one document committed for anchoring: its canonical form, SHA-256
  content hash and random salt; ``queued`` until cut into a batch, then ``batched``.
- :class:`Batch`: a Merkle batch and its anchoring transaction; states
  ``pending -> submitted -> included -> safe -> finalized`` (a reorg or a lost chain sends
  it back to ``pending``).
- :class:`BatchLeaf`: a document's place in its batch's tree.
- :class:`ChainTx`: every signed transaction, recorded BEFORE it is sent (crash safety).
- :class:`Fingerprint`: a financing fingerprint Trellis registered on chain, with the
  claim (instance and financing) it was registered under.
- :class:`Instance`: this database's own random identity, made by its migration; it goes
  into every registration's claim, so that two databases sharing one anchoring key tell
  their registrations apart.
- :class:`Alert`: a chain condition an operator must see (fee ceiling reached, anchored
  roots the chain lost), raised and cleared by the jobs, shown by health.
- :class:`Reanchor`: a root the chain lost and Trellis anchored again: which batch, when
  it was found lost and why, the transaction and block it had, and the new ones once it
  is on chain again (the auditor reads them on the chain pages).
- :class:`AuditRun`: a full audit over a date range, its progress and report.
- :class:`NearFingerprint`: a coarse fingerprint of a document presented for financing
  (kept here only; a near-duplicate goes to review, see :mod:`trellis.chain.near_duplicates`).

Hashes and addresses are ``0x``-prefixed lower-case hex except ``content_hash`` and
``salt``, which are plain 64-digit hex (``sha256sum``'s form). Wei amounts are integers.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    BATCHED = "batched"


class BatchState(enum.StrEnum):
    PENDING = "pending"  # cut, not (or no longer) on chain
    SUBMITTED = "submitted"  # transaction sent, not mined
    INCLUDED = "included"  # mined; proofs may be issued
    SAFE = "safe"  # chain_confirmations_safe confirmations
    FINALIZED = "finalized"  # chain_confirmations_final confirmations


ON_CHAIN_STATES = (BatchState.INCLUDED, BatchState.SAFE, BatchState.FINALIZED)


class TxState(enum.StrEnum):
    SIGNED = "signed"  # recorded, maybe not sent
    SENT = "sent"
    MINED = "mined"
    REPLACED = "replaced"  # a replacement with higher fees was sent for its nonce
    DROPPED = "dropped"  # gone from the chain (reorg) or never accepted
    FAILED = "failed"  # mined but reverted


class Document(SQLModel, table=True):
    __tablename__ = "chain_documents"
    __table_args__ = (
        UniqueConstraint("doc_type", "doc_id"),
        Index("ix_chain_documents_source", "doc_type", "source", "source_id"),
        Index("ix_chain_documents_status", "status", "id"),
        CheckConstraint("status in ('queued', 'batched')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    doc_type: str = Field(max_length=32)
    doc_id: str = Field(max_length=80)
    # The table row a trade document was read from (for the collector and the audit).
    source: str | None = Field(default=None, max_length=32)
    source_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    canonical: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    salt: str = Field(max_length=64)
    status: str = Field(default=DocumentStatus.QUEUED, max_length=8)
    batch_id: int | None = Field(default=None, foreign_key="chain_batches.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Batch(SQLModel, table=True):
    __tablename__ = "chain_batches"
    __table_args__ = (
        CheckConstraint(
            "state in ('pending', 'submitted', 'included', 'safe', 'finalized')",
            name="state"),
        CheckConstraint("leaf_count > 0", name="leaf_count_pos"),
    )

    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(sa_column=Column(String(66), nullable=False, unique=True))
    leaf_count: int
    manifest_hash: str = Field(max_length=66)
    state: str = Field(default=BatchState.PENDING, max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    chain_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    contract_address: str | None = Field(default=None, max_length=42)
    # The current anchoring transaction (see ChainTx for every attempt).
    tx_hash: str | None = Field(default=None, max_length=66)
    nonce: int | None = Field(default=None, sa_column=Column(BigInteger))
    max_fee_per_gas: int | None = Field(default=None, sa_column=Column(BigInteger))
    max_priority_fee_per_gas: int | None = Field(default=None, sa_column=Column(BigInteger))
    submitted_at: datetime | None = None
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger))
    block_hash: str | None = Field(default=None, max_length=66)
    included_at: datetime | None = None
    gas_used: int | None = Field(default=None, sa_column=Column(BigInteger))
    effective_gas_price: int | None = Field(default=None, sa_column=Column(BigInteger))
    fee_wei: int | None = Field(default=None, sa_column=Column(BigInteger))
    confirmations: int = 0
    anchor_count: int = 0  # how many times the root was (re-)anchored
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class BatchLeaf(SQLModel, table=True):
    __tablename__ = "chain_leaves"
    __table_args__ = (UniqueConstraint("batch_id", "value_index"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="chain_batches.id", index=True)
    document_id: int = Field(foreign_key="chain_documents.id", unique=True)
    value_index: int  # position in the dump's ``values``
    tree_index: int  # position in the dump's ``tree``
    leaf: str = Field(max_length=66)


class ChainTx(SQLModel, table=True):
    __tablename__ = "chain_transactions"
    __table_args__ = (
        Index("ix_chain_transactions_sender_nonce", "chain_id", "sender", "nonce"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # anchor, register, deploy
    batch_id: int | None = Field(default=None, foreign_key="chain_batches.id", index=True)
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sender: str = Field(max_length=42)
    nonce: int = Field(sa_column=Column(BigInteger, nullable=False))
    tx_hash: str = Field(sa_column=Column(String(66), nullable=False, unique=True))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    max_fee_per_gas: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_priority_fee_per_gas: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(default=TxState.SIGNED, max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class Fingerprint(SQLModel, table=True):
    __tablename__ = "chain_fingerprints"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(sa_column=Column(String(66), nullable=False, unique=True))
    variant: str = Field(max_length=16)
    subject_type: str = Field(max_length=16)  # invoice, order
    subject_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    label: str = Field(max_length=200)
    financed_by: str = Field(default="trellis", max_length=80)
    registrant: str = Field(max_length=42)
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    tx_hash: str | None = Field(default=None, max_length=66)
    registered_at: datetime = Field(default_factory=utcnow)
    # keccak256 of "trellis-claim-v1|<instance id>|<financing ref>" (0x hex), as on chain.
    claim: str | None = Field(default=None, max_length=66)


class Instance(SQLModel, table=True):
    __tablename__ = "chain_instance"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(max_length=64)  # 32 random bytes, hex
    created_at: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    __tablename__ = "chain_alerts"

    key: str = Field(primary_key=True, max_length=32)  # fee_ceiling, roots_lost
    message: str = Field(sa_column=Column(Text, nullable=False))
    raised_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Reanchor(SQLModel, table=True):
    """A batch whose root the chain lost (a reorg, a rewound or restarted chain, another
    registry), sent back to be anchored again. ``reason`` is a stored message
    (:func:`trellis.messages.stored`); the ``old_*`` columns are the anchoring that was
    lost, the ``new_*`` ones the anchoring that replaced it (empty until it is on chain)."""

    __tablename__ = "chain_reanchors"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="chain_batches.id", index=True)
    root: str = Field(max_length=66)
    lost_at: datetime = Field(default_factory=utcnow, index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    old_chain_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    old_contract_address: str | None = Field(default=None, max_length=42)
    old_tx_hash: str | None = Field(default=None, max_length=66)
    old_block_number: int | None = Field(default=None, sa_column=Column(BigInteger))
    old_block_hash: str | None = Field(default=None, max_length=66)
    reanchored_at: datetime | None = None
    new_chain_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    new_contract_address: str | None = Field(default=None, max_length=42)
    new_tx_hash: str | None = Field(default=None, max_length=66)
    new_block_number: int | None = Field(default=None, sa_column=Column(BigInteger))


class AuditRun(SQLModel, table=True):
    __tablename__ = "chain_audit_runs"
    __table_args__ = (
        CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name="state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    date_from: date
    date_to: date
    state: str = Field(default="queued", max_length=8)
    total: int = 0
    checked: int = 0
    discrepancy_count: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class NearFingerprint(SQLModel, table=True):
    __tablename__ = "chain_near_fingerprints"
    __table_args__ = (UniqueConstraint("fingerprint", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=66, index=True)
    subject_type: str = Field(max_length=16)  # invoice, order
    subject_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    label: str = Field(max_length=200)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_on: date
    application_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow)
