"""Background work of the assistant (run by ``trellis worker``, never in a request)."""

from __future__ import annotations

from trellis import clock, db
from trellis.messages import N_, line
from trellis.scoring import service as scoring


def score_firm_task(*, session_factory, settings, firm_id: int) -> str:
    """Score *firm_id* once today and store it, so the assistant can answer limit and grade
    questions from a stored score. Idempotent: a score already stored today is kept."""
    with db.transaction(session_factory) as session:
        latest = scoring.latest(session=session, firm_id=firm_id)
        if latest is not None and latest.as_of >= clock.today():
            return line(N_("firm %(firm)s already scored today"), firm=firm_id)
        result = scoring.score_firm(session=session, firm_id=firm_id)
        return line(N_("firm %(firm)s scored: grade %(grade)s"), firm=firm_id,
                    grade=result.grade)


def build_model_task(*, session_factory, settings) -> str:
    """Load the assistant's saved model from the instance, or fit and save it when it is
    missing or stale (about 12 s of CPU, here rather than in the first question).
    Idempotent: a current model is only loaded."""
    from trellis.assistant import model

    fitted = model.ensure(model.folder(settings.instance_path))[1]
    return line(N_("assistant model fitted and saved") if fitted
                else N_("assistant model already current"))
