"""Population stability of the champion card: the shares of a population in each bin of
each characteristic and in the score's deciles, and their population stability index
(PSI) against the card's reference population (its training rows, or for the expert card
the first portfolio it scored). Plain numpy: the pages and the ``monitor_stability`` job
compute it from a stored card; nothing here fits a model.

PSI reading: below 0.10 stable, below 0.25 investigate, else shifted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from trellis.scoring import scorecard, service
from trellis.scoring.models import PortfolioRun, ScoreRecord, StabilityReport

PSI_STABLE, PSI_SHIFTED = 0.10, 0.25
EPS = 1e-4


def psi(expected, actual) -> float:
    """Population stability index between two share vectors of the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), EPS, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> str:
    """How to read a population stability index: "stable" below PSI_STABLE, "investigate" below
    PSI_SHIFTED, else "shifted"."""
    if value < PSI_STABLE:
        return "stable"
    return "investigate" if value < PSI_SHIFTED else "shifted"


def score_edges(scores, n: int = 10) -> list[float]:
    """Interior edges of the score deciles (for the PSI reference)."""
    q = np.quantile(np.asarray(scores, dtype=float), np.linspace(0, 1, n + 1)[1:-1])
    return sorted(set(float(x) for x in q))


def shares(scores, edges) -> list[float]:
    """The share (0 to 1, six decimals) of *scores* in each band cut by *edges* (len(edges) + 1
    bands)."""
    idx = np.digitize(np.asarray(scores, dtype=float), np.asarray(edges, dtype=float))
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return (counts / max(1, counts.sum())).round(6).tolist()


def reference_shares(spec: dict, X: pd.DataFrame) -> None:
    """Store each characteristic's bin shares and the score deciles of population *X*."""
    s = scorecard.apply(spec, X)
    for ch in spec["characteristics"]:
        idx = s.bins[ch["name"]].to_numpy()
        k = len(ch["bins"])
        counts = [int((idx == i).sum()) for i in range(k)] + [int((idx == -1).sum()),
                                                             int((idx == -2).sum())]
        ch["reference_shares"] = [round(c / max(1, len(idx)), 6) for c in counts]
    edges = score_edges(s.score)
    spec["reference_scores"] = {"edges": edges, "shares": shares(s.score, edges),
                                "n": int(len(X))}


def population_shares(spec: dict, X: pd.DataFrame) -> dict:
    """PSI of each characteristic and of the score of *X* against the reference."""
    s = scorecard.apply(spec, X)
    per_characteristic: dict[str, dict] = {}
    out: dict = {"characteristics": per_characteristic, "n": int(len(X))}
    for ch in spec["characteristics"]:
        ref = ch.get("reference_shares")
        if not ref:
            continue
        idx = s.bins[ch["name"]].to_numpy()
        k = len(ch["bins"])
        now = [float((idx == i).mean()) for i in range(k)] + [float((idx == -1).mean()),
                                                             float((idx == -2).mean())]
        value = psi(ref, now)
        per_characteristic[ch["name"]] = {"psi": round(value, 4),
                                          "status": psi_status(value),
                                          "shares": [round(x, 4) for x in now]}
    ref = spec.get("reference_scores")
    if ref:
        now = shares(s.score, ref["edges"])
        value = psi(ref["shares"], now)
        out["score"] = {"psi": round(value, 4), "status": psi_status(value),
                        "shares": now}
    return out


def _population(session: Session, run_ids: list[int]) -> pd.DataFrame:
    rows = session.execute(select(col(ScoreRecord.firm_id), col(ScoreRecord.features)).where(
        col(ScoreRecord.run_id).in_(run_ids), col(ScoreRecord.insufficient).is_(False))).all()
    return pd.DataFrame([{k: (float("nan") if v is None else v) for k, v in f.items()}
                         for _, f in rows])


def record(*, session: Session, as_of: date | None = None) -> StabilityReport | None:
    """Compute and store the stability report of the champion (None: nothing scored yet)."""
    card = service.champion(session=session)
    spec = card.spec
    runs = session.execute(select(PortfolioRun).where(
        col(PortfolioRun.scorecard_version) == card.version).order_by(col(PortfolioRun.computed_at),
                                                                  col(PortfolioRun.id))
                           ).scalars().all()
    if not runs:
        return None
    latest_day = runs[-1].as_of
    latest = [r.id for r in runs if r.as_of == latest_day]
    current = _population(session, latest)
    if current.empty:
        return None
    if not spec.get("reference_scores"):
        first_day = runs[0].as_of
        base = _population(session, [r.id for r in runs if r.as_of == first_day])
        spec = dict(spec)
        spec["characteristics"] = [dict(c) for c in spec["characteristics"]]
        reference_shares(spec, base)
        baseline = f"first portfolio scored with {card.version} ({first_day})"
    else:
        baseline = "training population"
    detail = population_shares(spec, current)
    detail["baseline"] = baseline
    score_psi = detail.get("score", {}).get("psi", 0.0)
    statuses = [detail.get("score", {}).get("status", "stable")] + [
        c["status"] for c in detail["characteristics"].values()]
    status = ("shifted" if "shifted" in statuses else
              "investigate" if "investigate" in statuses else "stable")
    report = StabilityReport(scorecard_version=card.version, as_of=as_of or latest_day,
                             population=len(current), score_psi=Decimal(f"{score_psi:.4f}"),
                             status=status, detail=detail)
    session.add(report)
    session.flush()
    return report
