"""Real ``trellis worker`` processes: SQLite and Redis storage, two workers, kill -9.

The database is a SQLite file every process opens (PostgreSQL behaves the same for the
queue: the claim and the sweep are single conditional UPDATEs). Each test has its own
queue name, so Redis keys never mix with another run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import need
from tests.tasks import sample
from trellis import db, migrate
from trellis.config import Settings
from trellis.tasks import TaskQueue, TaskRun

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TRELLIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def world(request, tmp_path):
    """A migrated database file, a queue on the chosen storage and a way to start workers."""
    if request.param == "redis":
        need(_redis_answers(), f"no Redis answers at {REDIS_URL}")
        tasks_url = REDIS_URL
    else:
        tasks_url = f"sqlite:///{tmp_path}/tasks.db"
    url = f"sqlite:///{tmp_path}/trellis.db"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        sample.create_probe_tables(conn)
    env = {**os.environ, "TRELLIS_ENV": "development", "TRELLIS_DATABASE_URL": url,
           "TRELLIS_TASKS_URL": tasks_url, "TRELLIS_TASKS_QUEUE": f"t-{uuid.uuid4().hex[:10]}",
           "TRELLIS_INSTANCE_PATH": str(tmp_path), "TRELLIS_SCHEDULER": "off",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    settings = Settings.from_env(env)
    queue = TaskQueue(settings=settings, session_factory=db.make_sessionmaker(engine))
    workers: list[subprocess.Popen] = []

    def start(count: int, threads: int = 2) -> list[subprocess.Popen]:
        procs = [subprocess.Popen(
            [sys.executable, "-c", "import tests.tasks.sample; "
             "from trellis.platform.cli import main; main()",
             "worker", "--workers", str(threads), "--sweep-seconds", "0.5"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for _ in range(count)]
        workers.extend(procs)
        for proc in procs:  # each says so on stdout just before it starts consuming
            assert proc.stdout.readline().startswith("worker:"), "a worker did not start"
        return procs

    class World:
        pass

    w = World()
    w.queue, w.engine, w.start = queue, engine, start
    yield w
    for proc in workers:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
    queue.huey.flush()
    engine.dispose()


def wait_for(predicate, timeout: float = 40.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def row(engine, run_id) -> TaskRun:
    with db.make_sessionmaker(engine)() as session:
        return session.get(TaskRun, run_id)


def scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_two_workers_share_the_queue(world):
    world.start(2, threads=1)
    ids = [world.queue.enqueue("test_mark_long_lease", key=f"s{i}", n=4, delay=0.05)
           for i in range(6)]
    wait_for(lambda: all(row(world.engine, i).state == "done" for i in ids), what="all done")
    runs = [row(world.engine, i) for i in ids]
    assert all(r.attempts == 1 and r.rows_done == 4 == r.rows_total for r in runs)
    assert scalar(world.engine, "select count(*) from probe_marks") == 24
    assert scalar(world.engine, "select count(*) from probe_attempts") == 6
    pids = {r.worker.split(":")[1] for r in runs}
    assert len(pids) == 2, f"one worker did all the work: {pids}"


def test_a_worker_killed_mid_task_loses_nothing(world):
    procs = {str(p.pid): p for p in world.start(2)}
    run_id = world.queue.enqueue("test_mark", key="kill", n=30, delay=0.1)
    wait_for(lambda: (row(world.engine, run_id).rows_done or 0) >= 3, what="progress")
    victim = row(world.engine, run_id)
    assert victim.state == "running"
    killed = victim.worker.split(":")[1]
    os.kill(int(killed), signal.SIGKILL)
    procs[killed].wait(timeout=10)
    done = wait_for(lambda: (r := row(world.engine, run_id)).state == "done" and r,
                    what="the re-run to finish")
    survivor = (set(procs) - {killed}).pop()
    assert done.attempts == 2 and done.worker.split(":")[1] == survivor
    assert (done.rows_done, done.rows_total) == (30, 30)
    assert "stopped during attempt 1" not in done.outcome and done.outcome == "30 marks for kill"
    # Exactly once in effect: every step's row exists once; the body started twice.
    assert scalar(world.engine, "select count(*) from probe_marks where key='kill'") == 30
    assert scalar(world.engine, "select count(distinct step) from probe_marks") == 30
    assert scalar(world.engine, "select count(*) from probe_attempts where key='kill'") == 2
