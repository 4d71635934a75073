"""JSON API routes of the scoring area (under ``/api/v1``), for bank staff."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _

from trellis import clock
from trellis.errors import NotFound, ValidationError
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.web import audit, commit, db, firm_visible, visible_cluster_ids
from trellis.scoring import limits, queries, registry, service
from trellis.trade.models import Firm

bp = Blueprint("scoring_api", __name__)

STAFF = ("admin", "rm", "auditor")
_TEXT = {"type": "object", "properties": {"code": {"type": "string"}, "en": {"type": "string"},
                                          "zh": {"type": "string"}}}
SCORE = {"type": "object", "properties": {
    "firm_id": {"type": "integer"}, "as_of": {"type": "string", "format": "date"},
    "score": {"type": ["integer", "null"]}, "pd": {"type": ["string", "null"]},
    "grade": {"type": ["string", "null"], "enum": ["A", "B", "C", "D", "E", None],
              "description": "The published grade (prices and limits read it)."},
    "card_grade": {"type": ["string", "null"], "enum": ["A", "B", "C", "D", "E", None],
                   "description": "The grade the card's PD alone gives; differs from grade "
                                  "when the published grade was held inside its band "
                                  "widened by grade_hold.margin points."},
    "grade_hold": {"type": ["object", "null"], "properties": {
        "margin": {"type": "integer"}, "prior_id": {"type": "integer"},
        "prior_grade": {"type": "string"}}},
    "insufficient": {"type": "boolean"},
    "insufficient_reasons": {"type": "array", "items": {"type": "string"}},
    "needs_review": {"type": "boolean"},
    "reasons": {"type": "array", "items": {"allOf": [_TEXT, {"type": "object", "properties": {
        "points_lost": {"type": "integer"}}}]}},
    "flags": {"type": "array", "items": {"allOf": [_TEXT, {"type": "object", "properties": {
        "evidence": {"type": "object"}}}]}},
    "scorecard_version": {"type": "string"}, "features": {"type": "object"},
    "record_id": {"type": ["integer", "null"]},
    "limit": {"type": ["object", "null"]}}}


def _firm(firm_id: int) -> Firm:
    firm = db().get(Firm, firm_id)
    if firm is None or not firm_visible(firm_id):
        raise NotFound(_("That firm does not exist or is not visible to you."))
    return firm


def _as_of() -> date:
    raw = request.args.get("as_of")
    if not raw:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("as_of must be a date (YYYY-MM-DD)."), field="as_of") from None


def _payload(result) -> dict:
    out = result.to_dict()
    out["limit"] = None
    if not result.insufficient:
        out["limit"] = limits.explain_limit(session=db(), firm_id=result.firm_id, result=result,
                                            as_of=result.as_of)
    return out


@bp.get("/firms/<int:firm_id>/score")
@api_auth(roles=STAFF)
@doc(summary="A firm's latest stored score result (score, PD as a decimal string, grade, "
             "top-4 reasons, flags with evidence, features used, scorecard version, limit).",
     response=SCORE, tags=("scoring",))
def latest_score(firm_id):
    _firm(firm_id)
    result = service.latest(session=db(), firm_id=firm_id)
    if result is None:
        raise NotFound(_("This firm has not been scored yet; POST to score it."))
    return jsonify(_payload(result))


@bp.post("/firms/<int:firm_id>/score")
@api_auth(roles=("admin", "rm"))
@doc(summary="Score a firm now with the champion scorecard (optional ?as_of=YYYY-MM-DD); "
             "the result is stored and returned.", response=SCORE, tags=("scoring",))
def score_now(firm_id):
    _firm(firm_id)
    result = service.score_firm(session=db(), firm_id=firm_id, as_of=_as_of())
    audit("scoring.score", "firm", firm_id, score=result.score, grade=result.grade)
    payload = _payload(result)
    commit()
    return jsonify(payload), 201


@bp.get("/scoring/clusters/<int:cluster_id>/distribution")
@api_auth(roles=STAFF)
@doc(summary="Score distribution of a cluster's latest portfolio run: histogram, grades, "
             "counts of insufficient and flagged firms, Benford test.",
     response={"type": "object"}, tags=("scoring",))
def distribution(cluster_id):
    visible = visible_cluster_ids()
    if visible is not None and cluster_id not in visible:
        raise NotFound(_("There is no such cluster, or it is not assigned to you."))
    run = queries.latest_run(db(), cluster_id)
    if run is None:
        raise NotFound(_("This cluster has not been scored yet."))
    out = dict(queries.run_overview(db(), run)[0])
    out.update(as_of=run.as_of.isoformat(), scorecard_version=run.scorecard_version,
               benford=run.benford)
    return jsonify(out)


@bp.get("/scorecards/<version>")
@api_auth(roles=STAFF)
@doc(summary="A scorecard version as JSON (bins, log-odds, scaling, cut-offs, validation).",
     response={"type": "object"}, tags=("scoring",))
def scorecard_json(version):
    return Response(registry.export_json(session=db(), version=version),
                    mimetype="application/json")
