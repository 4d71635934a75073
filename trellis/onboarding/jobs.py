"""Scheduled jobs of the onboarding area (declared in :data:`trellis.jobs.JOBS`)."""

from __future__ import annotations

import logging

from trellis.onboarding import runs

logger = logging.getLogger(__name__)


def resume_imports(*, session_factory, settings) -> str:
    """Enqueue imports left queued and fail those interrupted mid-run (every few minutes)."""
    resumed, failed = runs.resume(session_factory=session_factory)
    return f"{resumed} queued imports enqueued, {failed} interrupted imports marked failed"
