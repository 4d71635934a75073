"""Scheduled jobs of the onboarding area (declared in :data:`trellis.jobs.JOBS`)."""

from __future__ import annotations

import logging

from trellis.messages import N_, line
from trellis.onboarding import runs

logger = logging.getLogger(__name__)


def resume_imports(*, session_factory, settings) -> str:
    """Enqueue imports left queued and fail those interrupted mid-run (every few minutes)."""
    resumed, failed = runs.resume(session_factory=session_factory)
    return line(N_("%(resumed)s queued imports enqueued, %(failed)s interrupted imports marked "
                   "failed"), resumed=resumed, failed=failed)
