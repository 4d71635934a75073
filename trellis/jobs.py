"""Scheduled jobs, declared as data, and the lock that lets exactly one scheduler run them.

A job is a function ``f(*, session_factory, settings) -> str`` returning a one-line
outcome. :data:`JOBS` lists every job with its trigger. :func:`run_job` runs one, logs
it and records a :class:`JobRun`. :class:`SchedulerLock` elects the single process that
runs the schedule: a PostgreSQL session advisory lock, or an exclusive file lock for
SQLite. APScheduler 3 has no locking of its own between processes.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Column, Text, text
from sqlmodel import Field, SQLModel

from trellis import tasks
from trellis.clock import utcnow
from trellis.errors import TrellisError
from trellis.messages import N_, Message, new_reference, stored, unexpected

logger = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x7472656C  # "trel"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function"
    trigger: str  # "interval" or "cron"
    args: dict = field(default_factory=dict)
    description: str = ""
    # Long jobs are not run by the scheduler: it enqueues them and a worker runs them.
    queued: bool = False
    #: a short name people read (the id is a code for the scheduler and the command line)
    name: str = ""


JOBS: tuple[JobSpec, ...] = (
    JobSpec("anchor_pending", "trellis.chain.jobs:anchor_pending", "interval",
            {"seconds": 30}, N_("Cut Merkle batches of waiting documents and anchor their roots"),
            name=N_("Anchor waiting documents on chain")),
    JobSpec("track_confirmations", "trellis.chain.jobs:track_confirmations", "interval",
            {"seconds": 20}, N_("Count confirmations, replace stuck transactions, heal reorgs"),
            name=N_("Track chain confirmations")),
    JobSpec("run_queued_audits", "trellis.chain.audit:run_queued_audits", "interval",
            {"seconds": 60}, N_("Run chain audits that were queued and never started"),
            name=N_("Start queued chain audits")),
    JobSpec("resume_imports", "trellis.onboarding.jobs:resume_imports", "interval",
            {"minutes": 5}, N_("Run bulk imports left queued; fail interrupted ones"),
            name=N_("Resume bulk imports")),
    JobSpec("notify", "trellis.notifications.jobs:notify", "interval", {"minutes": 1},
            N_("Tell firms of decisions, offers, pay-outs, due dates and overdue loans"),
            name=N_("Notify firms")),
    JobSpec("disburse_approved", "trellis.ledger.jobs:disburse_approved", "interval",
            {"seconds": 30}, N_("Register fingerprints on chain and disburse accepted offers"),
            name=N_("Pay out accepted offers")),
    JobSpec("anchor_ledger_head", "trellis.ledger.jobs:anchor_ledger_head", "interval",
            {"minutes": 10}, N_("Queue the ledger's latest hash for anchoring on chain"),
            name=N_("Anchor the ledger's latest hash")),
    JobSpec("accrue_daily", "trellis.ledger.jobs:accrue_daily", "cron",
            {"hour": 0, "minute": 5}, N_("Accrue daily interest and update days past due"),
            name=N_("Daily interest accrual")),
    JobSpec("expire_offers", "trellis.ledger.jobs:expire_offers", "cron",
            {"hour": 0, "minute": 10}, N_("Mark offers past their validity date expired"),
            name=N_("Expire old offers")),
    JobSpec("settle_vouchers", "trellis.vouchers.jobs:settle_vouchers", "cron",
            {"hour": 9, "minute": 0}, N_("Settle matured vouchers: the anchor pays every holder"),
            name=N_("Settle matured vouchers")),
    JobSpec("apply_bank_changes", "trellis.protection.jobs:apply_bank_changes", "interval",
            {"minutes": 10}, N_("Apply bank-account changes whose waiting period has passed"),
            name=N_("Apply bank-account changes")),
    JobSpec("rescore_portfolio", "trellis.scoring.jobs:rescore_portfolio", "cron",
            {"hour": 1, "minute": 0}, N_("Rescore every vendor of the portfolio"), queued=True,
            name=N_("Rescore the portfolio")),
    JobSpec("monitor_stability", "trellis.scoring.jobs:monitor_stability", "cron",
            {"hour": 2, "minute": 0}, N_("Population stability (PSI) of the score and its parts"),
            queued=True,
            name=N_("Score stability check")),
    JobSpec("recalibrate_scorecard", "trellis.scoring.jobs:recalibrate", "cron",
            {"day_of_week": "mon", "hour": 3, "minute": 0},
            N_("Recalibrate the champion on newly matured outcomes; flag grades off their "
               "band"), queued=True,
            name=N_("Recalibrate the scorecard")),
)


class JobRun(SQLModel, table=True):
    """One run of a job: when, how long, and how it ended."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=64, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    seconds: float = 0.0  # a duration, not money
    ok: bool = True
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    host: str = Field(default="", max_length=120)

    @property
    def text(self) -> str:
        """The outcome in English, for logs and the command line (pages render the stored
        message in the reader's language)."""
        return str(Message.loads(self.outcome))


def resolve(spec: JobSpec):
    """The function a job runs, imported from its "module:function" name."""
    module, _, name = spec.func.partition(":")
    return getattr(importlib.import_module(module), name)


def find(job_id: str) -> JobSpec:
    """The job called *job_id*; raises KeyError for an unknown one."""
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


def run_job(spec: JobSpec, *, session_factory, settings) -> JobRun:
    """Run *spec* once; log and record the outcome, never raise."""
    started = utcnow()
    clock = time.perf_counter()
    try:
        outcome = resolve(spec)(session_factory=session_factory, settings=settings) or "done"
        ok = True
        logger.info("job %s ok in %.2fs: %s", spec.id, time.perf_counter() - clock, outcome)
    except TrellisError as exc:  # expected (a node down, a setting wrong): no traceback
        ok = False
        outcome = Message(exc.template, exc.params)   # pages show it in the reader's language
        logger.error("job %s failed: %s", spec.id, exc.message)
    except Exception as exc:  # a job's failure is logged and recorded; the next run retries
        ok = False
        # people read plain words and a reference; the technical text stays in the log and
        # in the message's detail, which only the admin's technical section shows
        reference = new_reference()
        outcome = unexpected(exc, reference)
        logger.exception("job %s failed (reference %s)", spec.id, reference)
    run = JobRun(job_id=spec.id, started_at=started, seconds=time.perf_counter() - clock,
                 ok=ok, outcome=stored(outcome, 2000), host=os.uname().nodename)
    try:
        session = session_factory()
        try:
            session.add(run)
            session.commit()
        finally:
            session.close()
    except Exception:
        logger.exception("could not record the run of job %s", spec.id)
    return run


class SchedulerLock:
    """Held by the one process allowed to run the schedule."""

    def __init__(self, engine, instance_path: str):
        self.engine = engine
        self.instance_path = instance_path
        self._conn = None
        self._fh: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the one-scheduler lock (a PostgreSQL advisory lock, else a file lock) without
        waiting; True when this process has it."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(text("select pg_try_advisory_lock(:k)"),
                               {"k": ADVISORY_LOCK_KEY}).scalar()
            conn.commit()
            if got:
                self._conn = conn
                return True
            conn.close()
            return False
        path = Path(self.instance_path) / "scheduler.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = path.open("w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        """Give the lock up (safe to call when it is not held)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("select pg_advisory_unlock(:k)"),
                                   {"k": ADVISORY_LOCK_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._conn is not None or self._fh is not None


def build_scheduler(*, session_factory, settings, jobs=JOBS, background: bool = True):
    """An APScheduler 3 scheduler with every job: one instance at a time, coalesced."""
    # late: only the scheduler process builds one; the admin pages import JOBS
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BackgroundScheduler if background else BlockingScheduler
    # SQLite has one writer: run its jobs one after another.
    workers = 1 if settings.database_url.startswith("sqlite") else 4
    scheduler = cls(timezone="Asia/Shanghai",
                    executors={"default": ThreadPoolExecutor(workers)},
                    job_defaults={"max_instances": 1, "coalesce": True,
                                  "misfire_grace_time": 300})
    for spec in jobs:
        extra = {}
        if spec.trigger == "interval":  # first run at start, not one interval later
            extra["next_run_time"] = datetime.now(UTC)
        func = enqueue_job if spec.queued else run_job
        scheduler.add_job(func, spec.trigger, id=spec.id, name=spec.description,
                          kwargs={"spec": spec, "session_factory": session_factory,
                                  "settings": settings}, **spec.args, **extra)
    return scheduler


def enqueue_job(spec: JobSpec, *, session_factory, settings) -> str | None:
    """What the scheduler does for a ``queued`` job: enqueue the ``run_job`` task (on the
    queue the process installed); a worker runs it. Never raises."""

    try:
        run_id = tasks.enqueue("run_job", job_id=spec.id)
    except Exception:  # the next trigger tries again
        logger.exception("could not enqueue job %s", spec.id)
        return None
    logger.info("job %s enqueued as task %s", spec.id, run_id)
    return run_id


def run_now(*, session_factory, settings, job_id: str) -> str:
    """Task ``run_job``: run the job *job_id* once (it records its own :class:`JobRun`)."""
    run = run_job(find(job_id), session_factory=session_factory, settings=settings)
    if not run.ok:
        raise TrellisError(Message.loads(run.outcome))   # the queue records it as a message
    return run.outcome
