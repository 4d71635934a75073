"""Tables of the onboarding area: bulk-import runs, their files and errors, invitations,
data bases for pre-assessment and saved column mappings.

An :class:`ImportRun` records one uploaded file from upload to outcome, with live
progress (rows done, errors so far); its file bytes (:class:`ImportFile`) are kept until
the run finishes so a background worker can read them. :class:`ImportRunError` holds the
problems found (the downloadable error report). :class:`Invitation` is a one-time
registration code for a vendor already known from the cluster's data; only a SHA-256 of
the code is stored.

A :class:`DataBasis` records where a cluster's imported data came from and on what terms
(the anchor's or park's data-sharing agreement: the party, its reference, the scope and
the expiry). Under a valid basis Trellis may pre-assess the cluster's firms (scores and
indicative limits for the invitation whitelist, flags for the RM) but never decide
credit: a credit decision still needs the vendor's own consent.

An :class:`ImportMapping` remembers, per cluster, source and kind, which file header
feeds which field, so the next file from the same source imports without asking.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow

#: What a basis may allow. Only pre-assessment exists: credit decisions need consent.
SCOPE_PRE_ASSESSMENT = "pre_assessment"


class DataBasis(SQLModel, table=True):
    __tablename__ = "data_bases"
    __table_args__ = (
        CheckConstraint("expires_on >= valid_from", name="expiry_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    party: str = Field(max_length=200)  # who shared the data: the anchor, the park
    reference: str = Field(max_length=120)  # the agreement's number or title
    scope: str = Field(default=SCOPE_PRE_ASSESSMENT, max_length=300)
    valid_from: date
    expires_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ImportMapping(SQLModel, table=True):
    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("cluster_id", "source", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    source: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    mapping: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ImportKind(enum.StrEnum):
    FIRMS = "firms"
    RELATIONSHIPS = "relationships"
    ORDERS = "orders"
    INVOICES = "invoices"
    PAYMENTS = "payments"


    DELIVERIES = "deliveries"
    CREDIT_NOTES = "credit_notes"
    CONFIRMATIONS = "confirmations"
    TAX_FILINGS = "tax_filings"
    LOANS = "loans"
    UTILITY_READINGS = "utility_readings"
    HEADCOUNT = "headcount"


KIND_LIST = ", ".join(f"'{k.value}'" for k in ImportKind)


class RunStatus(enum.StrEnum):
    MAPPING = "mapping"  # waiting for the RM to confirm the column mapping
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    REFUSED = "refused"  # validation failed: nothing written
    FAILED = "failed"  # unexpected error: nothing written


FINISHED = (RunStatus.SUCCEEDED, RunStatus.REFUSED, RunStatus.FAILED)


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint(f"kind in ({KIND_LIST})", name="kind"),
        CheckConstraint("status in ('mapping', 'queued', 'running', 'succeeded', 'refused', "
                        "'failed')", name="status"),
        CheckConstraint("rows_done >= 0 and errors_count >= 0", name="counts_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    kind: str = Field(max_length=16)
    filename: str = Field(max_length=255)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    sha256: str = Field(default="", max_length=64)
    status: str = Field(default=RunStatus.QUEUED, max_length=12)
    phase: str = Field(default="", max_length=16)  # reading, validating, writing, done
    rows_total: int = 0
    rows_done: int = 0
    errors_count: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str = Field(default="", max_length=24)
    message: str = Field(default="", max_length=500)
    # Where the file came from (e.g. "bank export"), the header -> field mapping it was
    # read with, and the headers that matched no field (listed, never silently dropped).
    source: str = Field(default="", max_length=120)
    mapping: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unmapped: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Whether the import has ended (done, failed or refused)."""
        return self.status in FINISHED


class ImportFile(SQLModel, table=True):
    """The uploaded bytes of a run, kept until the run finishes (separate so that polling
    a run's progress never loads the file)."""

    __tablename__ = "import_files"

    run_id: int = Field(foreign_key="import_runs.id", primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ImportRunError(SQLModel, table=True):
    """One problem in an uploaded file: the row (1 = header), the column, what is wrong."""

    __tablename__ = "import_run_errors"
    __table_args__ = (Index("ix_import_run_errors_run_row", "run_id", "row"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="import_runs.id")
    row: int
    column: str = Field(default="", max_length=64)
    value: str = Field(default="", max_length=200)
    problem: str = Field(max_length=300)


class Invitation(SQLModel, table=True):
    """A one-time code inviting a known vendor to register. Expires; works once."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_cluster_batch", "cluster_id", "batch"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    firm_id: int = Field(foreign_key="firms.id", index=True)
    batch: str = Field(max_length=32)
    nonce: str = Field(max_length=32)  # with the app's secret, regenerates the code
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    confirmed_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                           default=0))
    indicative_limit_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    redeemed_at: datetime | None = None
    revoked_at: datetime | None = None
