"""Errors of the demo area."""

from __future__ import annotations

from trellis.errors import Conflict, ValidationError


class ClusterExists(Conflict):
    """Raised when loading a cluster whose code is already in the database."""

    code = "cluster_exists"


class FirmExists(Conflict):
    """Raised when a simulated firm's USCC already belongs to a firm in the database."""

    code = "firm_exists"


class BadSimulation(ValidationError):
    """Raised when the simulator's parameters are out of range."""

    code = "bad_simulation"
