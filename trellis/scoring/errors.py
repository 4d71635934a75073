"""Exceptions of the scoring area; each message tells the user what to do."""

from __future__ import annotations

from trellis.errors import Conflict, NotFound, TrellisError, ValidationError


class ScoringError(TrellisError):
    """Raised for a scoring failure that is neither bad input nor a missing record."""

    code = "scoring_error"


class ScorecardNotFound(NotFound):
    """Raised when no scorecard has the requested version, or no champion is set."""

    code = "scorecard_not_found"


class InvalidScorecard(ValidationError):
    """Raised when a scorecard document (JSON) is malformed; ``field`` names the part."""

    code = "invalid_scorecard"


class TrainingDataError(ValidationError):
    """Raised when a labelled table cannot be used for training or evaluation."""

    code = "training_data_error"


class RateAboveCap(Conflict):
    """Raised when a quoted rate would exceed the legal cap in force on the date."""

    code = "rate_above_cap"


class NoBaseRate(NotFound):
    """Raised when no LPR (or no cap) is in force on the requested date."""

    code = "no_base_rate"
