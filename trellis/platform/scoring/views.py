"""Pages of the scoring area, for RMs and admins (auditors read).

- ``/scoring/``: the portfolio's score distribution, grades, firms to review, Benford test
  and population stability, per cluster; rescore now.
- ``/scoring/firms/<id>``: a firm's risk page: score, grade, PD, reasons, flags with their
  evidence, features against the cluster's percentiles, limit, monthly flows (Chart.js)
  and its trading neighbourhood.
- ``/scoring/scorecards``: versions with their points, validation report and monitoring.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from trellis import clock
from trellis.errors import NotFound, ValidationError
from trellis.paging import clean, page_of
from trellis.platform.i18n import day
from trellis.platform.paging import args as paging_args
from trellis.platform.scoring import readable
from trellis.platform.web import (
    audit,
    commit,
    db,
    firm_visible,
    roles_required,
    visible_cluster_ids,
)
from trellis.protection import notifications as protection_notes
from trellis.scoring import (
    expert,
    grade_hold,
    history,
    limits,
    policy,
    queries,
    registry,
    scorecard,
    service,
    stability,
)
from trellis.scoring.errors import ScorecardNotFound
from trellis.scoring.models import Scorecard
from trellis.trade.models import Cluster, Firm

bp = Blueprint("scoring", __name__, url_prefix="/scoring")

STAFF = ("admin", "rm", "auditor")
HOOD_ROWS = 50  # trading partners shown each way on a firm's risk page
DECIDERS = ("admin", "rm")


def _clusters() -> list[Cluster]:
    visible = visible_cluster_ids()
    stmt = select(Cluster).order_by(Cluster.name)
    if visible is not None:
        stmt = stmt.where(Cluster.id.in_(visible or [-1]))
    return list(db().execute(stmt).scalars().all())


def _firm_or_404(firm_id: int) -> Firm:
    firm = db().get(Firm, firm_id)
    if firm is None or not firm_visible(firm_id):
        raise NotFound(_("That firm does not exist or is not visible to you."))
    return firm


def _zh() -> bool:
    return get_locale() is not None and get_locale().language == "zh"


@bp.app_template_filter("feature")
def feature_value(value, name: str = ""):
    """A feature value in words: money in yuan, shares as percent, days, counts, a tier in
    words, a network weight as the cluster's share (:mod:`.readable`)."""
    return readable.unit_value(readable.feature_unit(name), value)


@bp.get("/")
@roles_required(*STAFF)
def index():
    clusters = _clusters()
    code = request.args.get("cluster")
    cluster = next((c for c in clusters if c.code == code), clusters[0] if clusters else None)
    run = queries.latest_run(db(), cluster.id) if cluster else None
    dist, flagged = queries.run_overview(db(), run) if run else (queries.distribution([]), [])
    sorts = ("score", "firm")
    wanted = clean(**paging_args(), sorts=sorts)
    found = None
    if wanted["q"]:
        # the search finds any firm the reader may see, flagged or not (reader 11, R24)
        found = queries.find_firms(db(), cluster_ids=visible_cluster_ids(), q=wanted["q"],
                                   page=wanted["page"], per_page=wanted["per_page"])
    names = {}
    if flagged:  # the names the review list shows: the flagged firms'
        ids = [r.firm_id for r in flagged]
        names = dict(db().execute(select(Firm.id, Firm.name).where(Firm.id.in_(ids))).all())
    key = ((lambda r: names.get(r.firm_id, "")) if wanted["sort"] == "firm"
           else (lambda r: (r.score or 0, r.firm_id)))
    review = page_of(sorted(flagged, key=key, reverse=wanted["desc"]),
                     **{**wanted, "q": ""}, sorts=sorts)
    card = service.champion(session=db())
    reports = queries.stability_reports(db(), card.version, limit=1)
    risk_notes = [n for n in protection_notes.for_user(session=db(), user_id=current_user.id,
                                                       limit=20)
                  if n.kind == "scorecard_flag"][:5]
    run_title = card_title(card)
    if run is not None and run.scorecard_version != card.version:
        try:
            run_title = card_title(service.get_scorecard(session=db(),
                                                         version=run.scorecard_version))
        except ScorecardNotFound:  # a card since removed: its version is all there is
            run_title = run.scorecard_version
    commit()  # the expert card may just have been installed
    return render_template("scoring/index.html", clusters=clusters, cluster=cluster, run=run,
                           champion_title=card_title(card), run_card_title=run_title,
                           dist=dist, review=review.items, found=found,
                           flagged_ids={r.firm_id for r in flagged},
                           page=review, params={"cluster": cluster.code} if cluster else {},
                           names=names, champion=card, risk_notes=risk_notes, zh=_zh(),
                           stability=reports[0] if reports else None)


@bp.post("/rescore")
@roles_required(*DECIDERS)
def rescore():
    clusters = {c.code: c for c in _clusters()}
    cluster = clusters.get(request.form.get("cluster", ""))
    if cluster is None:
        raise NotFound(_("There is no such cluster, or it is not assigned to you."))
    _results, run = service.score_portfolio(session=db(), as_of=clock.today(),
                                            cluster_id=cluster.id)
    audit("scoring.rescore", "cluster", cluster.id, run_id=run.id, scored=run.n_scored)
    commit()
    flash(_("Scored %(n)d firms: %(scored)d scored, %(flagged)d flagged for review.",
            n=run.n_firms, scored=run.n_scored, flagged=run.n_flagged), "success")
    return redirect(url_for("scoring.index", cluster=cluster.code))


@bp.get("/firms/<int:firm_id>")
@roles_required(*STAFF)
def firm(firm_id):
    f = _firm_or_404(firm_id)
    result = service.latest(session=db(), firm_id=firm_id)
    cluster = db().get(Cluster, f.cluster_id) if f.cluster_id else None
    limit = None
    as_of = result.as_of if result else clock.today()
    if result is not None and not result.insufficient:
        limit = limits.explain_limit(session=db(), firm_id=firm_id, result=result, as_of=as_of)
    card = None
    points: list[dict] = []
    if result is not None and result.features:
        try:
            card = service.get_scorecard(session=db(), version=result.scorecard_version)
        except NotFound:
            card = None
        if card is not None:
            points = service.breakdown(card=card, result=result)
    # An anchor trades with thousands of firms: the largest partners each way are shown.
    hood, hood_total = queries.largest_neighbours(db(), firm_id, as_of, HOOD_ROWS)
    labels = _labels(card.spec if card else expert.spec())
    # the firms a flag's evidence names by USCC (a cycle's legs), by name
    usccs = set().union(*(readable.evidence_usccs(
        f.get("evidence") if isinstance(f, dict) else getattr(f, "evidence", None))
        for f in (result.flags if result else [])))
    names = dict(db().execute(select(Firm.uscc, Firm.name).where(
        Firm.uscc.in_(usccs))).all()) if usccs else {}
    past = history.shown_once(history.history(session=db(), firm_id=firm_id))
    return render_template(
        "scoring/firm.html", firm=f, cluster=cluster, result=result, limit=limit,
        hold=grade_hold.explain(card.spec, result) if card is not None and result else None,
        past=past, moves={s.record_id: s.before for s in history.grade_steps(
            past, limit=len(past)) if s.before},
        pct=queries.percentiles(db(), f, result.features if result else {}),
        hood=hood, hood_total=hood_total, points=points, card=card, zh=_zh(), labels=labels,
        values=result.features if result else {},
        evidence=lambda ev: readable.evidence_rows(ev, names=names), explain=readable.EXPLAIN,
        card_title=card_title(card) if card is not None or result is None
        else result.scorecard_version,
        all_features=readable.feature_rows(result.features if result else {}, labels))


def _labels(spec: dict) -> dict:
    zh = _zh()
    out = {name: zh_ if zh else en for name, (en, zh_) in queries.EXTRA_LABELS.items()}
    out.update({c["name"]: (c.get("label_zh") if zh else c.get("label_en")) or c["name"]
                for c in spec["characteristics"] if c["name"] not in queries.EXACT_LABELS})
    return out


@bp.post("/firms/<int:firm_id>/score")
@roles_required(*DECIDERS)
def score_now(firm_id):
    _firm_or_404(firm_id)
    result = service.score_firm(session=db(), firm_id=firm_id, as_of=clock.today())
    audit("scoring.score", "firm", firm_id, score=result.score, grade=result.grade,
          version=result.scorecard_version)
    commit()
    if result.insufficient:
        flash(_("Not scored: %(why)s", why="; ".join(
            result.insufficient_zh if _zh() else result.insufficient_reasons)), "warning")
    else:
        flash(_("Scored %(score)d, grade %(grade)s.", score=result.score, grade=result.grade),
              "success")
    return redirect(url_for("scoring.firm", firm_id=firm_id))


@bp.get("/firms/<int:firm_id>/flows.json")
@roles_required(*STAFF)
def flows(firm_id):
    _firm_or_404(firm_id)
    return {"months": queries.monthly_flows(db(), firm_id, clock.today())}


@bp.get("/scorecards")
@roles_required(*STAFF)
def scorecards():
    service.champion(session=db())
    commit()
    rows = db().execute(select(Scorecard).order_by(Scorecard.created_at.desc())).scalars().all()
    return render_template("scoring/scorecards.html", cards=rows,
                           titles={c.version: card_title(c) for c in rows})


@bp.get("/scorecards/<version>")
@roles_required(*STAFF)
def scorecard_page(version):
    card = service.get_scorecard(session=db(), version=version)
    reports = queries.stability_reports(db(), version)
    validation = card.validation or card.spec.get("validation") or {}
    return render_template("scoring/scorecard.html", card=card, table=readable.bin_rows(
        card.spec, scorecard.scorecard_table(card.spec)), validation=validation,
        reports=reports, labels=_labels(card.spec), zh=_zh(),
        words=card_words(card.spec, _zh()), card_title=card_title(card),
        bands=readable.grade_bands(card.spec))


_EDITION = re.compile(r"^expert-(\d{4})\.(\d{1,2})([a-z]?)$")


def card_title(card) -> str:
    """A scorecard as people name it, not its version code (``expert-2026.12`` reads
    专家冷启动评分卡（交易流）（2026 年 12 月版）, ``expert-2026.12b`` 2026 年 12 月第 2 版);
    the code stays in the page's link title."""
    spec = card.spec if card is not None else expert.spec()
    version = card.version if card is not None else spec.get("version", "")
    words = card_words(spec, _zh())
    kind = spec.get("kind") or getattr(card, "kind", "")
    name = words["name"] if kind == "expert" else _("Trained scorecard")
    m = _EDITION.match(version or "")
    if m and m.group(3):   # expert-2026.12b: the month's second version
        return _("%(name)s, %(y)s-%(m)s edition, version %(r)s", name=name, y=m.group(1),
                 m=int(m.group(2)), r=ord(m.group(3)) - ord("a") + 1)
    if m:
        return _("%(name)s, %(y)s-%(m)s edition", name=name, y=m.group(1),
                 m=int(m.group(2)))
    created = getattr(card, "created_at", None)
    if created is not None:
        return _("%(name)s, made on %(d)s", name=name, d=day(created))
    return name


def card_words(spec: dict, zh: bool) -> dict:
    """A scorecard's name, description and each characteristic's rationale in the reader's
    language: the expert card's from its Chinese texts, a trained card's information
    value in words; anything else as written. ``best``: per characteristic the values that
    earn its most points, read from its bins (:func:`readable.best_words`), so the prose
    keeps to the why and cannot contradict the points."""
    is_expert = spec.get("kind") == "expert" and spec.get("name") == expert.NAME
    why, best = {}, {}
    for ch in spec.get("characteristics", []):
        text = ch.get("why", "")
        if zh and ch.get("why_zh"):   # the card's own words (expert-2026.12d on)
            text = ch["why_zh"]
        elif zh and is_expert and ch["name"] in expert.WHY_ZH:
            text = expert.WHY_ZH[ch["name"]]
        elif zh:
            m = re.fullmatch(r"Information value ([\d.]+) on the training data\.", text)
            text = f"训练数据上的信息值为 {m.group(1)}。" if m else text
        why[ch["name"]] = text
        best[ch["name"]] = readable.best_words(ch)
    return {"name": expert.NAME_ZH if zh and is_expert else spec.get("name", ""),
            "description": expert.DESCRIPTION_ZH if zh and is_expert
            else spec.get("description", ""), "why": why, "best": best}


@bp.get("/scorecards/<version>/export.json")
@roles_required(*STAFF)
def export(version):
    text = registry.export_json(session=db(), version=version)
    return Response(text, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="scorecard-{version}.json"'})


@bp.post("/scorecards/import")
@roles_required("admin")
def import_card():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(_("Choose a scorecard JSON file."), field="file")
    text = upload.read().decode("utf-8-sig", errors="replace")
    row = registry.register(session=db(), spec=scorecard.loads(text),
                            notes=request.form.get("notes", "")[:2000])
    audit("scoring.import", "scorecard", row.version)
    commit()
    flash(_("Scorecard %(v)s stored as a challenger.", v=row.version), "success")
    return redirect(url_for("scoring.scorecard_page", version=row.version))


@bp.post("/scorecards/<version>/promote")
@roles_required("admin")
def promote(version):
    out = registry.promote(session=db(), version=version)
    audit("scoring.promote", "scorecard", version, **{k: v for k, v in out.items()
                                                      if isinstance(v, (str, int, float, bool))})
    commit()
    flash(_("Scorecard %(v)s is now the champion.", v=version), "success")
    return redirect(url_for("scoring.scorecard_page", version=version))


@bp.post("/stability")
@roles_required(*DECIDERS)
def stability_now():
    report = stability.record(session=db())
    commit()
    if report is None:
        flash(_("Nothing scored yet: rescore a cluster first."), "warning")
        return redirect(url_for("scoring.index"))
    return redirect(url_for("scoring.scorecard_page", version=report.scorecard_version))


@bp.app_template_filter("feature_bound")
def feature_bound(value, name: str = ""):
    """A band's edge for feature *name*, as the scorecard page writes its bins
    (:func:`readable.bound_words`: a change signed, −5.0% not 下降 5.0%, whose "及以上"
    read as a fall of 5% or more; reader 12, G10)."""
    if value is None:
        return "—"
    return readable.bound_words(readable.feature_unit(name), float(value))


@bp.app_template_filter("fraud_flags")
def fraud_flags(flags) -> list:
    """The fraud warnings among a score's or an application's flags (not its own-loan one)."""
    return policy.fraud_flags(flags)


@bp.app_template_filter("tojson_pretty")
def tojson_pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


