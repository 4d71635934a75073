"""The ``trellis`` command: a click group running inside the application context."""

from __future__ import annotations

import importlib
import json
import logging
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from trellis import jobs as job_registry
from trellis import migrate
from trellis.platform.web import commit, db, settings

logger = logging.getLogger(__name__)


def _create_app():
    from trellis.platform import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main():
    """Trellis: supply-chain lending. Run `trellis COMMAND --help` for each command."""


# --- database ------------------------------------------------------------------------

@main.group("db")
def db_group():
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision):
    """Apply migrations up to REVISION (default: every area's head)."""
    url = settings().database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at {revision}: {url.split('@')[-1]}")


@db_group.command("downgrade")
@click.argument("revision", default="base")
@click.option("--yes", is_flag=True, help="Confirm: this drops tables and data.")
@with_appcontext
def db_downgrade(revision, yes):
    """Revert migrations down to REVISION (default: base, an empty database)."""
    if not yes:
        raise click.UsageError("downgrade drops data; pass --yes to confirm")
    migrate.downgrade(settings().database_url, revision)
    click.echo(f"database at {revision}")


# --- users ---------------------------------------------------------------------------

@main.group("users")
def users_group():
    """Users and their roles."""


@users_group.command("create")
@click.option("--role", required=True,
              type=click.Choice(["admin", "rm", "vendor", "anchor", "auditor"]))
@click.option("--email", required=True)
@click.option("--firm", "firm_uscc", default=None, help="USCC of the firm (vendor, anchor).")
@click.option("--name", default="")
@click.password_option(envvar="TRELLIS_NEW_USER_PASSWORD")
@with_appcontext
def users_create(role, email, firm_uscc, name, password):
    """Create a user with ROLE and E-MAIL (asks for the password)."""
    from trellis.accounts import services
    from trellis.errors import TrellisError
    from trellis.trade import firms

    try:
        firm_id = firms.by_uscc(session=db(), code=firm_uscc).id if firm_uscc else None
        user = services.create_user(session=db(), email=email, password=password, role=role,
                                    firm_id=firm_id, name=name)
        services.record(session=db(), action="user.create", record_type="user",
                        record_id=user.id, actor_label="cli", detail={"role": role})
    except TrellisError as exc:
        raise click.ClickException(exc.message) from None
    commit()
    click.echo(f"created {role} {user.email} (id {user.id})")


# --- demo ----------------------------------------------------------------------------

@main.group("demo")
def demo_group():
    """The simulated demo cluster."""


@demo_group.command("seed")
@click.option("--vendors", default=300, show_default=True, help="Number of vendors.")
@click.option("--seed", default=7, show_default=True, help="Random seed.")
@click.option("--score/--no-score", default=True, show_default=True,
              help="Score the portfolio once, so risk pages and grades show at once.")
@with_appcontext
def demo_seed(vendors, seed, score):
    """Load the demo industrial-park cluster and the demo logins (idempotent)."""
    from trellis.demo.seed import seed_demo

    result = seed_demo(session=db(), n_vendors=vendors, seed=seed)
    commit()
    if score:
        run = job_registry.run_job(job_registry.find("rescore_portfolio"),
                                   session_factory=current_app.extensions["trellis.sessions"],
                                   settings=settings())
        click.echo(f"scoring: {run.outcome}")
    click.echo("Demo logins (role, e-mail, password, firm):")
    for role, email, password, firm in result.logins:
        click.echo(f"  {role:8} {email:28} {password}  {firm or ''}")


# --- jobs ----------------------------------------------------------------------------

@main.group("jobs")
def jobs_group():
    """Scheduled jobs."""


@jobs_group.command("list")
def jobs_list():
    """List the declared jobs and their triggers."""
    for spec in job_registry.JOBS:
        click.echo(f"{spec.id:22} {spec.trigger:8} {json.dumps(spec.args):32} {spec.description}")


@jobs_group.command("run")
@click.option("--once", "once", default=None, metavar="JOB", help="Run one job once and exit.")
@with_appcontext
def jobs_run(once):
    """Run the scheduler in this process (only one process at a time runs jobs)."""
    app = current_app._get_current_object()
    factory = app.extensions["trellis.sessions"]
    if once:
        try:
            spec = job_registry.find(once)
        except KeyError:
            raise click.ClickException(f"no job {once!r}; see `trellis jobs list`") from None
        run = job_registry.run_job(spec, session_factory=factory, settings=settings())
        click.echo(f"{spec.id}: {'ok' if run.ok else 'FAILED'}: {run.outcome}")
        sys.exit(0 if run.ok else 1)
    lock = job_registry.SchedulerLock(app.extensions["trellis.engine"], settings().instance_path)
    while not lock.acquire():
        click.echo("another scheduler holds the lock; standing by", err=True)
        time.sleep(30)
    click.echo("scheduler lock acquired; running jobs (Ctrl-C to stop)")
    scheduler = job_registry.build_scheduler(session_factory=factory, settings=settings(),
                                             background=False)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()


# --- worker --------------------------------------------------------------------------

@main.command("worker")
@click.option("--workers", "-w", type=click.IntRange(1, 64), default=None,
              help="Threads running tasks (default TRELLIS_TASKS_WORKERS).")
@click.option("--sweep-seconds", type=click.FloatRange(0.1, 3600), default=5.0,
              show_default=True, help="How often to requeue tasks of workers that died.")
@with_appcontext
def worker(workers, sweep_seconds):
    """Run queued tasks (start as many as you like, on as many machines)."""
    from trellis.tasks.worker import run_worker

    queue = current_app.extensions["trellis.tasks"]
    if queue.immediate:
        raise click.ClickException(
            "TRELLIS_TASKS_URL is 'immediate': tasks run where they are enqueued, "
            "there is nothing for a worker to do")
    click.echo(f"worker: {workers or settings().tasks_workers} threads on "
               f"{_safe_url(settings().tasks_url)} queue {settings().tasks_queue!r}")
    run_worker(queue, workers=workers or settings().tasks_workers,
               sweep_seconds=sweep_seconds)


def _safe_url(url: str) -> str:
    """*url* without a password."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def start_worker_process() -> subprocess.Popen:
    """``trellis worker`` in a child process with this process's environment."""
    return subprocess.Popen([sys.executable, "-c",
                             "from trellis.platform.cli import main; main()", "worker"])


# --- serve ---------------------------------------------------------------------------

@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Run the job scheduler in this process (development).")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Start a task worker in a child process (development).")
@with_appcontext
def serve(host, port, scheduler, with_worker):
    """Serve the platform for development (threaded, no reloader)."""
    app = current_app._get_current_object()
    lock = None
    child = None
    if with_worker and not app.extensions["trellis.tasks"].immediate:
        child = start_worker_process()
        click.echo(f"task worker started (pid {child.pid})")
    if scheduler:
        lock = job_registry.SchedulerLock(app.extensions["trellis.engine"],
                                          settings().instance_path)
        if lock.acquire():
            sched = job_registry.build_scheduler(
                session_factory=app.extensions["trellis.sessions"], settings=settings())
            sched.start()
            app.extensions["trellis.scheduler"] = sched
            click.echo("in-process scheduler started")
        else:
            click.echo("another process runs the scheduler; serving without it")
    try:
        from werkzeug.serving import run_simple

        click.echo(f"serving on http://{host}:{port}")
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if lock is not None and lock.held:
            lock.release()
        if child is not None:
            _stop_child(child)


def _stop_child(child: subprocess.Popen) -> None:
    """SIGINT lets the worker finish its tasks; after 30 s it is terminated."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.terminate()
            child.wait(timeout=10)


for _area in ("network", "chain", "scoring", "ledger", "vendor", "anchor"):
    for _command in importlib.import_module(f"trellis.platform.{_area}.cli").commands:
        main.add_command(_command)
