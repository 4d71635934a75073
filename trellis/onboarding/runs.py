"""Import runs: an uploaded file from queue to outcome, with live progress.

:func:`create_run` stores the file (refusing it above the size limit) in the caller's
transaction. :func:`execute_run` imports it in its own transactions: one marks the run
running, one does the whole import (so a refused file writes nothing), one records the
outcome and the problems found. A large file is imported by the ``import_run`` task
(:func:`import_task`) on a worker; the web request only enqueues it.

While a task works, its progress (phase, rows done, rows per second, errors so far) is
kept in its ``task_runs`` row, which every process reads (:func:`progress_of`). On SQLite
the import's transaction holds the database's one write lock, so progress written from
outside it waits for the end (it is skipped rather than waited for); PostgreSQL shows it
live. The run row is updated at start and end.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import object_session, sessionmaker
from sqlmodel import Session
from sqlmodel import col as sql_col

from trellis import exports, tasks
from trellis.clock import utcnow
from trellis.config import Settings
from trellis.db import id_of, transaction
from trellis.errors import NotFound, TrellisError
from trellis.messages import N_, Message, line, msg
from trellis.onboarding import files
from trellis.onboarding import mapping as colmap
from trellis.onboarding.errors import ImportRefused
from trellis.onboarding.importer import (
    MAX_ERRORS,
    Policy,
    Progress,
    RowError,
    column_label,
    import_file,
)
from trellis.onboarding.kinds import KINDS
from trellis.onboarding.models import ImportFile, ImportRun, ImportRunError, RunStatus
from trellis.tasks.models import TaskRun
from trellis.tasks.progress import Progress as TaskProgress
from trellis.trade.clusters import ensure_open
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster

logger = logging.getLogger(__name__)


def create_run(*, session: Session, cluster_id: int, kind: str, filename: str, data: bytes,
               max_bytes: int = 0, created_by_id: int | None = None, source: str = "",
               mapping: dict[str, str] | None = None, hold_for_mapping: bool = False) -> ImportRun:
    """Queue *data* for import. Raises FileTooLarge, FileLimitExceeded (an XLSX whose zip
    directory is over the reading limits, e.g. a zip bomb), ImportRefused (unknown kind),
    ClusterNotFound, Conflict (archived cluster). Flushes.

    *mapping* (header -> field, confirmed by the RM) is used as given; without it, the
    saved mapping of *source* for this kind, if any; else field names and known aliases.
    With *hold_for_mapping* the run waits (status ``mapping``) for :func:`confirm_mapping`.
    """
    files.precheck(data, filename, max_bytes=max_bytes)
    if kind not in KINDS:
        raise ImportRefused(msg(N_("Unknown kind of file %(kind)s: use one of %(choices)s."),
                                kind=kind, choices=list(KINDS)),
                            field="kind")
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise ClusterNotFound(msg(N_("There is no cluster with id %(cluster_id)s."),
                                  cluster_id=cluster_id))
    ensure_open(cluster)
    source = (source or "").strip()[:120]
    if mapping is None and source:
        mapping = colmap.saved(session=session, cluster_id=cluster_id, source=source, kind=kind)
    run = ImportRun(cluster_id=cluster_id, kind=kind, filename=(filename or "upload")[:255],
                    size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    created_by_id=created_by_id, source=source,
                    status=RunStatus.MAPPING if hold_for_mapping else RunStatus.QUEUED,
                    mapping=dict(mapping or {}))
    session.add(run)
    session.flush()
    session.add(ImportFile(run_id=id_of(run), content=data))
    session.flush()
    return run


SAMPLE_ROWS = 3
#: An import still working after this many seconds is stopped (nothing is written).
MAX_SECONDS = 600


class ImportTimedOut(ImportRefused):
    """Raised (from the progress callback) when an import runs past its time limit."""

    code = "import_timed_out"


def proposal_for(*, session: Session, run: ImportRun
                 ) -> tuple[list[str], list[list[str]], colmap.Proposal]:
    """The file's header, its first rows and the proposed mapping (saved mapping of the
    run's source first) for a run waiting for its mapping."""
    file = session.get(ImportFile, run.id)
    if file is None:
        raise NotFound(msg(N_("The file of import run %(run)s is no longer kept."), run=run.id),
                       zh=f"导入批次 {run.id} 的文件已不再保留。")
    # Only the rows shown: the whole file is read by the import itself (a task when
    # large), not in the request that asks for the mapping.
    table = files.read_table(file.content, run.filename, head=SAMPLE_ROWS)
    known = dict(run.mapping) if run.mapping else (
        colmap.saved(session=session, cluster_id=run.cluster_id, source=run.source,
                     kind=run.kind) if run.source else None)
    samples = [["" if c is None else str(c) for c in cells[:len(table.header)]]
               for _, cells in table.rows[:SAMPLE_ROWS]]
    return table.header, samples, colmap.propose(run.kind, table.header, known)


def content_of(*, session: Session, run: ImportRun) -> bytes:
    """The uploaded bytes of *run* (b"" once no longer kept)."""
    file = session.get(ImportFile, run.id)
    return file.content if file is not None else b""


def needs_mapping(*, session: Session, run: ImportRun) -> bool:
    """True when the RM must look at the mapping: a required field is not found, or a
    header matched only by a fuzzy guess or not at all."""
    _, _, proposal = proposal_for(session=session, run=run)
    return bool(proposal.missing) or any(how in ("fuzzy", "none")
                                         for how in proposal.how.values())


def confirm_mapping(*, session: Session, run: ImportRun, mapping: dict[str, str],
                    save: bool = False, user_id: int | None = None) -> ImportRun:
    """Confirm *mapping* for a run waiting for it and queue the run. Raises
    :class:`ImportRefused` listing each problem (unknown field, a field fed twice, a
    required field missing); with *save*, keeps it for the run's source. Flushes."""
    if run.status != RunStatus.MAPPING:
        raise ImportRefused(N_("This import is not waiting for a column mapping."),
                            zh="该导入不在等待列映射确认。")
    header, _, _ = proposal_for(session=session, run=run)
    _, _, problems = colmap.resolve(run.kind, header, mapping)
    if problems:
        raise ImportRefused(msg(N_("The mapping cannot be used: %(problems)s."),
                                problems=[p for _, p in problems]))
    if save and run.source:
        colmap.save(session=session, cluster_id=run.cluster_id, source=run.source,
                    kind=run.kind, mapping=mapping, user_id=user_id)
    run.mapping = {h: mapping.get(h, "") for h in header if h}
    run.status = RunStatus.QUEUED
    session.add(run)
    session.flush()
    return run


def withdraw(*, session: Session, run: ImportRun) -> ImportRun:
    """Withdraw a run still waiting for its column mapping (a wrong file): nothing was
    written, and it ends refused with a message saying so, its file no longer kept.
    Raises ImportRefused for a run that has gone past the mapping. Flushes."""
    if run.status != RunStatus.MAPPING:
        raise ImportRefused(N_("This import is not waiting for a column mapping."),
                            zh="该导入不在等待列映射确认。")
    run.status = RunStatus.REFUSED
    run.message = msg(N_("Withdrawn before import: nothing was written.")).dumps(500)
    run.finished_at = utcnow()
    session.add(run)
    session.execute(delete(ImportFile).where(sql_col(ImportFile.run_id) == run.id))
    session.flush()
    return run


def execute_run(*, session_factory: sessionmaker[Session], run_id: int,
                today: date | None = None, on_progress: Progress | None = None,
                resume: bool = False, policy: Policy | None = None,
                max_seconds: float = MAX_SECONDS) -> ImportRun:
    """Run the import of run *run_id* to its end and return the run (detached).

    An import still working after *max_seconds* (0: no limit) is stopped at its next
    progress report (every 2,000 rows) and refused; its transaction is rolled back.

    Never raises for a bad file: the outcome is in ``run.status`` (succeeded, refused,
    failed) with ``run.message`` and, for refused files, :class:`ImportRunError` rows.
    Runs only a queued run; with *resume* also one left running by a worker that died
    (the task queue runs one attempt at a time; the dead attempt's import transaction
    was never committed, so nothing is imported twice).
    """
    with transaction(session_factory) as s:
        run = s.get(ImportRun, run_id)
        if run is None:
            raise NotFound(msg(N_("There is no import run %(run_id)s."), run_id=run_id))
        # Claim the run atomically: a second worker (the resume job) must not run it too.
        states = [RunStatus.QUEUED.value] + ([RunStatus.RUNNING.value] if resume else [])
        claimed = cast(CursorResult[Any], s.execute(update(ImportRun)
                            .where(sql_col(ImportRun.id) == run_id,
                                   sql_col(ImportRun.status).in_(states))
                            .values(status=RunStatus.RUNNING.value, phase="validating",
                                    started_at=utcnow())
                            .execution_options(synchronize_session=False))).rowcount
        if claimed != 1:
            s.refresh(run)
            return run
        file = s.get(ImportFile, run_id)
        data = file.content if file is not None else b""
        cluster_id, kind, filename = run.cluster_id, run.kind, run.filename
        mapping = dict(run.mapping) if run.mapping else None
    last = {"done": 0, "total": 0}
    started = time.monotonic()

    def report(phase: str, done: int, total: int, errors: int) -> None:
        if max_seconds and time.monotonic() - started > max_seconds:
            raise ImportTimedOut(
                msg(N_("The import took longer than %(max_seconds)s seconds and was stopped; "
                       "nothing was imported. Split the file into smaller files."),
                    max_seconds=format(max_seconds, '.0f')))
        last.update(done=done, total=total)
        if on_progress is not None:
            on_progress(phase, done, total, errors)

    outcome: dict[str, Any] = {}
    errors: list[RowError] = []
    try:
        with transaction(session_factory) as s:
            result = import_file(session=s, cluster_id=cluster_id, kind=kind, data=data,
                                 filename=filename, today=today, progress=report,
                                 mapping=mapping, policy=policy)
        outcome = dict(status=RunStatus.SUCCEEDED, created=result.created,
                       updated=result.updated, unchanged=result.unchanged,
                       rows_total=result.rows, rows_done=result.rows,
                       encoding=result.encoding, mapping=result.mapping,
                       unmapped=result.unmapped,
                       message=(msg(N_("%(created)s new, %(updated)s updated, %(unchanged)s "
                                       "unchanged. Columns not imported: %(ignored)s."),
                                    created=result.created, updated=result.updated,
                                    unchanged=result.unchanged, ignored=list(result.unmapped))
                                if result.unmapped else
                                msg(N_("%(created)s new, %(updated)s updated, "
                                       "%(unchanged)s unchanged."), created=result.created,
                                    updated=result.updated,
                                    unchanged=result.unchanged)).dumps(500))
        if result.warnings:
            first = result.warnings[0]
            logger.info("import run %s: %s row(s) kept with a caveat, e.g. %s: %s", run_id,
                        len(result.warnings), first, first.value)
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
        run = s.get_one(ImportRun, run_id)
        for key, value in outcome.items():
            setattr(run, key, value)
        if outcome["status"] != RunStatus.SUCCEEDED:
            run.rows_total, run.rows_done = last["total"], last["done"]
        run.phase, run.finished_at = "done", utcnow()
        if errors:
            s.execute(delete(ImportRunError).where(sql_col(ImportRunError.run_id) == run_id))
            s.add_all(ImportRunError(run_id=run_id, row=e.row, column=e.column[:64],
                                     value=e.value[:200], problem=e.problem_message.dumps(300))
                      for e in errors[:MAX_ERRORS])
        s.execute(delete(ImportFile).where(sql_col(ImportFile.run_id) == run_id))
    logger.info("import run %s %s: %s", run_id, run.status, run.message)
    return run


def import_task(*, session_factory: sessionmaker[Session], settings: Settings,
                progress: TaskProgress, run_id: int) -> str:
    """Task ``import_run``: import run *run_id*, its progress in the task's row."""

    def report(phase: str, done: int, total: int, errors: int) -> None:
        progress.set(done=done, total=total, errors=errors, message=phase)

    run = execute_run(session_factory=session_factory, run_id=run_id, on_progress=report,
                      resume=True, max_seconds=settings.import_max_seconds)
    return line(IMPORT_ENDS.get(str(run.status), N_("import %(run)s: %(message)s")),
                run=run_id, message=Message.loads(run.message))


#: how an import task ended, as the jobs page says it (the run's own message follows)
IMPORT_ENDS = {
    RunStatus.SUCCEEDED.value: N_("import %(run)s: succeeded: %(message)s"),
    RunStatus.REFUSED.value: N_("import %(run)s: refused: %(message)s"),
    RunStatus.FAILED.value: N_("import %(run)s: failed: %(message)s"),
    RunStatus.MAPPING.value: N_("import %(run)s: mapping: %(message)s"),
    RunStatus.QUEUED.value: N_("import %(run)s: queued: %(message)s"),
    RunStatus.RUNNING.value: N_("import %(run)s: running: %(message)s"),
}


def _task_of(session: Session, run_id: int) -> TaskRun | None:
    return tasks.latest(session, "import_run", kwargs_json=json.dumps({"run_id": run_id}))


def progress_of(run: ImportRun) -> dict[str, Any]:
    """The run's state for the progress bar, with its task's live figures while it works."""
    state: dict[str, Any] = {"id": run.id, "kind": run.kind, "filename": run.filename,
             "status": str(run.status), "phase": run.phase, "rows_total": run.rows_total,
             "rows_done": run.rows_done, "errors": run.errors_count, "created": run.created,
             "updated": run.updated, "unchanged": run.unchanged, "message": run.message,
             "finished": run.finished, "rows_per_second": None}
    if run.started_at and run.finished_at:
        seconds = (run.finished_at - run.started_at).total_seconds()
        state["rows_per_second"] = round(run.rows_done / seconds, 1) if seconds > 0 else None
    session = object_session(run)
    task = (_task_of(cast(Session, session), id_of(run))
            if session is not None and not run.finished else None)
    if task is not None and task.state == "running" and task.rows_total:
        rate = task.rate
        state.update(phase=task.message or run.phase, rows_done=task.rows_done,
                     rows_total=task.rows_total, errors=task.errors,
                     rows_per_second=round(rate, 1) if rate else None)
    state["percent"] = (round(100 * state["rows_done"] / state["rows_total"])
                        if state["rows_total"] else (100 if run.finished else 0))
    return state


def get_run(*, session: Session, run_id: int, cluster_ids: list[int] | None = None
            ) -> ImportRun:
    """The run *run_id*, if it exists and is in *cluster_ids* (None: any)."""
    run = session.get(ImportRun, run_id)
    if run is None or (cluster_ids is not None and run.cluster_id not in cluster_ids):
        raise NotFound(msg(N_("There is no import run %(run_id)s."), run_id=run_id))
    return run


def error_report_csv(*, session: Session, run_id: int,
                     render: Callable[[Message], str] = str,
                     header: Sequence[str] = ("row", "column", "value", "problem"),
                     column: Callable[[dict[str, str]], str] | None = None) -> bytes:
    """The problems of a refused run as CSV (UTF-8 with BOM, opens in Excel).

    The caller says how people read it: *render* turns each stored problem (a
    :class:`~trellis.messages.Message`) into text in their language, *header* names the
    columns and *column* names a column from its label (:func:`column_label`: its key in
    English and its Chinese header).
    """
    run = session.execute(select(sql_col(ImportRun.status), sql_col(ImportRun.message),
                                 sql_col(ImportRun.kind))
                          .where(sql_col(ImportRun.id) == run_id)).one_or_none()
    if run is None:
        raise NotFound(msg(N_("There is no import run %(run_id)s."), run_id=run_id))
    out = io.StringIO(newline="")
    writer = exports.writer(out, lineterminator="\r\n")
    writer.writerow(list(header))
    rows = session.execute(select(sql_col(ImportRunError.row), sql_col(ImportRunError.column),
                                  sql_col(ImportRunError.value), sql_col(ImportRunError.problem))
                           .where(sql_col(ImportRunError.run_id) == run_id)
                           .order_by(sql_col(ImportRunError.row), sql_col(ImportRunError.id))
                           ).tuples().all()
    if not rows and run.status != RunStatus.SUCCEEDED and run.message:
        rows = [(0, "", "", run.message)]
    kind = KINDS.get(run.kind)
    for row, col, value, problem in rows:
        shown = col
        if col and column is not None:
            shown = column(column_label(kind, col))
        writer.writerow([row, shown, value, render(Message.loads(problem))])
    return out.getvalue().encode("utf-8-sig")


def resume(*, session_factory: sessionmaker[Session], queued_for_seconds: int = 60,
           stale_after_seconds: int = 7200) -> tuple[int, int]:
    """Enqueue imports left queued with no task (e.g. queued by older code) and mark runs
    running too long whose task is no longer queued or running as failed (their
    transaction died with their process, so nothing was written). Returns (resumed,
    failed)."""
    now = utcnow()
    with transaction(session_factory) as s:
        queued = list(s.execute(select(sql_col(ImportRun.id)).where(
            sql_col(ImportRun.status) == RunStatus.QUEUED.value,
            sql_col(ImportRun.created_at) < now - timedelta(seconds=queued_for_seconds))).scalars())
        queued = [i for i in queued if (t := _task_of(s, i)) is None or t.finished]
        stale = []
        for r in s.execute(select(ImportRun).where(
                sql_col(ImportRun.status) == RunStatus.RUNNING.value)).scalars():
            task = _task_of(s, r.id)
            # A task that ended left its run running: its worker died on the last
            # attempt. Without a task (imported inline by a web request), only time tells.
            if (task.finished if task is not None
                    else r.started_at < now - timedelta(seconds=stale_after_seconds)):
                stale.append(r)
        for run in stale:
            run.status, run.phase, run.finished_at = RunStatus.FAILED, "done", now
            run.message = N_("The import was interrupted; nothing was imported. Upload it "
                             "again.")
            s.execute(delete(ImportFile).where(ImportFile.run_id == run.id))
        for run_id in queued:
            tasks.enqueue("import_run", session=s, run_id=run_id)
    return len(queued), len(stale)


def recent_runs(*, session: Session, cluster_id: int, limit: int = 20) -> list[ImportRun]:
    """The cluster's import runs, newest first, at most *limit*."""
    return list(session.execute(select(ImportRun).where(sql_col(ImportRun.cluster_id) == cluster_id)
                                .order_by(sql_col(ImportRun.id).desc()).limit(limit)).scalars())
