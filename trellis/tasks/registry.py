"""Task functions declared as data, like the jobs in :mod:`trellis.jobs`.

A task function is ``f(*, session_factory, settings, **kwargs) -> str | None``; one that
declares a ``progress`` keyword is also given a :class:`~trellis.tasks.progress.Progress`.
Its keyword arguments must be JSON values (they are stored in ``task_runs.kwargs``). A
task may run more than once (a retry after an error, or after its worker was killed), so
its body must be idempotent: doing it twice has the effect of doing it once.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from trellis.errors import TrellisError
from trellis.messages import N_, msg


class UnknownTask(TrellisError):
    """Raised when a task name is not in the registry."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: str  # "module:function"
    description: str = ""
    # A worker renews its lease every third of this; a row whose lease ran out is re-run.
    lease_seconds: int = 120
    max_attempts: int = 3  # attempts in all, counting the first
    retry_delay_seconds: int = 10

    def resolve(self) -> Callable:
        """The function the task runs, imported from its "module:function" name."""
        module, _, name = self.func.partition(":")
        return getattr(importlib.import_module(module), name)

    def takes_progress(self) -> bool:
        """Whether the task's function accepts a *progress* argument (a Progress
        to report through)."""
        return "progress" in inspect.signature(self.resolve()).parameters


TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("run_job", "trellis.jobs:run_now",
             N_("Run one scheduled job now (the admin's 'run now')"), max_attempts=1),
    TaskSpec("chain_audit", "trellis.chain.audit:audit_task",
             N_("Full audit of anchored records against the database and the chain"),
             lease_seconds=300, max_attempts=2),
    TaskSpec("import_run", "trellis.onboarding.runs:import_task",
             N_("Import an uploaded file of a cluster (large files)"),
             # On SQLite the import holds the write lock, so the lease cannot be renewed
             # meanwhile: give it room.
             lease_seconds=600, max_attempts=2),
    TaskSpec("assistant_score", "trellis.assistant.tasks:score_firm_task",
             N_("Score a firm the assistant was asked about and that has no stored score")),
    TaskSpec("assistant_model", "trellis.assistant.tasks:build_model_task",
             N_("Fit and save the assistant's recogniser when the instance has no current one"),
             lease_seconds=300, max_attempts=2),
    TaskSpec("deliver_outbox", "trellis.notifications.jobs:deliver_outbox",
             N_("Send queued notifications (e-mail, text messages) through the configured sender"),
             lease_seconds=300, max_attempts=3),
    TaskSpec("send_password_reset", "trellis.notifications.jobs:send_password_reset",
             N_("Give a password reset request its one-time link through the outbox")),
)

_registry: dict[str, TaskSpec] = {spec.name: spec for spec in TASKS}


def register(spec: TaskSpec) -> TaskSpec:
    """Add *spec* (tests and areas that declare their tasks elsewhere)."""
    _registry[spec.name] = spec
    return spec


def find(name: str) -> TaskSpec:
    """The task called *name*; raises UnknownTask for an unknown one."""
    try:
        return _registry[name]
    except KeyError:
        raise UnknownTask(msg(N_("no task named %(name)s"), name=name)) from None


def all_specs() -> list[TaskSpec]:
    """Every registered task, by name."""
    return sorted(_registry.values(), key=lambda s: s.name)
