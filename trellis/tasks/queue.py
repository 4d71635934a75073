"""The task queue: Huey carries messages, ``task_runs`` keeps the truth.

:class:`TaskQueue` ties a Huey instance (SQLite file, Redis, or immediate) to the
database. Its life cycle of one task:

1. :meth:`TaskQueue.enqueue` inserts a ``task_runs`` row (state ``queued``) and, once that
   row is committed, sends a Huey message holding only the row's id. Given the caller's
   session, the row commits with the caller's own work and the message goes out after it
   (nothing is sent for a transaction that rolls back).
2. A worker receives the message and *claims* the row with one conditional UPDATE:
   ``queued`` (or ``running`` with an expired lease) -> ``running``, ``attempts + 1``,
   ``lease_until = now + lease``. A duplicate message finds the row taken and does nothing.
3. While the function runs, a lease keeper renews the lease every third of it.
4. The row is closed, guarded by the attempt number: ``done`` with the outcome; on an
   error ``queued`` again (a new message after ``retry_delay_seconds``) until
   ``max_attempts``, then ``failed``.

Huey removes a message from its storage before running it and never acknowledges
(huey's documentation, "Consumer shutdown"; coleifer/huey#571 and #844): a consumer
killed with -9 loses its running task's message. :meth:`TaskQueue.sweep`, run by every
worker every few seconds, finds rows whose lease expired, puts them back to ``queued``
and sends a new message; it also resends messages for rows left ``queued`` too long (a
process that died between its commit and the send). Task bodies are idempotent, so a
re-run completes the work exactly once in effect.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import and_, event, or_, select, update
from sqlmodel import Session, col

from trellis.clock import utcnow
from trellis.db import transaction
from trellis.errors import TrellisError
from trellis.messages import N_, Message, new_reference, stored, unexpected
from trellis.tasks import registry
from trellis.tasks.models import TaskRun
from trellis.tasks.progress import Progress

logger = logging.getLogger(__name__)

HUEY_TASK_NAME = "trellis.run"
_PENDING = "trellis.tasks.pending"  # session.info key: run ids to send after commit


def make_huey(settings):
    """A Huey instance for ``settings.tasks_url`` (validated by :mod:`trellis.config`)."""
    from huey import MemoryHuey, RedisHuey, SqliteHuey  # late: the models' import needs none

    url = settings.tasks_url
    name = settings.tasks_queue
    if url == "immediate":
        return MemoryHuey(name, results=False, immediate=True)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteHuey(name, filename=path, results=False, timeout=30)
    return RedisHuey(name, url=url, results=False)


def worker_label() -> str:
    """"host:pid:thread" of this worker (at most 160 characters), as task runs record who holds
    them."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:160]


class TaskQueue:
    """Enqueue, run and sweep tasks for one database and one Huey queue."""

    def __init__(self, *, settings, session_factory, huey=None,
                 stale_seconds: int = 300):
        self.settings = settings
        self.session_factory = session_factory
        self.huey = huey if huey is not None else make_huey(settings)
        self.stale_seconds = stale_seconds
        self._message = self.huey.task(name=HUEY_TASK_NAME)(self._on_message)

    @property
    def immediate(self) -> bool:
        """Whether tasks run at once in the caller (tests), not through a worker."""
        return bool(self.huey.immediate)

    # --- producing ---------------------------------------------------------------------

    def enqueue(self, name: str, *, session: Session | None = None, **kwargs) -> str:
        """Queue the task *name* with JSON *kwargs*; return the ``task_runs`` id.

        With *session*, the row joins the caller's transaction and the message is sent
        after the caller commits; without, the row is committed here and sent at once.
        Raises :class:`~trellis.tasks.registry.UnknownTask` for a name not registered and
        ``TypeError`` for arguments that are not JSON.
        """
        spec = registry.find(name)
        run = TaskRun(id=uuid.uuid4().hex, name=name, kwargs=json.dumps(kwargs, sort_keys=True),
                      max_attempts=spec.max_attempts)
        if session is None:
            with transaction(self.session_factory) as own:
                own.add(run)
            self._send(run.id)
            return run.id
        session.add(run)
        session.flush()
        self._send_after_commit(session, run.id)
        return run.id

    def _send_after_commit(self, session: Session, run_id: str) -> None:
        # Listeners cannot be removed while their event runs: they stay for the session's
        # life (one request or command) and act only on what is pending.
        if not event.contains(session, "after_commit", self._flush_pending):
            event.listen(session, "after_commit", self._flush_pending)
            event.listen(session, "after_rollback", self._drop_pending)
        session.info.setdefault(_PENDING, []).append(run_id)

    def _flush_pending(self, session: Session) -> None:
        for run_id in session.info.pop(_PENDING, []):
            self._send(run_id)

    @staticmethod
    def _drop_pending(session: Session) -> None:
        session.info.pop(_PENDING, None)

    def _send(self, run_id: str, delay: int = 0) -> None:
        try:
            if delay and not self.immediate:
                self._message.schedule(args=(run_id,), delay=delay)
            else:
                self._message(run_id)
        except Exception:  # the row stays queued; the sweep resends it
            logger.exception("could not send task %s to the queue; the sweep will", run_id)

    # --- consuming ---------------------------------------------------------------------

    def _on_message(self, run_id: str) -> None:
        self.execute(run_id)

    def execute(self, run_id: str) -> str | None:
        """Claim and run the task *run_id*; return its new state, None if not claimed."""
        claim = self._claim(run_id)
        if claim is None:
            return None
        spec, kwargs, attempt = claim
        # Immediate mode runs in the caller's thread, often on the caller's connection:
        # no other worker can take the row over, so no lease needs keeping.
        keeper = _LeaseKeeper(self.session_factory, run_id, attempt, spec.lease_seconds,
                              enabled=not self.immediate)
        progress = Progress(self.session_factory, run_id, attempt)
        keeper.start()
        try:
            func = spec.resolve()
            if spec.takes_progress():
                kwargs["progress"] = progress
            outcome = func(session_factory=self.session_factory, settings=self.settings,
                           **kwargs)
        except Exception as exc:
            keeper.stop()
            # people read plain words (with a reference for an unforeseen error); the
            # technical text stays in the log and the message's detail (the admin's)
            reference = new_reference()
            logger.exception("task %s (%s) attempt %d failed (reference %s)", spec.name,
                             run_id, attempt, reference)
            self._safe_flush(progress)
            error = stored(Message(exc.template, exc.params) if isinstance(exc, TrellisError)
                           else unexpected(exc, reference), 4000)
            return self._fail(run_id, attempt, spec, error)
        keeper.stop()
        self._safe_flush(progress)
        return self._close(run_id, attempt, "done", stored(outcome or "done", 4000))

    def _claim(self, run_id: str):
        now = utcnow()
        with transaction(self.session_factory) as session:
            run = session.get(TaskRun, run_id)
            if run is None:
                logger.warning("task %s: no such row; message dropped", run_id)
                return None
            try:
                spec = registry.find(run.name)
            except registry.UnknownTask:
                self._close_in(session, run_id, run.attempts, "failed",
                               stored(Message(N_("This kind of task is not known to this "
                                                 "version of Trellis: %(name)s."),
                                              {"name": run.name})),
                               expect_state=run.state)
                return None
            attempt = run.attempts + 1
            claimed = session.connection().execute(
                update(TaskRun)
                .where(col(TaskRun.id) == run_id, col(TaskRun.attempts) == run.attempts,
                       or_(col(TaskRun.state) == "queued",
                           and_(col(TaskRun.state) == "running", col(TaskRun.lease_until) < now)))
                .values(state="running", attempts=attempt, worker=worker_label(),
                        started_at=now, updated_at=now, rows_done=0, errors=0,
                        lease_until=now + timedelta(seconds=spec.lease_seconds))
            ).rowcount
            if claimed != 1:
                logger.info("task %s is %s elsewhere; duplicate message skipped",
                            run_id, run.state)
                return None
            kwargs = json.loads(run.kwargs or "{}")
        logger.info("task %s (%s) attempt %d started", spec.name, run_id, attempt)
        return spec, kwargs, attempt

    def _fail(self, run_id: str, attempt: int, spec, error: str) -> str | None:
        if attempt < spec.max_attempts:
            state = self._close(run_id, attempt, "queued", error,
                                delay=spec.retry_delay_seconds)
            if state == "queued":
                self._send(run_id, delay=spec.retry_delay_seconds)
            return state
        return self._close(run_id, attempt, "failed", error)

    def _close(self, run_id: str, attempt: int, state: str, outcome: str,
               delay: int = 0) -> str | None:
        with transaction(self.session_factory) as session:
            return self._close_in(session, run_id, attempt, state, outcome, delay=delay)

    @staticmethod
    def _close_in(session, run_id, attempt, state, outcome, delay=0,
                  expect_state="running") -> str | None:
        now = utcnow()
        values = {"state": state, "outcome": outcome[:4000], "updated_at": now,
                  "lease_until": None}
        if state in ("done", "failed"):
            values["finished_at"] = now
        else:
            values["enqueued_at"] = now + timedelta(seconds=delay)
        done = session.connection().execute(
            update(TaskRun)
            .where(TaskRun.id == run_id, TaskRun.attempts == attempt,
                   TaskRun.state == expect_state)
            .values(**values)).rowcount
        if done != 1:
            logger.warning("task %s attempt %d lost its lease; its result is dropped",
                           run_id, attempt)
            return None
        return state

    @staticmethod
    def _safe_flush(progress: Progress) -> None:
        try:
            progress.flush()
        except Exception:
            logger.exception("could not write the progress of task %s", progress.run_id)

    # --- sweeping ----------------------------------------------------------------------

    def sweep(self) -> int:
        """Requeue tasks whose worker died and resend stale messages; return how many.

        A ``running`` row whose lease expired goes back to ``queued`` (or to ``failed``
        when it used its last attempt); a ``queued`` row whose message is older than
        ``stale_seconds`` gets a new one. Safe to run in every worker at once: each row
        moves under a conditional UPDATE, and duplicate messages are skipped at claim.
        """
        now = utcnow()
        resend: list[str] = []
        with transaction(self.session_factory) as session:
            conn = session.connection()
            expired = conn.execute(
                select(col(TaskRun.id), col(TaskRun.attempts), col(TaskRun.max_attempts),
                       col(TaskRun.worker))
                .where(col(TaskRun.state) == "running", col(TaskRun.lease_until) < now)).all()
            for run_id, attempts, max_attempts, worker in expired:
                last = attempts >= max_attempts
                values = ({"state": "failed", "finished_at": now} if last
                          else {"state": "queued", "enqueued_at": now})
                moved = conn.execute(
                    update(TaskRun)
                    .where(TaskRun.id == run_id, TaskRun.attempts == attempts,
                           col(TaskRun.state) == "running", col(TaskRun.lease_until) < now)
                    .values(lease_until=None, updated_at=now,
                            outcome=stored(Message(
                                N_("The worker %(worker)s stopped during attempt "
                                   "%(attempt)s."), {"worker": worker, "attempt": attempts})),
                            **values)).rowcount
                if moved and not last:
                    resend.append(run_id)
                if moved:
                    logger.warning("task %s: worker %s stopped during attempt %d; %s",
                                   run_id, worker, attempts, "failed" if last else "requeued")
            stale = conn.execute(
                select(col(TaskRun.id)).where(
                    col(TaskRun.state) == "queued",
                    col(TaskRun.enqueued_at) < now - timedelta(seconds=self.stale_seconds))
            ).scalars().all()
            for run_id in stale:
                if conn.execute(update(TaskRun)
                                .where(col(TaskRun.id) == run_id, col(TaskRun.state) == "queued")
                                .values(enqueued_at=now)).rowcount:
                    resend.append(run_id)
        for run_id in resend:
            self._send(run_id)
        return len(resend)

    def consumer(self, workers: int = 2):
        """A Huey consumer with *workers* threads (run it with ``.run()``)."""
        from huey.consumer import Consumer  # late: as in make_huey

        return Consumer(self.huey, workers=workers, worker_type="thread", periodic=True,
                        check_worker_health=True, initial_delay=0.1, max_delay=1.0)


class _LeaseKeeper:
    """Renews a claimed row's lease every third of its length until stopped."""

    def __init__(self, session_factory, run_id: str, attempt: int, lease_seconds: int,
                 enabled: bool = True):
        self.enabled = enabled
        self.session_factory = session_factory
        self.run_id = run_id
        self.attempt = attempt
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{run_id[:8]}",
                                        daemon=True)

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join(timeout=self.lease_seconds)

    def _loop(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                with transaction(self.session_factory) as session:
                    session.connection().execute(
                        update(TaskRun)
                        .where(col(TaskRun.id) == self.run_id,
                               col(TaskRun.attempts) == self.attempt,
                               col(TaskRun.state) == "running")
                        .values(lease_until=utcnow() + timedelta(seconds=self.lease_seconds)))
            except Exception:  # the next beat tries again; a lost lease means a re-run
                logger.exception("could not renew the lease of task %s", self.run_id)
