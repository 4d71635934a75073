"""The result of scoring a firm: plain values, JSON round-trippable, reproducible."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

BASIS_CONSENT = "consent"
BASIS_PRE_ASSESSMENT = "pre_assessment"


@dataclass(frozen=True)
class Reason:
    """A reason code: a characteristic where the firm lost points, in plain words."""

    code: str
    en: str
    zh: str
    points_lost: int


@dataclass(frozen=True)
class Flag:
    """A fraud or integrity flag; it never changes the score, it forces manual review."""

    code: str
    en: str
    zh: str
    evidence: dict = field(default_factory=dict)


@dataclass
class ScoreResult:
    firm_id: int
    as_of: date
    score: int | None
    pd: Decimal | None
    grade: str | None
    insufficient: bool
    insufficient_reasons: list[str]
    reasons: list[Reason]
    flags: list[Flag]
    scorecard_version: str
    features: dict
    insufficient_zh: list[str] = field(default_factory=list)
    record_id: int | None = None
    # "consent", or "pre_assessment": scored under the cluster's data basis without the
    # firm's consent, for the invitation whitelist and RM flags only, never for credit.
    basis: str = "consent"
    # Screens that could not run because the firm has no data of a kind they need.
    not_assessable: list[dict] = field(default_factory=list)
    # The grade the card's PD alone gives; ``grade`` is the published one, which differs
    # when it was held (trellis.scoring.grade_hold); ``grade_hold``: what the hold read.
    card_grade: str | None = None
    grade_hold: dict | None = None

    @property
    def held(self) -> bool:
        """Whether the published grade was held against the card's own grade."""
        return self.card_grade is not None and self.grade != self.card_grade

    @property
    def pre_assessment(self) -> bool:
        """Whether the score is a pre-assessment (made before enough trade data was in)."""
        return self.basis == BASIS_PRE_ASSESSMENT

    @property
    def needs_review(self) -> bool:
        """Whether a person must look before a decision: a screen raised a flag or the data were
        insufficient."""
        return bool(self.flags) or self.insufficient

    def to_dict(self) -> dict:
        """A JSON-safe dict (dates ISO, PD as a string)."""
        return {
            "firm_id": self.firm_id, "as_of": self.as_of.isoformat(), "score": self.score,
            "pd": None if self.pd is None else str(self.pd), "grade": self.grade,
            "insufficient": self.insufficient,
            "insufficient_reasons": list(self.insufficient_reasons),
            "insufficient_zh": list(self.insufficient_zh),
            "needs_review": self.needs_review,
            "reasons": [asdict(r) for r in self.reasons],
            "flags": [asdict(f) for f in self.flags],
            "scorecard_version": self.scorecard_version, "features": dict(self.features),
            "record_id": self.record_id, "basis": self.basis,
            "not_assessable": [dict(x) for x in self.not_assessable],
            "card_grade": self.card_grade,
            "grade_hold": None if self.grade_hold is None else dict(self.grade_hold),
        }

    @classmethod
    def from_dict(cls, d: dict) -> ScoreResult:
        """The result from its JSON form (as_of as ISO date text, pd as decimal text)."""
        return cls(firm_id=d["firm_id"], as_of=date.fromisoformat(d["as_of"]),
                   score=d["score"], pd=None if d["pd"] is None else Decimal(d["pd"]),
                   grade=d["grade"], insufficient=d["insufficient"],
                   insufficient_reasons=list(d["insufficient_reasons"]),
                   insufficient_zh=list(d.get("insufficient_zh", [])),
                   reasons=[Reason(**r) for r in d["reasons"]],
                   flags=[Flag(**f) for f in d["flags"]],
                   scorecard_version=d["scorecard_version"], features=dict(d["features"]),
                   record_id=d.get("record_id"), basis=d.get("basis", BASIS_CONSENT),
                   not_assessable=list(d.get("not_assessable", [])),
                   card_grade=d.get("card_grade"), grade_hold=d.get("grade_hold"))
