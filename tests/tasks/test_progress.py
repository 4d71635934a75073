"""Progress never waits for SQLite's write lock (a task holding it would wait for itself)."""

from __future__ import annotations

import time

from sqlalchemy import text

from trellis import db, migrate
from trellis.db import transaction
from trellis.tasks import Progress, TaskRun


def test_progress_skips_while_the_lock_is_held_and_catches_up(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    with transaction(factory) as s:
        s.add(TaskRun(id="b" * 32, name="x", state="running", attempts=1))
    progress = Progress(factory, "b" * 32, attempt=1)
    with engine.connect() as holder:  # the task's own long transaction
        holder.execute(text("update task_runs set message = 'working'"))
        clock = time.monotonic()
        progress.set(done=5, total=10)
        assert time.monotonic() - clock < 2  # not the 30 s busy timeout
        holder.commit()
    with transaction(factory) as s:
        assert s.get(TaskRun, "b" * 32).rows_done == 0
    progress.flush()
    with transaction(factory) as s:
        row = s.get(TaskRun, "b" * 32)
        assert (row.rows_done, row.rows_total) == (5, 10)
    engine.dispose()
