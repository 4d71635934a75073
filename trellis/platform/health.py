"""``/healthz``: ok or not ok for anyone (a load balancer); database, chain and scheduler
details only for a logged-in administrator or auditor.

The anonymous answer is cheap (one query and a cached migration head set) and says
nothing about the deployment: no chain account, contract, dialect or migration names."""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify
from flask_login import current_user
from sqlalchemy import text
from sqlmodel import select

from trellis.chain import health as chain_health
from trellis.jobs import JobRun
from trellis.platform.web import db, settings

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@functools.lru_cache(maxsize=8)
def _applied_and_heads(version: tuple[str, ...]) -> tuple[frozenset, frozenset]:
    # Late: alembic is heavy to import and only the first health check needs it.
    from alembic.script import ScriptDirectory

    from trellis.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    # Applied = the recorded versions and everything below them (dependencies too).
    applied = frozenset(rev.revision for rev in script.iterate_revisions(version, "base"))
    return applied, frozenset(script.get_heads())


def database_state() -> dict:
    try:
        session = db()
        version = session.execute(text("select version_num from alembic_version")).scalars().all()
        applied, heads = _applied_and_heads(tuple(sorted(version)))
        current = bool(version) and heads <= applied
        return {"ok": current, "dialect": session.get_bind().dialect.name,
                "migrations": sorted(version), "up_to_date": current}
    except Exception as exc:
        logger.warning("health: database check failed: %s", exc)
        return {"ok": False, "error": str(exc).splitlines()[0][:300]}


def chain_state() -> dict:
    try:
        return chain_health.status(settings(), session=db())
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0][:300]}


def scheduler_state() -> dict:
    mode = settings().scheduler
    holder = current_app.extensions.get("trellis.scheduler")
    state = {"mode": mode, "running_here": bool(holder and holder.running)}
    try:
        last = db().exec(select(JobRun).order_by(JobRun.id.desc()).limit(1)).first()
        if last is not None:
            state["last_run"] = {"job": last.job_id, "at": last.started_at.isoformat(),
                                 "ok": last.ok}
    except Exception as exc:
        state["error"] = str(exc).splitlines()[0][:300]
    state["ok"] = "error" not in state
    return state


@bp.get("/healthz")
def healthz():
    if not (current_user.is_authenticated and current_user.role in ("admin", "auditor")):
        ok = database_state()["ok"]
        return jsonify({"ok": ok}), 200 if ok else 503
    body = {"database": database_state(), "chain": chain_state(),
            "scheduler": scheduler_state()}
    ok = body["database"]["ok"]
    body["ok"] = ok and body["chain"].get("ok", False)
    return jsonify(body), 200 if ok else 503
