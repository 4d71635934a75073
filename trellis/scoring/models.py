"""Tables of the scoring area.

- ``scorecards``: versioned scorecards (the whole document as JSON, plus its validation
  report); exactly one has status ``champion`` at a time.
- ``score_results``: every score computed, with the features and scorecard version used,
  so a decision can be reproduced.
- ``portfolio_runs``: one row per portfolio rescore (counts, Benford test).
- ``stability_reports``: population stability (PSI) per characteristic and for the score.
- ``base_rates`` (LPR with the date each applies from), ``rate_caps`` (legal cap) and
  ``limit_policies`` (advance rate, inflow multiple, exposure caps): configurable data,
  seeded by the migration.
- ``portfolio_default_rates``: the stated portfolio default rate (with its source) that
  anchors a card's PD level before the platform has outcomes of its own.
- ``grade_hold_policies``: how many points past a grade's edge a firm's score must go
  before its published grade moves (:mod:`trellis.scoring.grade_hold`), from a date on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow


class ScorecardStatus:
    CHAMPION = "champion"
    CHALLENGER = "challenger"
    RETIRED = "retired"


class Scorecard(SQLModel, table=True):
    __tablename__ = "scorecards"
    __table_args__ = (
        CheckConstraint("status in ('champion', 'challenger', 'retired')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str = Field(default="", max_length=200)
    kind: str = Field(default="expert", max_length=16)  # expert | trained
    status: str = Field(default=ScorecardStatus.CHALLENGER, max_length=12)
    spec: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    validation: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    promoted_at: datetime | None = None


class ScoreRecord(SQLModel, table=True):
    """One stored :class:`~trellis.scoring.result.ScoreResult`."""

    __tablename__ = "score_results"
    __table_args__ = (
        Index("ix_score_results_firm_computed", "firm_id", "computed_at"),
        # the anchor's early warning compares these columns of every supplier's records:
        # read from the index alone (migration 0023w)
        Index("ix_score_results_firm_asof_score", "firm_id", "as_of", "computed_at", "score",
              "grade"),
        CheckConstraint("grade is null or grade in ('A', 'B', 'C', 'D', 'E')", name="grade"),
    )

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="portfolio_runs.id", index=True)
    as_of: date
    score: int | None = None
    pd: Decimal | None = Field(default=None, sa_column=Column(Numeric(9, 6)))
    grade: str | None = Field(default=None, max_length=1)
    insufficient: bool = False
    needs_review: bool = False
    insufficient_reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flags: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # "consent": the firm consented; "pre_assessment": scored under the cluster's data
    # basis only (whitelist and RM flags, never a credit decision).
    basis: str = Field(default="consent", sa_column=Column(String(16), nullable=False,
                                                           server_default="consent"))
    # Screens that could not run for want of a data kind: [{"code", "en", "zh", "needs"}].
    not_assessable: list = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default="[]"))
    features: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    scorecard_version: str = Field(max_length=64)
    computed_at: datetime = Field(default_factory=utcnow)
    # ``grade`` is the published grade (prices, limits and pages read it); ``card_grade``
    # the grade the card's PD alone gives. They differ when the grade was held
    # (:mod:`trellis.scoring.grade_hold`); ``grade_hold`` records what the hold read
    # ({"margin": points, "prior_id", "prior_grade"}), None when no earlier grade counted.
    card_grade: str | None = Field(default=None, sa_column=Column(String(1), nullable=True))
    grade_hold: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PortfolioRun(SQLModel, table=True):
    __tablename__ = "portfolio_runs"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id")
    scorecard_version: str = Field(max_length=64)
    n_firms: int = 0
    n_scored: int = 0
    n_insufficient: int = 0
    n_flagged: int = 0
    seconds: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 3)))
    benford: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)


class StabilityReport(SQLModel, table=True):
    __tablename__ = "stability_reports"
    __table_args__ = (
        CheckConstraint("status in ('stable', 'investigate', 'shifted')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scorecard_version: str = Field(max_length=64, index=True)
    as_of: date
    population: int = 0
    score_psi: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 4)))
    status: str = Field(default="stable", max_length=12)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)


class BaseRate(SQLModel, table=True):
    """The Loan Prime Rate (annual, e.g. 0.0300) for a tenor, from a date on."""

    __tablename__ = "base_rates"
    __table_args__ = (
        UniqueConstraint("tenor", "effective_from"),
        CheckConstraint("rate > 0 and rate < 1", name="rate_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenor: str = Field(default="1y", max_length=8)
    rate: Decimal = Field(sa_column=Column(Numeric(7, 5), nullable=False))
    effective_from: date
    source: str = Field(default="", max_length=200)


class RateCap(SQLModel, table=True):
    """The legal cap in force from a date: min(absolute_cap, lpr_multiple x LPR 1y)."""

    __tablename__ = "rate_caps"
    __table_args__ = (
        CheckConstraint("absolute_cap > 0 and absolute_cap < 1", name="cap_range"),
        CheckConstraint("lpr_multiple > 0", name="multiple_pos"),
    )

    id: int | None = Field(default=None, primary_key=True)
    effective_from: date = Field(sa_column=Column(Date, nullable=False, unique=True))
    absolute_cap: Decimal = Field(sa_column=Column(Numeric(7, 5), nullable=False))
    lpr_multiple: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))
    source: str = Field(default="", max_length=200)


class LimitPolicy(SQLModel, table=True):
    """How limits are set, from a date on. Caps are integer fen."""

    __tablename__ = "limit_policies"
    __table_args__ = (
        CheckConstraint("advance_rate > 0 and advance_rate <= 1", name="advance_range"),
        CheckConstraint("inflow_multiple >= 0", name="multiple_nonneg"),
        CheckConstraint("vendor_cap_fen >= 0 and anchor_cap_fen >= 0 and cluster_cap_fen >= 0",
                        name="caps_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    effective_from: date
    advance_rate: Decimal = Field(sa_column=Column(Numeric(5, 4), nullable=False))
    inflow_multiple: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))
    inflow_months: int = 6
    vendor_cap_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    anchor_cap_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    cluster_cap_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Share of the inflow-based limit granted per grade, e.g. {"A": "1", ..., "E": "0"}.
    grade_factors: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PortfolioDefaultRate(SQLModel, table=True):
    """The expected share of loans defaulting within ``horizon_months`` (e.g. 0.04), from a
    date on, with where the figure comes from. Cards are anchored to it until outcomes
    exist (:mod:`trellis.scoring.calibration`)."""

    __tablename__ = "portfolio_default_rates"
    __table_args__ = (
        CheckConstraint("rate > 0 and rate < 1", name="rate_range"),
        CheckConstraint("horizon_months > 0", name="horizon_pos"),
    )

    id: int | None = Field(default=None, primary_key=True)
    effective_from: date = Field(sa_column=Column(Date, nullable=False, unique=True))
    rate: Decimal = Field(sa_column=Column(Numeric(7, 5), nullable=False))
    horizon_months: int = 12
    source: str = Field(default="", max_length=500)


class GradeHoldPolicy(SQLModel, table=True):
    """From *effective_from* on, a firm's published grade moves only when its score is
    more than *margin_points* past the edge of that grade's band (0: no hold), with where
    the figure comes from (:mod:`trellis.scoring.grade_hold`)."""

    __tablename__ = "grade_hold_policies"
    __table_args__ = (
        CheckConstraint("margin_points >= 0 and margin_points <= 100", name="margin_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    effective_from: date = Field(sa_column=Column(Date, nullable=False, unique=True))
    margin_points: int = 5
    source: str = Field(default="", max_length=500)


# The name other areas read (the network pages show the latest grade per firm).
ScoreResult = ScoreRecord
