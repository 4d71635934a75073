"""Score one firm on demand or the whole portfolio, and keep every result.

Both paths run the same steps on frames read once per table (:mod:`.frames`): features,
data sufficiency, the champion scorecard, the fraud screens. A result stores the feature
values and scorecard version it used, so the decision can be reproduced later with
:func:`reproduce`.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from cachetools import LRUCache
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from trellis import clock
from trellis.accounts.models import Consent
from trellis.clock import utcnow
from trellis.errors import NotFound
from trellis.messages import N_, msg
from trellis.onboarding import coverage
from trellis.onboarding.basis import clusters_with_basis
from trellis.scoring import (
    dynamics,
    expert,
    features,
    frames,
    grade_hold,
    policy,
    scorecard,
    screens,
)
from trellis.scoring.errors import ScorecardNotFound, ScoringError
from trellis.scoring.limits import credit_limit
from trellis.scoring.models import PortfolioRun, Scorecard, ScorecardStatus, ScoreRecord
from trellis.scoring.result import BASIS_CONSENT, BASIS_PRE_ASSESSMENT, Flag, Reason, ScoreResult
from trellis.trade.models import DocStatus, Firm

logger = logging.getLogger(__name__)

CONSENT_PURPOSE = "trade_data"
NO_CONSENT = ("No active consent to use this firm's trade data.",
              "该企业未授权使用其交易数据。")
PRE_ASSESSMENT = ("Pre-assessment under the park's data-sharing agreement: for the "
                  "invitation list only, not a credit decision (that needs the firm's "
                  "consent).",
                  "依据园区数据共享协议的预评估：仅用于邀请名单，不作为授信决定（授信须经企业本人授权）。")


# --- scorecards --------------------------------------------------------------------

def champion(*, session: Session) -> Scorecard:
    """The champion scorecard; installs the expert card as champion when there is none."""
    row = session.execute(select(Scorecard).where(
        col(Scorecard.status) == ScorecardStatus.CHAMPION)).scalars().first()
    if row is not None:
        return row
    existing = session.execute(select(Scorecard).where(
        col(Scorecard.version) == expert.VERSION)).scalars().first()
    if existing is None:
        spec = expert.spec()
        existing = Scorecard(version=spec["version"], name=spec["name"], kind="expert",
                             status=ScorecardStatus.CHAMPION, spec=spec,
                             notes="Installed as the cold-start champion.",
                             promoted_at=utcnow())
        try:
            # Several first requests of a fresh instance install it at once: one insert
            # wins, the others read the winner's row (never a 500 on a unique version).
            with session.begin_nested():
                session.add(existing)
                session.flush()
        except IntegrityError:
            won = session.execute(select(Scorecard).where(
                col(Scorecard.version) == expert.VERSION)).scalars().first()
            if won is None:
                raise
            existing = won
    if existing.status != ScorecardStatus.CHAMPION:
        existing.status = ScorecardStatus.CHAMPION
        existing.promoted_at = utcnow()
    session.add(existing)
    session.flush()
    logger.info("installed scorecard %s as champion", existing.version)
    return existing


def get_scorecard(*, session: Session, version: str) -> Scorecard:
    """The scorecard of *version*; raises ScorecardNotFound when there is none."""
    row = session.execute(select(Scorecard).where(col(Scorecard.version) == version)
                          ).scalars().first()
    if row is None:
        raise ScorecardNotFound(msg(N_("No scorecard has version %(version)s."), version=version))
    return row


# --- pure scoring over frames ------------------------------------------------------

def score_frames(fr: frames.Frames, spec: dict, *, consented: set[int] | None = None,
                 applied_on: dict[int, date] | None = None,
                 feats: pd.DataFrame | None = None,
                 pre_assessable: set[int] | None = None,
                 coverage: dict | None = None) -> list[ScoreResult]:
    """Score every firm in ``fr.scope`` (no database access).

    A firm outside *consented* is not scored, unless it is in *pre_assessable* (its
    cluster has a valid data basis): then it is scored with ``basis="pre_assessment"``,
    which the whitelist may use and a credit decision may not. *coverage* (firm id ->
    data kinds present, see ``trellis.onboarding.coverage``) lets a screen that needs a
    missing kind say "not assessable" instead of firing.
    """
    scope = fr.scope
    # The features and the screens in one computation: what both take of the frames
    # (the electricity readings, the anchors, ...) is made once (frames.kept).
    with frames.computing(fr):
        X = features.compute(fr, dynamics=scorecard.reads_any(spec, dynamics.COLUMNS)) \
            if feats is None else feats
        why = features.sufficiency(X)
        scored = scorecard.apply(spec, X)
        why_points = scorecard.all_reasons(spec, scored)
        feats_json = features.records(X)
        score_of, pd_of, grade_of = (scored.score.to_dict(), scored.pd.to_dict(),
                                     scored.grade.to_dict())
        unassessable: dict[int, list[dict]] = {}
        flags = screens.run(fr, X, scope, applied_on, coverage=coverage,
                            not_assessable=unassessable)
    # Behind on a Trellis loan: a person reviews (the grade is capped by scorecard.apply).
    for fid, flag in policy.flags(fr.exposures, scope).items():
        flags.setdefault(fid, []).append(flag)
    as_of = fr.as_of.date()
    pre_assessable = pre_assessable or set()
    out = []
    for fid in scope:
        basis = BASIS_CONSENT
        if consented is not None and fid not in consented and fid in pre_assessable:
            basis = BASIS_PRE_ASSESSMENT
        elif consented is not None and fid not in consented:
            out.append(ScoreResult(
                firm_id=fid, as_of=as_of, score=None, pd=None, grade=None, insufficient=True,
                insufficient_reasons=[NO_CONSENT[0]], insufficient_zh=[NO_CONSENT[1]],
                reasons=[], flags=[], scorecard_version=spec["version"], features={}))
            continue
        reasons_ = why[fid]
        feat = feats_json[fid]
        firm_flags: list[Flag] = flags.get(fid, [])
        if reasons_:
            out.append(ScoreResult(
                firm_id=fid, as_of=as_of, score=None, pd=None, grade=None, insufficient=True,
                insufficient_reasons=[r.en for r in reasons_],
                insufficient_zh=[r.zh for r in reasons_], reasons=[], flags=firm_flags,
                scorecard_version=spec["version"], features=feat, basis=basis,
                not_assessable=unassessable.get(fid, [])))
            continue
        out.append(ScoreResult(
            firm_id=fid, as_of=as_of, score=int(score_of[fid]),
            pd=scorecard.to_decimal_pd(pd_of[fid]), grade=str(grade_of[fid]),
            insufficient=False, insufficient_reasons=[],
            reasons=why_points[fid],
            flags=firm_flags, scorecard_version=spec["version"], features=feat, basis=basis,
            not_assessable=unassessable.get(fid, [])))
    return out


# --- with the database -------------------------------------------------------------

def consented_firms(*, session: Session, firm_ids: list[int]) -> set[int]:
    """Those of *firm_ids* whose trade data may be used for scoring (an active consent)."""
    rows = session.execute(select(col(Consent.firm_id)).where(
        col(Consent.purpose) == CONSENT_PURPOSE, col(Consent.withdrawn_at).is_(None),
        col(Consent.firm_id).in_(firm_ids))).scalars().all() if firm_ids else []
    return set(rows)


def pre_assessable_firms(*, session: Session, fr: frames.Frames,
                         today: date | None = None) -> set[int]:
    """Firms of *fr* whose cluster has a valid data basis today (onboarding's records)."""
    cluster_of = fr.firms["cluster_id"].dropna().astype("int64")
    ok = clusters_with_basis(session=session, cluster_ids=sorted(set(cluster_of)), on=today)
    scope = set(fr.scope)
    return {int(f) for f, c in cluster_of.items() if c in ok and f in scope}


def _coverage(session: Session, firm_ids: list[int], as_of: date,
              fr: frames.Frames | None = None) -> dict:
    """Firm id -> data kinds present (onboarding's coverage), for the screens' gate.

    On the firm path (*fr* with a kept cluster part) the kinds each cluster holds are kept
    with it, until a row is added to any table a kind is read from. On the portfolio path
    (*fr* read for the same *as_of*, with its declared tax) the firms' clusters and
    declared tax are taken from the frames instead of being read a second time."""
    by_cluster = declared = cluster_of = present = None
    if fr is not None and fr.kept is not None:
        cids = tuple(sorted({int(c) for c in fr.firms.loc[firm_ids, "cluster_id"].dropna()}))
        key = ("cluster_kinds", cids, coverage.rows_stamp(session))
        by_cluster = frames.kept(fr, key, lambda: coverage.cluster_kinds(
            session=session, cluster_ids=list(cids)))
    elif fr is not None and fr.declared is not None and fr.as_of.date() == as_of:
        declared = fr.declared
        clusters = fr.firms.loc[firm_ids, "cluster_id"]
        cluster_of = {int(f): None if pd.isna(c) else int(c)
                      for f, c in zip(firm_ids, clusters.tolist(), strict=True)}
        present = kinds_seen(fr)
    return coverage.kinds_by_firm(session=session, firm_ids=firm_ids, as_of=as_of,
                                  by_cluster=by_cluster, declared=declared,
                                  cluster_of=cluster_of, present=present)


SEEN_TABLE_IDS = 1 << 22  # firm ids below this: kinds_seen looks clusters up in a table


def kinds_seen(fr: frames.Frames) -> dict[int, set[str]]:
    """Cluster id -> the coverage kinds (``coverage.KIND_LABELS``) of which the frames
    hold a row whose firm, by the column the coverage reads the kind by (an invoice's or
    an order's seller, a payment's payee, a relationship's supplier, ...), is a firm of
    that cluster in ``fr.firms``: kinds the database need not be asked about
    (:func:`trellis.onboarding.coverage.cluster_kinds`). A row in the frames is a row in
    the database; the frames change only a late confirmation's status, to pending, which
    the confirmations kind does not count."""
    firms = fr.firms
    ids = firms.index.to_numpy(dtype="int64")
    cluster = firms["cluster_id"].to_numpy(dtype=float)
    known = ~np.isnan(cluster)
    labels, codes = np.unique(cluster[known], return_inverse=True)
    # each firm's cluster as a small code, looked up by firm id in one pass per kind
    # (a table over the ids' range; sorted ids when that range is wide)
    dense = bool(ids.size) and ids.min() >= 0 and ids.max() < SEEN_TABLE_IDS
    if dense:
        table: np.ndarray = np.full(int(ids.max()) + 1 if ids.size else 0, -1, dtype="int64")
        table[ids[known]] = codes
    else:
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        code_of = np.full(ids.size, -1, dtype="int64")
        code_of[np.flatnonzero(known)] = codes
        code_of = code_of[order]
    seen: dict[int, set[str]] = {}

    def add(kind: str, firm_ids) -> None:
        x = np.asarray(firm_ids, dtype="int64")
        if not x.size or not labels.size:
            return
        if dense:
            inside = (x >= 0) & (x < table.size)
            c = table[x[inside]]
        else:
            at = np.minimum(np.searchsorted(sorted_ids, x), sorted_ids.size - 1)
            c = np.where(sorted_ids[at] == x, code_of[at], -1)
        for k in np.flatnonzero(np.bincount(c[c >= 0], minlength=labels.size)).tolist():
            seen.setdefault(int(labels[k]), set()).add(kind)

    inv, orders = fr.invoices, fr.orders
    add("invoices", inv["seller_id"])
    status = inv["status"].to_numpy(dtype=object)  # numpy's comparison: half pandas' time
    add("confirmations", inv["seller_id"].to_numpy()[status != DocStatus.PENDING.value])
    add("relationships", fr.relationships["supplier_id"])
    add("orders", orders["seller_id"])
    if len(fr.deliveries) and len(orders):
        add("deliveries", orders["seller_id"].to_numpy()[features.member(
            orders["id"].to_numpy(), fr.deliveries["order_id"].to_numpy())])
    add("payments", fr.payments["payee_id"])
    add("credit_notes", fr.credit_notes["seller_id"])
    add("tax_filings", list(fr.declared or ()))
    add("loans", fr.outcomes["firm_id"])
    power = fr.utility
    add("electricity", power["firm_id"].to_numpy()[
        power["utility"].to_numpy(dtype=object) == "electricity"])
    add("headcount", fr.headcount["firm_id"])
    return seen


def _record(r: ScoreResult, cluster_id: int | None, run_id: int | None) -> dict:
    d = r.to_dict()
    return {"firm_id": r.firm_id, "cluster_id": cluster_id, "run_id": run_id,
            "as_of": r.as_of, "score": r.score, "pd": r.pd, "grade": r.grade,
            "insufficient": r.insufficient, "needs_review": r.needs_review,
            "insufficient_reasons": [{"en": en, "zh": zh} for en, zh in
                                     zip(r.insufficient_reasons, r.insufficient_zh
                                         or r.insufficient_reasons, strict=False)],
            "reasons": d["reasons"], "flags": d["flags"], "features": d["features"],
            "scorecard_version": r.scorecard_version, "computed_at": utcnow(),
            "basis": r.basis, "not_assessable": d["not_assessable"],
            "card_grade": r.card_grade, "grade_hold": r.grade_hold}


def result_from_record(rec: ScoreRecord) -> ScoreResult:
    """A stored score record as a ScoreResult (probability of default as a
    Decimal of six places)."""
    return ScoreResult(
        firm_id=rec.firm_id, as_of=rec.as_of, score=rec.score,
        pd=None if rec.pd is None else Decimal(str(rec.pd)).quantize(Decimal("0.000001")),
        grade=rec.grade, insufficient=rec.insufficient,
        insufficient_reasons=[x["en"] for x in rec.insufficient_reasons],
        insufficient_zh=[x["zh"] for x in rec.insufficient_reasons],
        reasons=[Reason(**x) for x in rec.reasons], flags=[Flag(**x) for x in rec.flags],
        scorecard_version=rec.scorecard_version, features=dict(rec.features),
        record_id=rec.id, basis=rec.basis or BASIS_CONSENT,
        not_assessable=list(rec.not_assessable or []),
        card_grade=rec.card_grade, grade_hold=rec.grade_hold)


def score_firm(*, session: Session, firm_id: int, as_of: date | None = None,
               applied_on: date | None = None, store: bool = True,
               cache: bool = True) -> ScoreResult:
    """Score one firm as of *as_of* (default today) with the champion scorecard.

    *applied_on* is the application date for the pre-application burst screen (default
    *as_of*). The result is stored (``score_results``) unless *store* is false. The
    cluster's part of the data is kept between calls (:func:`frames.load`); *cache*
    false reads and builds it afresh (the same result, slower).
    """
    firm = session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(msg(N_("No firm with id %(firm_id)s."), firm_id=firm_id))
    as_of = as_of or clock.today()
    card = champion(session=session)
    consented = consented_firms(session=session, firm_ids=[firm_id])
    fr = frames.load(session=session, as_of=as_of, firm_ids=[firm_id], cache=cache)
    if not fr.scope:
        raise ScoringError(msg(N_("Firm %(firm_id)s could not be read for scoring."),
                               firm_id=firm_id))
    result = score_frames(fr, card.spec, consented=consented,
                          applied_on={firm_id: applied_on} if applied_on else None,
                          coverage=_coverage(session, fr.scope, as_of, fr))[0]
    grade_hold.apply([result], card.spec, grade_hold.priors(session=session, firm_ids=[firm_id]),
                     grade_hold.margin(session=session, on=as_of))
    if store:
        rec = ScoreRecord(**_record(result, firm.cluster_id, None))
        session.add(rec)
        session.flush()
        result.record_id = rec.id
    return result


def score_portfolio(*, session: Session, as_of: date | None = None,
                    cluster_id: int | None = None, store: bool = True
                    ) -> tuple[list[ScoreResult], PortfolioRun]:
    """Score every firm (of one cluster, or all) in one vectorised pass; store the run."""
    started = time.perf_counter()
    as_of = as_of or clock.today()
    card = champion(session=session)
    fr = frames.load(session=session, as_of=as_of, cluster_id=cluster_id)
    consented = consented_firms(session=session, firm_ids=fr.scope)
    results = score_frames(fr, card.spec, consented=consented,
                           pre_assessable=pre_assessable_firms(session=session, fr=fr),
                           coverage=_coverage(session, fr.scope, as_of, fr))
    grade_hold.apply(results, card.spec, grade_hold.priors(session=session, firm_ids=[
        r.firm_id for r in results if r.grade is not None and r.basis == BASIS_CONSENT]),
        grade_hold.margin(session=session, on=as_of))
    inv = fr.invoices[fr.invoices["issue_date"] >= fr.as_of - pd.DateOffset(months=12)]
    run = PortfolioRun(as_of=as_of, cluster_id=cluster_id, scorecard_version=card.version,
                       n_firms=len(results),
                       n_scored=sum(r.score is not None for r in results),
                       n_insufficient=sum(r.insufficient for r in results),
                       n_flagged=sum(bool(r.flags) for r in results),
                       benford=screens.benford(inv["amount_fen"]))
    if store:
        session.add(run)
        session.flush()
        cluster_of = fr.firms["cluster_id"]
        rows = [_record(r, None if pd.isna(cluster_of.get(r.firm_id)) else
                        int(cluster_of.get(r.firm_id)), run.id) for r in results]
        for i in range(0, len(rows), 2000):
            session.execute(insert(ScoreRecord), rows[i:i + 2000])
        run.seconds = Decimal(f"{time.perf_counter() - started:.3f}")
        session.add(run)
        session.flush()
    logger.info("scored %d firms as of %s in %.2fs", len(results), as_of,
                time.perf_counter() - started)
    return results, run


def latest(*, session: Session, firm_id: int) -> ScoreResult | None:
    """The firm's most recent score, or None when it was never scored."""
    rec = session.execute(select(ScoreRecord).where(col(ScoreRecord.firm_id) == firm_id)
                          .order_by(col(ScoreRecord.computed_at).desc(), col(ScoreRecord.id).desc())
                          .limit(1)).scalars().first()
    return None if rec is None else result_from_record(rec)


def reproduce(*, session: Session, record_id: int) -> ScoreResult:
    """Re-score a stored result from its stored features with its own scorecard version.

    The score, PD, grade and reasons come out identical to the stored ones unless the
    scorecard row was edited (versions are immutable by convention); the published grade
    from the card's grade and what the hold read then (``grade_hold``).
    """
    rec = session.get(ScoreRecord, record_id)
    if rec is None:
        raise NotFound(msg(N_("No stored score with id %(record_id)s."), record_id=record_id))
    stored = result_from_record(rec)
    if stored.insufficient:
        return stored
    spec = get_scorecard(session=session, version=rec.scorecard_version).spec
    X = pd.DataFrame([{k: (float("nan") if v is None else v) for k, v in rec.features.items()}],
                     index=[rec.firm_id])
    s = scorecard.apply(spec, X)
    stored.score = int(s.score.iloc[0])
    stored.pd = scorecard.to_decimal_pd(s.pd.iloc[0])
    stored.card_grade = stored.grade = str(s.grade.iloc[0])
    stored.reasons = scorecard.reasons(spec, s.points.iloc[0], s.bins.iloc[0],
                                       ruled=None if s.policy is None else s.policy.iloc[0])
    hold = rec.grade_hold
    if hold and not grade_hold.capped(stored):
        # the earlier grade and the margin as they were read then (grade_hold)
        stored.grade = grade_hold.held_grade(spec, stored.score, stored.card_grade,
                                             hold.get("prior_grade"), int(hold.get("margin", 0)))
    return stored


_POINTS: LRUCache[tuple, dict[str, int]] = LRUCache(maxsize=4096)
_points_lock = threading.Lock()


def points(*, card: Scorecard, result: ScoreResult) -> dict[str, int]:
    """Each characteristic's points for a stored result's feature values under *card*
    (for the firm page). A card version's spec never changes, so the answer is kept per
    (card, feature values)."""
    try:
        key = (card.id, card.version, tuple(sorted(result.features.items())))
        hash(key)
    except TypeError:  # a feature value that is a list or a mapping: not kept
        key = None
    if key is not None:
        with _points_lock:
            hit = _POINTS.get(key)
        if hit is not None:
            return dict(hit)
    X = pd.DataFrame([{k: (float("nan") if v is None else v)
                       for k, v in result.features.items()}], index=[result.firm_id])
    s = scorecard.apply(card.spec, X)
    out = {k: int(round(v)) for k, v in s.points.iloc[0].items()}
    if key is not None:
        with _points_lock:
            _POINTS[key] = out
    return dict(out)


def breakdown(*, card: Scorecard, result: ScoreResult) -> list[dict]:
    """A stored result's points under *card*, characteristic by characteristic, with the
    most each can give and the points lost (:func:`trellis.scoring.scorecard.breakdown`):
    the figures the result's reasons state, for the firm page's table."""
    X = pd.DataFrame([{k: (float("nan") if v is None else v)
                       for k, v in result.features.items()}], index=[result.firm_id])
    s = scorecard.apply(card.spec, X)
    return scorecard.breakdown(card.spec, s.points.iloc[0], s.bins.iloc[0])


def indicative_limits(*, session: Session, cluster_id: int, firm_ids: list[int],
                      as_of: date) -> dict[int, int]:
    """Firm id -> indicative credit limit in fen, for an invitation list: the cluster is
    scored in one vectorised pass (not stored), then each limit is computed. Firms that
    cannot be scored get no figure."""
    results, _ = score_portfolio(session=session, as_of=as_of, cluster_id=cluster_id,
                                 store=False)
    by_id = {r.firm_id: r for r in results}
    limits = {}
    for fid in firm_ids:
        r = by_id.get(fid)
        if r is None or r.insufficient or r.grade is None:
            continue
        limits[fid] = credit_limit(session=session, firm_id=fid, result=r, as_of=as_of)
    return limits
