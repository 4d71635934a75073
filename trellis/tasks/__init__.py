"""Background work on a task queue (Huey), with its state in the database.

Web requests, the scheduler and CLI commands only *enqueue*; ``trellis worker`` runs the
tasks. The API other code uses::

    from trellis import tasks

    run_id = tasks.enqueue("run_job", session=session, job_id="anchor_pending")
    run = tasks.get_run(session, run_id)       # TaskRun: state, rows_done/total, errors, rate

``enqueue`` goes through the process's default :class:`TaskQueue` (set by
:func:`install`; ``create_app`` installs one, and keeps it as
``app.extensions["trellis.tasks"]``). Task functions are declared as data in
:mod:`trellis.tasks.registry`. Which storage carries the messages is the setting
``TRELLIS_TASKS_URL``: a SQLite file (the default, no service needed), Redis (production)
or ``immediate`` (tests: a task runs inside ``enqueue``, after the caller's commit).
See :mod:`trellis.tasks.queue` for why a worker killed mid-task loses nothing.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from trellis.tasks.models import TaskRun
from trellis.tasks.progress import Progress
from trellis.tasks.queue import TaskQueue, make_huey
from trellis.tasks.registry import TASKS, TaskSpec, UnknownTask, find, register

__all__ = ["TASKS", "Progress", "TaskQueue", "TaskRun", "TaskSpec", "UnknownTask",
           "current", "enqueue", "find", "get_run", "install", "latest", "make_huey",
           "register"]

_default: TaskQueue | None = None


class NoQueue(RuntimeError):
    """Raised by :func:`enqueue` when no queue was installed in this process."""


def install(queue: TaskQueue) -> TaskQueue:
    """Make *queue* the one :func:`enqueue` uses in this process."""
    global _default
    _default = queue
    return queue


def current() -> TaskQueue:
    """The installed task queue; raises NoQueue when none is installed."""
    if _default is None:
        raise NoQueue("no task queue installed; create the app or call trellis.tasks.install")
    return _default


def enqueue(name: str, *, session: Session | None = None, queue: TaskQueue | None = None,
            **kwargs) -> str:
    """Queue task *name* with JSON keyword arguments; return its ``task_runs`` id.

    With *session* the row commits with the caller's transaction and the message is sent
    after that commit. *queue* defaults to the installed one.
    """
    return (queue or current()).enqueue(name, session=session, **kwargs)


def get_run(session: Session, run_id: str) -> TaskRun | None:
    """The row of task *run_id*, freshly read (another process may have moved it)."""
    run = session.get(TaskRun, run_id)
    if run is not None:
        session.refresh(run)
    return run


def latest(session: Session, name: str, *, kwargs_json: str | None = None) -> TaskRun | None:
    """The most recently created run of task *name* (with exactly these arguments)."""
    query = select(TaskRun).where(TaskRun.name == name)
    if kwargs_json is not None:
        query = query.where(TaskRun.kwargs == kwargs_json)
    return session.exec(query.order_by(col(TaskRun.created_at).desc()).limit(1)).first()
