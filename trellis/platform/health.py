"""``/healthz``: database, chain and scheduler state, as JSON."""

from __future__ import annotations

import importlib
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from trellis.platform.web import db, settings

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def database_state() -> dict:
    try:
        session = db()
        session.execute(text("select 1"))
        version = session.execute(text("select version_num from alembic_version")).scalars().all()
        from alembic.script import ScriptDirectory

        from trellis.migrate import alembic_config

        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        # Applied = the recorded versions and everything below them (dependencies too).
        applied = {rev.revision for rev in script.iterate_revisions(tuple(version), "base")}
        current = bool(version) and set(script.get_heads()) <= applied
        return {"ok": current, "dialect": session.get_bind().dialect.name,
                "migrations": sorted(version), "up_to_date": current}
    except Exception as exc:
        logger.warning("health: database check failed: %s", exc)
        return {"ok": False, "error": str(exc).splitlines()[0][:300]}


def chain_state() -> dict:
    try:
        health = importlib.import_module("trellis.chain.health")
    except ModuleNotFoundError:
        return {"ok": False, "error": "chain module not installed"}
    try:
        return health.status(settings(), session=db())
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0][:300]}


def scheduler_state() -> dict:
    mode = settings().scheduler
    holder = current_app.extensions.get("trellis.scheduler")
    state = {"mode": mode, "running_here": bool(holder and holder.running)}
    try:
        from sqlmodel import select

        from trellis.jobs import JobRun

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
    body = {"database": database_state(), "chain": chain_state(),
            "scheduler": scheduler_state()}
    ok = body["database"]["ok"]
    body["ok"] = ok and body["chain"].get("ok", False)
    return jsonify(body), 200 if ok else 503
