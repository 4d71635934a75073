"""Tables of the onboarding area: data bases for pre-assessment and saved column mappings.

A :class:`DataBasis` records where a cluster's imported data came from and on what terms
(the anchor's or park's data-sharing agreement: the party, its reference, the scope and
the expiry). Under a valid basis Trellis may pre-assess the cluster's firms (scores and
indicative limits for the invitation whitelist, flags for the RM) but never decide
credit: a credit decision still needs the vendor's own consent.

An :class:`ImportMapping` remembers, per cluster, source and kind, which file header
feeds which field, so the next file from the same source imports without asking.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from trellis.accounts.models import utcnow

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
