"""Import runs: an uploaded file from queue to outcome, with live progress.

:func:`create_run` stores the file (refusing it above the size limit) in the caller's
transaction. :func:`execute_run` imports it in its own transactions: one marks the run
running, one does the whole import (so a refused file writes nothing), one records the
outcome and the problems found. :func:`start_background` runs it on a thread.

While a run works, its progress (phase, rows done, rows per second, errors so far) lives
in this process's memory (:func:`progress_of`); the run row is updated at start and end.
A poller in another process sees the phase-level state from the row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from trellis.accounts.models import utcnow
from trellis.db import transaction
from trellis.errors import TrellisError
from trellis.messages import N_, Message, msg
from trellis.network.errors import ClusterNotFound, ImportRefused, NotFound
from trellis.network.models import ImportFile, ImportRun, ImportRunError, RunStatus
from trellis.onboarding import files
from trellis.onboarding.importer import MAX_ERRORS, column_label, import_file
from trellis.onboarding.kinds import KINDS
from trellis.trade.models import Cluster

logger = logging.getLogger(__name__)


@dataclass
class Live:
    phase: str = "queued"
    rows_done: int = 0
    rows_total: int = 0
    errors: int = 0
    started: float = 0.0
    rows_per_second: float = 0.0


_live: dict[int, Live] = {}
_live_lock = threading.Lock()


def create_run(*, session: Session, cluster_id: int, kind: str, filename: str, data: bytes,
               max_bytes: int = 0, created_by_id: int | None = None) -> ImportRun:
    """Queue *data* for import. Raises FileTooLarge, ImportRefused (unknown kind),
    ClusterNotFound. Flushes."""
    files.check_size(data, max_bytes)
    if kind not in KINDS:
        raise ImportRefused(f"Unknown kind of file {kind!r}: use one of {', '.join(KINDS)}.",
                            field="kind")
    if session.get(Cluster, cluster_id) is None:
        raise ClusterNotFound(f"There is no cluster with id {cluster_id}.")
    run = ImportRun(cluster_id=cluster_id, kind=kind, filename=(filename or "upload")[:255],
                    size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    created_by_id=created_by_id, status=RunStatus.QUEUED)
    session.add(run)
    session.flush()
    session.add(ImportFile(run_id=run.id, content=data))
    session.flush()
    return run


def _reporter(run_id: int, extra: Callable | None):
    live = _live[run_id]

    def report(phase: str, done: int, total: int, errors: int) -> None:
        with _live_lock:
            live.phase, live.rows_done, live.rows_total = phase, done, total
            live.errors = max(live.errors, errors)
            elapsed = time.monotonic() - live.started
            live.rows_per_second = done / elapsed if elapsed > 0 else 0.0
        if extra is not None:
            extra(phase, done, total, errors)

    return report


def execute_run(*, session_factory: sessionmaker, run_id: int, today: date | None = None,
                on_progress: Callable | None = None) -> ImportRun:
    """Run the import of run *run_id* to its end and return the run (detached).

    Never raises for a bad file: the outcome is in ``run.status`` (succeeded, refused,
    failed) with ``run.message`` and, for refused files, :class:`ImportRunError` rows.
    """
    with transaction(session_factory) as s:
        run = s.get(ImportRun, run_id)
        if run is None:
            raise NotFound(f"There is no import run {run_id}.")
        # Claim the run atomically: a second worker (the resume job) must not run it too.
        claimed = s.execute(update(ImportRun)
                            .where(ImportRun.id == run_id,
                                   ImportRun.status == RunStatus.QUEUED.value)
                            .values(status=RunStatus.RUNNING.value, phase="validating",
                                    started_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            s.refresh(run)
            return run
        file = s.get(ImportFile, run_id)
        data = file.content if file is not None else b""
        cluster_id, kind, filename = run.cluster_id, run.kind, run.filename
    with _live_lock:
        _live[run_id] = Live(phase="validating", started=time.monotonic())
    report = _reporter(run_id, on_progress)
    outcome: dict = {}
    errors = []
    try:
        with transaction(session_factory) as s:
            result = import_file(session=s, cluster_id=cluster_id, kind=kind, data=data,
                                 filename=filename, today=today, progress=report)
        outcome = dict(status=RunStatus.SUCCEEDED, created=result.created,
                       updated=result.updated, unchanged=result.unchanged,
                       rows_total=result.rows, rows_done=result.rows,
                       encoding=result.encoding,
                       message=msg(N_("%(created)s new, %(updated)s updated, "
                                      "%(unchanged)s unchanged."), created=result.created,
                                   updated=result.updated,
                                   unchanged=result.unchanged).dumps(500))
    except ImportRefused as exc:
        errors = exc.errors
        outcome = dict(status=RunStatus.REFUSED,
                       message=Message(exc.template, exc.params).dumps(500),
                       errors_count=exc.count)
    except TrellisError as exc:
        outcome = dict(status=RunStatus.REFUSED,
                       message=Message(exc.template, exc.params).dumps(500), errors_count=1)
    except Exception:
        logger.exception("import run %s failed", run_id)
        outcome = dict(status=RunStatus.FAILED, errors_count=0,
                       message=N_("The import stopped on an unexpected error; nothing was "
                                  "imported. The administrators have the details."))
    with transaction(session_factory) as s:
        run = s.get(ImportRun, run_id)
        live = _live.get(run_id)
        for key, value in outcome.items():
            setattr(run, key, value)
        if outcome["status"] != RunStatus.SUCCEEDED and live is not None:
            run.rows_total, run.rows_done = live.rows_total, live.rows_done
        run.phase, run.finished_at = "done", utcnow()
        if errors:
            s.execute(delete(ImportRunError).where(ImportRunError.run_id == run_id))
            s.add_all(ImportRunError(run_id=run_id, row=e.row, column=e.column[:64],
                                     value=e.value[:200], problem=e.problem_message.dumps(300))
                      for e in errors[:MAX_ERRORS])
        s.execute(delete(ImportFile).where(ImportFile.run_id == run_id))
    with _live_lock:
        _live.pop(run_id, None)
    logger.info("import run %s %s: %s", run_id, run.status, run.message)
    return run


def start_background(*, session_factory: sessionmaker, run_id: int,
                     today: date | None = None) -> threading.Thread:
    """Run :func:`execute_run` on a daemon thread and return the thread."""
    thread = threading.Thread(target=execute_run, name=f"import-run-{run_id}", daemon=True,
                              kwargs=dict(session_factory=session_factory, run_id=run_id,
                                          today=today))
    thread.start()
    return thread


def progress_of(run: ImportRun) -> dict:
    """The run's state for the progress bar: live figures while it works in this process."""
    state = {"id": run.id, "kind": run.kind, "filename": run.filename,
             "status": str(run.status), "phase": run.phase, "rows_total": run.rows_total,
             "rows_done": run.rows_done, "errors": run.errors_count, "created": run.created,
             "updated": run.updated, "unchanged": run.unchanged, "message": run.message,
             "finished": run.finished, "rows_per_second": None}
    if run.started_at and run.finished_at:
        seconds = (run.finished_at - run.started_at).total_seconds()
        state["rows_per_second"] = round(run.rows_done / seconds, 1) if seconds > 0 else None
    with _live_lock:
        live = _live.get(run.id)
        live = Live(**asdict(live)) if live is not None else None
    if live is not None and not run.finished:
        state.update(phase=live.phase, rows_done=live.rows_done, rows_total=live.rows_total,
                     errors=live.errors, rows_per_second=round(live.rows_per_second, 1))
    state["percent"] = (round(100 * state["rows_done"] / state["rows_total"])
                        if state["rows_total"] else (100 if run.finished else 0))
    return state


def get_run(*, session: Session, run_id: int, cluster_ids: list[int] | None = None
            ) -> ImportRun:
    """The run *run_id*, if it exists and is in *cluster_ids* (None: any)."""
    run = session.get(ImportRun, run_id)
    if run is None or (cluster_ids is not None and run.cluster_id not in cluster_ids):
        raise NotFound(f"There is no import run {run_id}.")
    return run


def error_report_csv(*, session: Session, run_id: int,
                     render: Callable[[Message], str] = str,
                     header: Sequence[str] = ("row", "column", "value", "problem"),
                     column: Callable[[str, str], str] | None = None) -> bytes:
    """The problems of a refused run as CSV (UTF-8 with BOM, opens in Excel).

    The caller says how people read it: *render* turns each stored problem (a
    :class:`~trellis.messages.Message`) into text in their language, *header* names the
    columns and *column* (given the file kind and a column key) names a column.
    """
    run = session.execute(select(ImportRun.status, ImportRun.message, ImportRun.kind)
                          .where(ImportRun.id == run_id)).one_or_none()
    if run is None:
        raise NotFound(f"There is no import run {run_id}.")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(header))
    rows = session.execute(select(ImportRunError.row, ImportRunError.column,
                                  ImportRunError.value, ImportRunError.problem)
                           .where(ImportRunError.run_id == run_id)
                           .order_by(ImportRunError.row, ImportRunError.id)).all()
    if not rows and run.status != RunStatus.SUCCEEDED and run.message:
        rows = [(0, "", "", run.message)]
    kind = KINDS.get(run.kind)
    for row, col, value, problem in rows:
        shown = col
        if col and column is not None:
            shown = column(column_label(kind, col))
        writer.writerow([row, shown, value, render(Message.loads(problem))])
    return out.getvalue().encode("utf-8-sig")


def resume(*, session_factory: sessionmaker, queued_for_seconds: int = 60,
           stale_after_seconds: int = 7200) -> tuple[int, int]:
    """Run imports left queued (e.g. by a restarted web process) and mark runs that have
    been running too long, with no live progress here, as failed (their transaction died
    with their process, so nothing was written). Returns (resumed, failed)."""
    now = utcnow()
    with transaction(session_factory) as s:
        queued = list(s.execute(select(ImportRun.id).where(
            ImportRun.status == RunStatus.QUEUED.value,
            ImportRun.created_at < now - timedelta(seconds=queued_for_seconds))).scalars())
        stale = [r for r in s.execute(select(ImportRun).where(
            ImportRun.status == RunStatus.RUNNING.value,
            ImportRun.started_at < now - timedelta(seconds=stale_after_seconds))).scalars()
                 if r.id not in _live]
        for run in stale:
            run.status, run.phase, run.finished_at = RunStatus.FAILED, "done", now
            run.message = "The import was interrupted; nothing was imported. Upload it again."
            s.execute(delete(ImportFile).where(ImportFile.run_id == run.id))
    for run_id in queued:
        execute_run(session_factory=session_factory, run_id=run_id)
    return len(queued), len(stale)


def recent_runs(*, session: Session, cluster_id: int, limit: int = 20) -> list[ImportRun]:
    return list(session.execute(select(ImportRun).where(ImportRun.cluster_id == cluster_id)
                                .order_by(ImportRun.id.desc()).limit(limit)).scalars())
