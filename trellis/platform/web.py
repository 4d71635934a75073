"""Helpers every view uses: the request's session, roles, the firm, the audit trail.

The session lives on ``flask.g`` for the request (or CLI command) and is closed at
teardown; a view commits once with :func:`commit`. Domain errors
(:class:`~trellis.errors.TrellisError`) raised in views are turned into flash messages or
JSON errors by the handlers in :mod:`trellis.platform.errors`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlmodel import Session, select

from trellis.config import Settings


def db() -> Session:
    """The session of this request or command, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["trellis.sessions"]()
    return g.db_session


def commit() -> None:
    db().commit()


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def settings() -> Settings:
    return current_app.extensions["trellis.settings"]


def user_role() -> str | None:
    if getattr(g, "api_token", None) is not None:
        return g.api_role
    if current_user and current_user.is_authenticated:
        return current_user.role
    return None


def roles_required(*roles: str) -> Callable:
    """Allow only logged-in users with one of *roles*; others get 401/403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorator


def current_firm_id() -> int | None:
    """The firm of the current vendor/anchor user or API token; None for bank staff."""
    if getattr(g, "api_firm_id", None) is not None:
        return g.api_firm_id
    if current_user and current_user.is_authenticated:
        return current_user.firm_id
    return None


def visible_cluster_ids() -> list[int] | None:
    """Clusters the current user may see: None means all (admin, auditor)."""
    # Late: a bare application (read-only commands) imports only the tables it reads.
    from trellis.trade.models import ClusterManager, Firm

    role = user_role()
    if role in ("admin", "auditor"):
        return None
    # Read once a request: a page asks for each of its lists and counts (the loan book
    # four times), and whom a person may see does not change while a page is built.
    key = (role, current_user.id if role == "rm" else current_firm_id())
    known = g.get("_visible_clusters")
    if known is not None and known[0] == key:
        return list(known[1])
    if role == "rm":
        found = list(db().exec(select(ClusterManager.cluster_id).where(
            ClusterManager.user_id == current_user.id)).all())
    elif key[1] is None:
        found = []
    else:
        firm = db().get(Firm, key[1])
        found = [firm.cluster_id] if firm and firm.cluster_id else []
    g._visible_clusters = (key, found)
    return list(found)


def firm_visible(firm_id: int) -> bool:
    """Whether the current user may see *firm_id*'s records."""
    from trellis.trade.models import Firm  # late: as in visible_cluster_ids

    own = current_firm_id()
    role = user_role()
    if role in ("vendor", "anchor"):
        return own == firm_id
    clusters = visible_cluster_ids()
    if clusters is None:
        return True
    firm = db().get(Firm, firm_id)
    return firm is not None and firm.cluster_id in clusters


def audit(action: str, record_type: str = "", record_id: object = "", *, by=None,
          **detail) -> None:
    """Record who did *action* on which record, for the audit trail (flushes). *by*: the
    person who did it when nobody is signed in yet (a vendor registering)."""
    from trellis.accounts import services as accounts  # not at import: commands start fast

    actor = by or (current_user if current_user and current_user.is_authenticated else None)
    label = ""
    if actor is None and getattr(g, "api_token", None) is not None:
        label = f"api-token:{g.api_token.prefix}"
    accounts.record(session=db(), action=action, actor=actor, actor_label=label,
                    record_type=record_type, record_id=record_id, detail=detail,
                    remote_addr=request.remote_addr or "" if request else "")


def audit_chain_event(session: Session, event) -> None:
    """Write a chain event (:mod:`trellis.chain.events`: a root the chain lost and sent to
    be anchored again, and its re-anchoring, recorded for the auditor in
    ``chain_reanchors``) into the admin audit trail: done by Trellis itself (no person),
    on the batch, in *session*'s transaction (flushes; the caller commits). The chain core
    imports no accounts, so :func:`install_audit_listeners` gives it this listener."""
    from trellis.accounts import services as accounts
    from trellis.chain import events

    if isinstance(event, events.RootLost):
        accounts.record(session=session, action="chain.root_lost", record_type="chain_batch",
                        record_id=event.batch_id,
                        detail={"reanchor_id": event.reanchor_id, "root": event.root,
                                "why": event.reason, "chain_id": event.chain_id,
                                "lost_tx_hash": event.tx_hash,
                                "lost_block": event.block_number})
    elif isinstance(event, events.RootReanchored):
        accounts.record(session=session, action="chain.reanchored", record_type="chain_batch",
                        record_id=event.batch_id,
                        detail={"reanchor_id": event.reanchor_id, "root": event.root,
                                "chain_id": event.chain_id, "new_tx_hash": event.tx_hash,
                                "new_block": event.block_number,
                                "lost_block": event.old_block_number})


def install_audit_listeners() -> None:
    """Listen to the chain's events wherever jobs run (pages, scheduler, worker): once,
    however many applications a process builds (the listener is registered by name)."""
    from trellis.chain import events

    events.listen("audit_trail", audit_chain_event)


def enqueue(name: str, **kwargs) -> str:
    """Queue background task *name* in this request's transaction; return its run id.

    The message goes out when the view commits (nothing is sent if it does not); a worker
    runs the task (under test, it runs right after the commit).
    """
    return current_app.extensions["trellis.tasks"].enqueue(name, session=db(), **kwargs)
