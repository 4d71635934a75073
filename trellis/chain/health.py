"""Chain health for ``/healthz`` and the auditor pages: never raises, never waits long.

``status(settings)`` reports the backend, chain id, contract, head block, the signing
account, the queue, batch states and the last error of the anchoring jobs in this
process (a wrong chain id or a missing contract shows here, with what to fix), and the
alerts the jobs raised in the database (:func:`raise_alert`): the fee ceiling reached,
anchored roots the chain lost. Any alert makes ``ok`` false.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from trellis import db
from trellis.chain.errors import TrellisError
from trellis.chain.models import Alert, Batch, Document, DocumentStatus
from trellis.clock import utcnow
from trellis.messages import N_, Message, msg, new_reference, stored, unexpected

if TYPE_CHECKING:
    from trellis.config import Settings


logger = logging.getLogger(__name__)

_errors: dict[str, tuple[str, str, str]] = {}   # English, when (ISO), for people
_lock = threading.Lock()


def _key(settings: Settings) -> str:
    return settings.chain_url or "embedded"


def record_error(settings: Settings, error: TrellisError | str | None) -> None:
    """Remember the last chain error of this process (None clears it): its English text
    and, for a Trellis error, its message for people (see :func:`for_people`)."""
    with _lock:
        if error is None:
            _errors.pop(_key(settings), None)
        else:
            english = error.message if isinstance(error, TrellisError) else str(error)
            _errors[_key(settings)] = (english, utcnow().isoformat(timespec="seconds"),
                                       for_people(error))


def last_error(settings: Settings) -> tuple[str, str] | None:
    """(English message, when as ISO time) of this process's last chain error, or None."""
    with _lock:
        found = _errors.get(_key(settings))
    return (found[0], found[1]) if found else None


def for_people(error: TrellisError | str) -> str:
    """*error* as a page keeps it (:func:`trellis.messages.stored`): its catalogued template
    and parameters, the library's text only as the hidden ``detail``."""
    if isinstance(error, TrellisError):
        return stored(Message(error.template, error.params))
    return str(error)


def raise_alert(*, session: Session, key: str, message: str) -> None:
    """Raise (or restate) the alert *key* with *message*; logged at ERROR when new or
    changed. Flushes."""

    alert = session.get(Alert, key)
    if alert is None or alert.message != message:
        logger.error("chain alert %s: %s", key, message)
    if alert is None:
        session.add(Alert(key=key, message=message))
    else:
        alert.message, alert.updated_at = message, utcnow()
    session.flush()


def clear_alert(*, session: Session, key: str) -> None:
    """Clear the alert *key* (logged when it was raised). Flushes."""

    alert = session.get(Alert, key)
    if alert is not None:
        logger.warning("chain alert %s cleared (raised %s)", key,
                       alert.raised_at.isoformat(timespec="seconds"))
        session.delete(alert)
        session.flush()


def alerts(session: Session) -> list[dict[str, Any]]:
    """The raised alerts, oldest first: ``key``, ``message``, ``since`` (ISO time)."""

    return [{"key": a.key, "message": a.message,
             "since": a.raised_at.isoformat(timespec="seconds")}
            for a in session.scalars(select(Alert).order_by(col(Alert.raised_at)))]


def _database_part(session: Session) -> dict[str, Any]:
    queued, oldest = session.execute(
        select(func.count(), func.min(Document.created_at))
        .where(col(Document.status) == DocumentStatus.QUEUED)).one()
    states = dict(session.execute(select(col(Batch.state), func.count()).group_by(col(Batch.state)))
                  .tuples().all())
    last = session.scalars(select(Batch).where(col(Batch.block_number).is_not(None))
                           .order_by(col(Batch.id).desc()).limit(1)).first()
    newest = session.scalars(select(Batch).where(col(Batch.state).in_(
        ["included", "safe", "finalized"])).order_by(col(Batch.block_number).desc(),
                                                     col(Batch.id).desc()).limit(1)).first()
    return {"queue_length": int(queued),
            "oldest_queued_at": oldest.isoformat(timespec="seconds") if oldest else None,
            "batches": {k: int(v) for k, v in states.items()},
            "last_anchored_block": last.block_number if last else None,
            "alerts": alerts(session),
            "_newest": (newest.id, newest.root, newest.block_number) if newest else None}


def status(settings: Settings, *, session: Session | None = None) -> dict[str, Any]:
    """A dict for the health page: ``ok`` (bool), ``backend``, ``chain_id``,
    ``contract``, ``account``, ``head_block``, ``queue_length``, ``batches`` (count per
    state), ``last_error`` and ``error`` (why ``ok`` is false; English, with any library
    text). ``error_message`` and ``last_error["for_people"]`` are the same as pages keep
    them (:func:`for_people`: the reader's language, the library's text only for an
    administrator). *session* (optional) is
    used for the queue; without one the settings' database is opened."""

    out: dict[str, Any] = {"ok": True, "backend": "rpc" if settings.chain_url else "embedded",
                 "chain_id": None, "contract": None, "account": None, "head_block": None,
                 "error": None, "error_message": None}
    # late: the node client imports web3 (seconds); /healthz is in every web worker
    from trellis.chain.client import get_chain

    try:
        chain = get_chain(settings)
        out["contract"] = chain.contract_address
        out["account"] = chain.address
        chain.check(force=True)
        out["chain_id"] = chain.chain_id
        out["head_block"] = chain.head()
    except TrellisError as exc:
        out["ok"], out["error"], out["error_message"] = False, exc.message, for_people(exc)
    except Exception as exc:  # the health page must answer whatever happens
        reference = new_reference()
        logger.exception("chain health check failed (reference %s)", reference)
        out["ok"], out["error"] = False, f"{type(exc).__name__}: {exc}"
        out["error_message"] = stored(unexpected(exc, reference))
    try:
        if session is None:
            engine = _engine(settings.database_url)
            with db.make_sessionmaker(engine)() as own:
                out.update(_database_part(own))
        else:
            out.update(_database_part(session))
    except Exception as exc:
        logger.warning("chain health: cannot read the queue: %s", exc)
        out["queue_length"] = None
    newest = out.pop("_newest", None)
    if out["ok"] and newest is not None:
        # One call tells whether the chain still has the newest anchoring: a chain
        # rewound or restarted shows here before the next tracking pass re-checks all.
        try:
            if not chain.anchored_at(newest[1]):
                out["ok"] = False
                lost = msg(N_("The chain no longer has the root of batch %(batch)s "
                              "(anchored in block %(block)s): its proofs do not verify "
                              "until the next tracking pass anchors it again."),
                           batch=str(newest[0]), block=str(newest[2]))
                out["error"], out["error_message"] = str(lost), stored(lost)
                out["root_lost"] = newest[0]
        except TrellisError as exc:
            out["ok"], out["error"], out["error_message"] = False, exc.message, for_people(exc)
    with _lock:
        err = _errors.get(_key(settings))
    out["last_error"] = ({"message": err[0], "at": err[1], "for_people": err[2]}
                         if err else None)
    if out.get("alerts"):
        out["ok"] = False
        out["error"] = out["error"] or "; ".join(a["message"] for a in out["alerts"])
    return out


_engines: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            _engines[url] = db.make_engine(url)
        return _engines[url]
