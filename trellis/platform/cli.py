"""The ``trellis`` command: a click group running inside the application context.

Start-up is kept short (``trellis --help`` and ``trellis clusters list`` well under two
seconds; each took 10-15 s when every area's commands and the whole web application were
imported first): the areas' commands are listed from :data:`AREA_COMMANDS` and imported
only when run, and commands in :data:`LIGHT` run in a light application (settings,
database, models; no pages), so scipy, web3, pandas and scikit-learn are imported only by
the commands that use them. ``tests/platform/test_cli_startup.py`` checks the table
against the areas' ``commands`` lists.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from trellis.errors import TrellisError
from trellis.platform import create_app  # the package this module is in: already loaded

logger = logging.getLogger(__name__)

#: name -> (area whose ``cli.commands`` holds it, short help for ``trellis --help``).
AREA_COMMANDS = {
    "import": ("network", "Import FILE (CSV or XLSX) of KIND into CLUSTER, with progress."),
    "clusters": ("network", "Industrial-park clusters: list, create, edit, archive, basis."),
    "graph": ("network", "The supply-chain network of a cluster."),
    "invitations": ("network", "Batch acquisition: the invitation whitelist."),
    "verify": ("chain", "Check a proof BUNDLE without any database."),
    "proof": ("chain", "Write the proof bundle of DOCUMENT_ID."),
    "audit": ("chain", "Re-hash every anchored record of the period and check it."),
    "chain": ("chain", "The Ethereum anchoring: status, deployment, anchoring now."),
    "score": ("scoring", "Score the firm with unified social credit code USCC."),
    "scoring": ("scoring", "Scorecards: train, evaluate, import, promote, export; rescore."),
    "ledger": ("ledger", "The double-entry ledger: trial balance, checks, accrual."),
    "assistant": ("assistant", "The AI customer manager: its recogniser's saved model."),
}
AREAS = ("network", "chain", "scoring", "ledger", "assistant")
#: Commands that need no pages: they run in the light application.
LIGHT = frozenset({"clusters", "import", "graph", "invitations", "score", "scoring", "db",
                   "users", "assistant"})


def db():
    # Late, as every import in this module's functions: `trellis --help` stays light.
    from trellis.platform import web

    return web.db()


def commit() -> None:
    # Late: as in db().
    from trellis.platform import web

    web.commit()


def settings():
    # Late: as in db().
    from trellis.platform import web

    return web.settings()


def said(what) -> str:
    """What a core says (an error, a stored message or a job's outcome) as the operator
    reads it: in the deployment's language (``TRELLIS_DEFAULT_LOCALE``, Chinese unless
    set), amounts in yuan. The command line's own words stay English, as its help does."""
    # Late: the catalogues are read only when a command has something to say.
    from trellis.messages import Message
    from trellis.notifications import render

    if isinstance(what, TrellisError):
        message = Message(what.template, what.params)
    elif isinstance(what, Message):
        message = what
    else:
        message = Message.loads(what)
    try:
        locale = settings().default_locale
    except RuntimeError:  # no application context: the default of the settings
        locale = "zh_CN"
    return render.text(message, locale)


def _create_app():
    return create_app()


def _create_light_app():
    return create_app(light=True)


def _create_bare_app():
    return create_app(light=True, models=False)


def with_bare_appcontext(f):
    """Like ``with_appcontext``, for read-only commands that import their own tables: the
    application is built without every area's models (unless a test gave its own)."""
    @functools.wraps(f)
    def run(*args, **kwargs):
        info = click.get_current_context().ensure_object(ScriptInfo)
        if info.create_app in (_create_app, _create_light_app):
            info.create_app = _create_bare_app
        return with_appcontext(f)(*args, **kwargs)

    return run


class TrellisGroup(FlaskGroup):
    """A FlaskGroup that loads area commands lazily and never builds the application
    just to list commands."""

    def list_commands(self, ctx):
        return sorted(set(self.commands) | set(AREA_COMMANDS))

    def get_command(self, ctx, name):
        if name in LIGHT:
            info = ctx.ensure_object(ScriptInfo)
            if info.create_app is _create_app:  # tests pass their own application
                info.create_app = _create_light_app
        if name in self.commands:
            return self.commands[name]
        area = AREA_COMMANDS.get(name, (None,))[0]
        for module in ([area] if area else AREAS):
            for command in importlib.import_module(f"trellis.platform.{module}.cli").commands:
                if command.name == name:
                    self.add_command(command)
                    return command
        return None

    def format_commands(self, ctx, formatter):
        rows = [(name, self.commands[name].get_short_help_str(60) if name in self.commands
                 else AREA_COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=TrellisGroup, create_app=_create_app, add_default_commands=False,
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
    from trellis import migrate  # late: alembic is heavy, and only these commands use it

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
    # Late: alembic, as in db_upgrade.
    from trellis import migrate

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
    # Late: argon2 and the area's tables; `trellis --help` stays light.
    from trellis.accounts import services
    from trellis.trade import firms

    try:
        firm_id = firms.by_uscc(session=db(), code=firm_uscc).id if firm_uscc else None
        user = services.create_user(session=db(), email=email, password=password, role=role,
                                    firm_id=firm_id, name=name)
        services.record(session=db(), action="user.create", record_type="user",
                        record_id=user.id, actor_label="cli", detail={"role": role})
    except TrellisError as exc:
        raise click.ClickException(said(exc)) from None
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
@click.option("--loans/--no-loans", default=True, show_default=True,
              help="Book a demo loan book (every loan state) through the ledger.")
@with_appcontext
def demo_seed(vendors, seed, score, loans):
    """Load the demo industrial-park cluster and the demo logins (idempotent)."""
    _seed_demo(vendors=vendors, seed=seed, score=score, loans=loans)


def _seed_demo(*, vendors: int, seed: int, score: bool | str, loans: bool,
               score_new_only: bool = False):
    """What ``trellis demo seed`` does, in the application context; *score* "queued":
    the portfolio's scoring is enqueued for a worker instead of run here;
    *score_new_only*: scored only when this call loaded the cluster."""
    # Late: the simulation and the scheduler's jobs; `trellis --help` stays light.
    from trellis import jobs as job_registry
    from trellis.demo.errors import BadSimulation
    from trellis.demo.seed import seed_demo

    try:
        result = seed_demo(session=db(), n_vendors=vendors, seed=seed)
    except BadSimulation as exc:  # too few or too many vendors: a message, not a traceback
        raise click.BadParameter(said(exc), param_hint="--vendors") from None
    commit()
    if loans:
        # late: as above
        from sqlalchemy import select

        from trellis.accounts.models import User
        from trellis.demo.loans import seed_loan_book

        own = {u.firm_id for u in db().scalars(select(User).where(User.firm_id.is_not(None)))}
        book = seed_loan_book(session=db(), cluster_id=result.cluster_id, skip_firms=own,
                              seed=seed)
        commit()
        if book:
            click.echo(f"loan book: {len(book)} demo loans ({', '.join(book)})")
    factory = current_app.extensions["trellis.sessions"]
    if score_new_only and not result.created:
        score = False
    if score == "queued":
        run_id = job_registry.enqueue_job(job_registry.find("rescore_portfolio"),
                                          session_factory=factory, settings=settings())
        click.echo(f"scoring: queued for the worker (task {run_id})")
    elif score:
        run = job_registry.run_job(job_registry.find("rescore_portfolio"),
                                   session_factory=factory, settings=settings())
        click.echo(f"scoring: {said(run.outcome)}")
    click.echo("Demo logins (role, e-mail, password, firm):")
    for role, email, password, firm in result.logins:
        click.echo(f"  {role:8} {email:28} {password}  {firm or ''}")
    return result


# --- jobs ----------------------------------------------------------------------------

@main.group("jobs")
def jobs_group():
    """Scheduled jobs."""


@jobs_group.command("list")
def jobs_list():
    """List the declared jobs and their triggers."""
    # Late: the job registry imports every area's jobs.
    from trellis import jobs as job_registry

    for spec in job_registry.JOBS:
        click.echo(f"{spec.id:22} {spec.trigger:8} {json.dumps(spec.args):32} {spec.description}")


@jobs_group.command("run")
@click.option("--once", "once", default=None, metavar="JOB", help="Run one job once and exit.")
@with_appcontext
def jobs_run(once):
    """Run the scheduler in this process (only one process at a time runs jobs)."""
    # Late: as in jobs_list.
    from trellis import jobs as job_registry

    app = current_app._get_current_object()
    factory = app.extensions["trellis.sessions"]
    if once:
        try:
            spec = job_registry.find(once)
        except KeyError:
            raise click.ClickException(f"no job {once!r}; see `trellis jobs list`") from None
        run = job_registry.run_job(spec, session_factory=factory, settings=settings())
        click.echo(f"{spec.id}: {'ok' if run.ok else 'FAILED'}: {said(run.outcome)}")
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
    # Late: the task worker (Huey); `trellis --help` stays light.
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
    # Late: as in jobs_list.
    from trellis import jobs as job_registry

    app = current_app._get_current_object()
    lock = None
    child = None
    if with_worker and not app.extensions["trellis.tasks"].immediate:
        child = start_worker_process()
        click.echo(f"task worker started (pid {child.pid})")
        _queue_assistant_model()
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
        from werkzeug.serving import run_simple  # late: only this command serves

        click.echo(f"serving on http://{host}:{port}")
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if lock is not None and lock.held:
            lock.release()
        if child is not None:
            _stop_child(child)


def _queue_assistant_model() -> None:
    """Queue the assistant's model for the task worker when the instance has no current
    one, so that the first question loads it instead of fitting it (about 12 s)."""
    # Late: trellis.assistant.model reads the training files; --help stays light.
    from trellis import tasks
    from trellis.assistant import model

    if not model.up_to_date(model.folder(settings().instance_path)):
        run_id = tasks.enqueue("assistant_model")
        click.echo(f"assistant model: queued for the worker (task {run_id})")


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo cluster, logins and loan book when the database has none.")
@click.option("--vendors", default=300, show_default=True, help="Demo vendors.")
@click.option("--seed", default=7, show_default=True, help="Demo random seed.")
@click.pass_context
def run_command(ctx, host, port, demo, vendors, seed):
    """Migrate, load the demo the first time, and serve (what `make run` does).

    One process pays the imports once, where `db upgrade`, `demo seed` and `serve` each
    paid them. The portfolio's scoring is queued for the task worker (risk grades show
    within moments of the first page), and the scheduler anchors the demo's documents in
    the background, as always."""
    # Late: alembic, as in db_upgrade.
    from trellis import migrate

    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    with app.app_context():
        url = settings().database_url
        migrate.upgrade(url)
        click.echo(f"database at heads: {url.split('@')[-1]}")
        if demo:  # idempotent: a loaded demo is left as it is
            immediate = app.extensions["trellis.tasks"].immediate
            _seed_demo(vendors=vendors, seed=seed, loans=True, score_new_only=True,
                       score=True if immediate else "queued")
    ctx.invoke(serve, host=host, port=port)


def _stop_child(child: subprocess.Popen) -> None:
    """SIGINT lets the worker finish its tasks; after 30 s it is terminated."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.terminate()
            child.wait(timeout=10)
