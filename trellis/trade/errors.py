"""Exceptions of the trade area (firms, clusters, trade documents)."""

from __future__ import annotations

from trellis.errors import NotFound


class ClusterNotFound(NotFound):
    """Raised when a cluster code or id names no cluster (or one the caller may not see)."""
