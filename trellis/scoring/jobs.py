"""Scheduled jobs of the scoring area (declared by the platform's scheduler).

- ``rescore_portfolio``: score every firm of every cluster with the champion, as of today.
- ``monitor_stability``: PSI of each characteristic and of the score of the latest
  portfolio against the champion's reference population (its training data, or for the
  expert card the first portfolio it scored); a shifted population is stored and shown to
  RMs and admins.
- ``recalibrate``: when matured outcomes exist that the champion was not yet calibrated on,
  recalibrate it (calibration-in-the-large, then slope) and install it; when a grade's
  observed default rate misses its confidence band, the card's report carries ``flag``
  and the notifications area tells the risk team (admins and RMs).
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlmodel import col

from trellis import clock
from trellis.db import transaction
from trellis.messages import N_, Percent, line, msg
from trellis.scoring import anchoring, service, stability
from trellis.trade.models import Cluster

logger = logging.getLogger(__name__)


def rescore_portfolio(*, session_factory, settings, as_of: date | None = None) -> str:
    """Job: score every consented firm of every cluster as of *as_of* (today by default), one
    transaction per cluster; returns a summary line of the counts."""
    as_of = as_of or clock.today()
    with transaction(session_factory) as session:
        clusters = session.execute(select(col(Cluster.id))).scalars().all()
    totals = {"firms": 0, "scored": 0, "insufficient": 0, "flagged": 0}
    for cid in clusters:
        with transaction(session_factory) as session:
            _, run = service.score_portfolio(session=session, as_of=as_of, cluster_id=cid)
            totals["firms"] += run.n_firms
            totals["scored"] += run.n_scored
            totals["insufficient"] += run.n_insufficient
            totals["flagged"] += run.n_flagged
    return line(N_("rescored %(firms)s firms in %(clusters)s clusters as of %(as_of)s: "
                   "%(scored)s scored, %(insufficient)s insufficient, %(flagged)s flagged for "
                   "review"), firms=totals["firms"], clusters=len(clusters), as_of=as_of,
                scored=totals["scored"], insufficient=totals["insufficient"],
                flagged=totals["flagged"])


def monitor_stability(*, session_factory, settings) -> str:
    """Job: compare the latest portfolio's score and characteristic distributions with the
    champion's development sample (population stability index) and record the report; returns a
    summary line."""
    with transaction(session_factory) as session:
        report = stability.record(session=session)
        if report is None:
            return line(N_("no scored portfolio yet: nothing to monitor"))
        shifted = [n for n, c in report.detail["characteristics"].items()
                   if c["status"] != "stable"]
        return line(STABILITY.get(report.status, N_("%(version)s: score PSI %(psi)s; "
                                                    "%(n)s characteristics not stable")),
                    version=report.scorecard_version, psi=report.score_psi, n=len(shifted),
                    names=msg(N_(": %(names)s"), names=shifted) if shifted else "")


#: the stability report's line, by the score's status (PSI bands)
STABILITY = {
    "stable": N_("%(version)s: score PSI %(psi)s (stable); %(n)s characteristics not "
                 "stable%(names)s"),
    "investigate": N_("%(version)s: score PSI %(psi)s (investigate); %(n)s characteristics "
                      "not stable%(names)s"),
    "shifted": N_("%(version)s: score PSI %(psi)s (shifted); %(n)s characteristics not "
                  "stable%(names)s"),
}



def recalibrate(*, session_factory, settings, as_of: str | None = None) -> str:
    """The scheduled re-calibration of the champion (see
    :func:`trellis.scoring.anchoring.recalibrate_if_due`). The level report is stored in
    the new card's validation; a flagged card is told to the risk team by the
    notifications area, which reads the champion's report (scoring does not call it).
    *as_of*: an ISO date (default today). Returns a one-line outcome."""
    day = date.fromisoformat(as_of) if as_of else clock.today()
    with transaction(session_factory) as session:
        out = anchoring.recalibrate_if_due(session=session, as_of=day)
    report = out["report"]
    if out["action"] == "too_few":
        return line(N_("%(version)s: %(rows)s matured outcomes (%(defaults)s defaults), too "
                       "few to recalibrate; card kept"), version=out["version"],
                    rows=out["rows"], defaults=out["defaults"])
    flagged = (msg(N_("; grades %(grades)s outside their band (flagged to the risk team)"),
                   grades=list(report["grades_outside_band"])) if report["flag"] else "")
    return line(N_("%(version)s: recalibrated on %(rows)s outcomes (%(defaults)s defaults); "
                   "mean PD %(pd)s vs observed %(observed)s%(flagged)s")
                if out["action"] == "recalibrated" else
                N_("%(version)s: unchanged on %(rows)s outcomes (%(defaults)s defaults); "
                   "mean PD %(pd)s vs observed %(observed)s%(flagged)s"),
                version=out["version"], rows=out["rows"], defaults=out["defaults"],
                pd=Percent(str(report["mean_pd"])), observed=Percent(str(report["observed_rate"])),
                flagged=flagged)
