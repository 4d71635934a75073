"""Tasks that wrap what already exists: running a scheduled job now."""

from __future__ import annotations

from trellis import jobs


def run_job(*, session_factory, settings, job_id: str) -> str:
    """Run the job *job_id* once (it records its own :class:`~trellis.jobs.JobRun`)."""
    run = jobs.run_job(jobs.find(job_id), session_factory=session_factory, settings=settings)
    if not run.ok:
        raise RuntimeError(run.outcome)
    return run.outcome
