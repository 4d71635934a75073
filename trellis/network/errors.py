"""Exceptions of the network area. Each message tells the user what to do."""

from __future__ import annotations

from trellis.errors import NotFound


class FirmNotFound(NotFound):
    """Raised when a firm id names no firm in the graph or database."""
