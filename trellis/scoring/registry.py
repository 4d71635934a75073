"""Scorecard versions in the database: register a challenger, promote it under the
champion/challenger rule, export any version as JSON, and build the platform's own
training table from matured loan outcomes.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from trellis import clock
from trellis.clock import utcnow
from trellis.errors import Conflict
from trellis.messages import N_, msg
from trellis.scoring import features, frames, scorecard
from trellis.scoring.models import Scorecard, ScorecardStatus
from trellis.scoring.service import champion, get_scorecard
from trellis.trade.models import Firm, LoanOutcome

logger = logging.getLogger(__name__)


def register(*, session: Session, spec: dict, notes: str = "") -> Scorecard:
    """Store a validated scorecard document as a challenger. Versions are immutable."""
    spec = scorecard.validate(spec)
    exists = session.execute(select(col(Scorecard.id))
                             .where(col(Scorecard.version) == spec["version"])
                             ).first()
    if exists:
        raise Conflict(msg(N_("A scorecard with version %(version)s already exists; "
                              "versions never change, so give the new one another version."),
                           version=spec['version']))
    row = Scorecard(version=spec["version"], name=spec.get("name", ""),
                    kind=spec.get("kind", "trained"), status=ScorecardStatus.CHALLENGER,
                    spec=spec, validation=spec.get("validation", {}), notes=notes)
    session.add(row)
    session.flush()
    return row


def promote(*, session: Session, version: str, data: pd.DataFrame | None = None,
            target: str | None = None, n_boot: int = 1000) -> dict:
    """Make *version* the champion if it beats the champion on *data* by more than the
    noise (95% bootstrap interval of the AUC gain above zero). Without data, only a card
    replacing the untrained expert card may be promoted (nothing to compare against).
    Raises :class:`Conflict` when the rule refuses."""
    new = get_scorecard(session=session, version=version)
    current = champion(session=session)
    if current.id == new.id:
        return {"promoted": False, "reason": "already champion"}
    if data is not None:
        if target is None:
            raise ValueError("comparing on data needs the target column's name")
        # late: training imports scikit-learn (seconds); the pages promote without data
        from trellis.scoring import training

        verdict = training.compare(current.spec, new.spec, data, target=target, n_boot=n_boot)
        if not verdict["promote"]:
            raise Conflict(
                msg(N_("%(version)s does not beat the champion %(champion)s by more than the "
                       "noise: AUC gain %(gain)s, 95%% interval "
                       "[%(low)s, %(high)s]."),
                    version=version, champion=current.version,
                    gain=format(verdict['difference'], '+.4f'),
                    low=format(verdict['ci_low'], '+.4f'),
                    high=format(verdict['ci_high'], '+.4f')))
    elif current.kind != "expert":
        raise Conflict(N_("Promoting over a trained champion needs validation data to compare "
                          "the two cards on."))
    else:
        verdict = {"promote": True, "reason": "replaces the untrained expert card"}
    current.status = ScorecardStatus.RETIRED
    session.add(current)
    session.flush()
    new.status = ScorecardStatus.CHAMPION
    new.promoted_at = utcnow()
    new.validation = {**new.validation, "promotion": verdict}
    session.add(new)
    session.flush()
    logger.info("scorecard %s promoted over %s", new.version, current.version)
    return {"promoted": True, **verdict}


def export_json(*, session: Session, version: str) -> str:
    """The scorecard of *version* as a JSON document, with its validation report."""
    row = get_scorecard(session=session, version=version)
    return scorecard.dumps({**row.spec, "validation": row.validation or
                            row.spec.get("validation", {})})


def platform_table(*, session: Session, as_of: date | None = None,
                   cluster_id: int | None = None) -> pd.DataFrame:
    """One row per matured past loan: the firm's features as of the first day of the month
    it was disbursed (no later data), ``disbursed_on`` and ``defaulted`` (the target).

    A loan counts once it could have matured (``frames.OUTCOME_KNOWN_DAYS``).
    """
    as_of = as_of or clock.today()
    stmt = select(col(LoanOutcome.firm_id), col(LoanOutcome.disbursed_on),
                  col(LoanOutcome.defaulted)).where(
        col(LoanOutcome.disbursed_on) <= as_of - timedelta(days=frames.OUTCOME_KNOWN_DAYS))
    if cluster_id is not None:
        stmt = stmt.join(Firm, col(Firm.id) == col(LoanOutcome.firm_id)).where(
            col(Firm.cluster_id) == cluster_id)
    loans = pd.read_sql(stmt, session.connection())
    if loans.empty:
        return pd.DataFrame()
    loans["disbursed_on"] = pd.to_datetime(loans["disbursed_on"])
    loans["month"] = loans["disbursed_on"].dt.to_period("M").dt.start_time
    parts = []
    first = loans["month"].min()
    span = (as_of.year - first.year) * 12 + as_of.month - first.month + frames.LOOKBACK_MONTHS
    whole = frames.load(session=session, as_of=as_of, cluster_id=cluster_id,
                        lookback_months=span)
    for month, group in loans.groupby("month"):
        fr = frames.restrict(whole, month.date())
        X = features.compute(fr, [f for f in group["firm_id"].unique() if f in fr.firms.index])
        rows = group.join(X.drop(columns=["role"]), on="firm_id", how="inner")
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)
    out["defaulted"] = out["defaulted"].astype(int)
    out["disbursed_on"] = out["disbursed_on"].dt.date.astype(str)
    return out.drop(columns=["month"])
