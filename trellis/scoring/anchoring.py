"""Calibrate the champion on the platform's data and install the calibrated card.

With enough matured outcomes (the platform's own loans and imported history, see
:func:`trellis.scoring.registry.platform_table`) the champion is recalibrated on them
(calibration-in-the-large, then slope); otherwise it is anchored to the portfolio default
rate in force (:class:`~trellis.scoring.models.PortfolioDefaultRate`) over the scorable
vendors as of the date. The result is a new card version, installed as champion at once:
calibration never changes the ranking, so there is nothing for the champion/challenger
rule to compare. Its validation holds the calibration report (reliability table, binomial
test per grade, Hosmer-Lemeshow) and a ``flag`` for the risk team when a grade's observed
default rate lies outside its band.
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlmodel import Session, col

from trellis.accounts.models import utcnow
from trellis.messages import N_, msg
from trellis.scoring import calibration, features, frames
from trellis.scoring.errors import NoBaseRate
from trellis.scoring.models import PortfolioDefaultRate, Scorecard, ScorecardStatus
from trellis.scoring.registry import platform_table
from trellis.scoring.service import champion

logger = logging.getLogger(__name__)


def default_rate(*, session: Session, on: date) -> PortfolioDefaultRate:
    """The portfolio default rate in force on *on*; raises :class:`NoBaseRate` if none."""
    row = session.execute(select(PortfolioDefaultRate).where(
        col(PortfolioDefaultRate.effective_from) <= on).order_by(
        col(PortfolioDefaultRate.effective_from).desc()).limit(1)).scalars().first()
    if row is None:
        raise NoBaseRate(msg(N_("No portfolio default rate is in force on %(on)s; an admin must "
                                "set one before a card can be anchored."), on=on))
    return row


def population(*, session: Session, as_of: date, cluster_id: int | None = None):
    """Features of the vendors that can be scored as of *as_of*."""
    fr = frames.load(session=session, as_of=as_of, cluster_id=cluster_id)
    X = features.compute(fr)
    why = features.sufficiency(X)
    keep = [f for f in X.index if not why[f] and X.loc[f, "role"] != "anchor"]
    return X.loc[keep]


def _stated_after_outcomes(session: Session, as_of: date, table) -> PortfolioDefaultRate | None:
    """The portfolio default rate in force on *as_of* if it was stated after the newest
    outcome's loan was disbursed (newer knowledge of the level than those outcomes), else
    None."""
    try:
        rate = default_rate(session=session, on=as_of)
    except NoBaseRate:
        return None
    newest = date.fromisoformat(str(table["disbursed_on"].max()))
    return rate if rate.effective_from > newest else None


def _version(session: Session, base: str, as_of: date) -> str:
    stem = f"{base.split('+cal')[0]}+cal{as_of:%Y%m%d}"[:60]
    version, k = stem, 1
    while session.execute(select(col(Scorecard.id))
                          .where(col(Scorecard.version) == version)).first():
        k += 1
        version = f"{stem}.{k}"
    return version


def calibrate(*, session: Session, as_of: date, cluster_id: int | None = None,
              install: bool = True) -> dict:
    """Recalibrate (outcomes) or anchor (no outcomes) the champion; returns the new spec
    with its ``validation.calibration`` report. Installs it as champion unless told not.

    With enough outcomes, the slope always comes from them; the level too, unless the
    portfolio default rate in force was stated after the newest of those loans was
    disbursed: then that rate sets the level over the scorable vendors as of *as_of*
    (:func:`~trellis.scoring.calibration.recalibrate_to_rate`), since matured outcomes
    tell the level of their own, older period."""
    current = champion(session=session)
    version = _version(session, current.version, as_of)
    table = platform_table(session=session, as_of=as_of, cluster_id=cluster_id)
    y = table["defaulted"].to_numpy(dtype=int) if not table.empty else np.zeros(0, int)
    enough = (len(y) >= calibration.MIN_ROWS and y.sum() >= calibration.MIN_BADS
              and (1 - y).sum() >= calibration.MIN_BADS)
    stated = _stated_after_outcomes(session, as_of, table) if enough else None
    if stated is not None:
        X = population(session=session, as_of=as_of, cluster_id=cluster_id)
        spec = calibration.recalibrate_to_rate(current.spec, table, y, X, float(stated.rate),
                                               source=stated.source, version=version)
        spec["calibration"]["horizon_months"] = stated.horizon_months
        spec["calibration"]["rate_effective_from"] = stated.effective_from.isoformat()
        check: dict | None = calibration.report(spec, table, y)
        how = (f"slope recalibrated on {len(y)} matured outcomes ({int(y.sum())} defaults, "
               f"{y.mean():.2%}); level anchored to the portfolio default rate "
               f"{float(stated.rate):.2%} stated from {stated.effective_from}, after those "
               f"loans, over {len(X)} scorable vendors")
    elif enough:
        spec = calibration.recalibrate(current.spec, table, y, version=version)
        check = calibration.report(spec, table, y)
        how = f"recalibrated on {len(y)} matured outcomes ({int(y.sum())} defaults)"
    else:
        rate = default_rate(session=session, on=as_of)
        X = population(session=session, as_of=as_of, cluster_id=cluster_id)
        spec = calibration.anchor(current.spec, X, float(rate.rate), source=rate.source,
                                  version=version)
        spec["calibration"]["horizon_months"] = rate.horizon_months
        check = calibration.report(spec, table, y) if len(y) else None
        how = (f"anchored to the stated portfolio default rate {float(rate.rate):.2%} over "
               f"{len(X)} scorable vendors ({len(y)} outcomes: too few to recalibrate)")
    spec["validation"] = {**current.validation, "calibration": check, "calibrated": how}
    if install:
        row = Scorecard(version=spec["version"], name=spec.get("name", ""),
                        kind=current.kind, status=ScorecardStatus.CHAMPION, spec=spec,
                        validation=spec["validation"], notes=how[:2000],
                        promoted_at=utcnow())
        current.status = ScorecardStatus.RETIRED
        session.add(current)
        session.flush()
        session.add(row)
        session.flush()
        logger.info("scorecard %s %s; replaces %s", row.version, how, current.version)
    return spec


def _same_outcomes(spec: dict, y: np.ndarray, stated: PortfolioDefaultRate | None) -> bool:
    """The card was recalibrated on these outcomes, with the level from the same source
    (the same stated rate, or the outcomes themselves)."""
    cal = spec.get("calibration") or {}
    level = (stated.effective_from.isoformat(), float(stated.rate)) if stated else None
    was = ((cal.get("rate_effective_from"), cal.get("target_rate"))
           if cal.get("level") == "stated_rate" else None)
    return (cal.get("method") == "recalibrate" and cal.get("rows") == int(len(y))
            and cal.get("defaults") == int(y.sum()) and was == level)


def recalibrate_if_due(*, session: Session, as_of: date) -> dict:
    """The scheduled re-calibration: when enough matured outcomes exist (at least
    :data:`~trellis.scoring.calibration.MIN_ROWS` with :data:`~.MIN_BADS` of each class)
    and they are not the ones the champion was last recalibrated on, recalibrate the
    champion on them (calibration-in-the-large, then slope) and install it. Idempotent:
    run twice on the same outcomes, the second run changes nothing.

    Returns ``{"action": "recalibrated" | "unchanged" | "too_few", "version": str,
    "rows": int, "defaults": int, "report": dict | None}``; ``report`` is the level
    report of the (new) champion on the outcomes (``report["flag"]``: a grade's observed
    default rate lies outside its 95% binomial band)."""
    current = champion(session=session)
    table = platform_table(session=session, as_of=as_of)
    y = table["defaulted"].to_numpy(dtype=int) if not table.empty else np.zeros(0, int)
    out = {"version": current.version, "rows": int(len(y)), "defaults": int(y.sum())}
    enough = (len(y) >= calibration.MIN_ROWS and y.sum() >= calibration.MIN_BADS
              and (1 - y).sum() >= calibration.MIN_BADS)
    if not enough:
        return {**out, "action": "too_few", "report": None}
    if _same_outcomes(current.spec, y, _stated_after_outcomes(session, as_of, table)):
        report = (current.validation or {}).get("calibration") or calibration.report(
            current.spec, table, y)
        return {**out, "action": "unchanged", "report": report}
    spec = calibrate(session=session, as_of=as_of)
    return {**out, "action": "recalibrated", "version": spec["version"],
            "report": spec["validation"]["calibration"]}
