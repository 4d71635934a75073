"""Fixtures for the outside drills: a seeded instance made only with public commands.

The database is built by `trellis db upgrade` and `trellis demo seed` run as subprocesses
(as the README describes); web drills open it with the app factory, as the test suite's
own fixtures do. Nothing here imports the code under test beyond `create_app`/`Settings`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "trellis-demo-2026"
CLI = [sys.executable, "-c", "from trellis.platform.cli import main; main()"]


def base_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env.update({
        "PYTHONPATH": str(ROOT),
        "TRELLIS_ENV": "test",
        "TRELLIS_INSTANCE_PATH": str(folder),
        "TRELLIS_DATABASE_URL": f"sqlite:///{folder / 'trellis.db'}",
        "TRELLIS_TASKS_URL": "immediate",
        "TRELLIS_SCHEDULER": "off",
        "TRELLIS_DEFAULT_LOCALE": "en",
    })
    return env


def trellis(env: dict[str, str], *args: str, timeout: float = 600,
            check: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *args], env=env, cwd=env["TRELLIS_INSTANCE_PATH"],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"trellis {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """A migrated SQLite database holding the demo cluster (30 vendors) and its loan book."""
    folder = tmp_path_factory.mktemp("drill-template")
    env = base_env(folder)
    trellis(env, "db", "upgrade", check=True)
    trellis(env, "demo", "seed", "--vendors", "30", "--no-score", check=True)
    return folder / "trellis.db"


@pytest.fixture
def instance(seeded_template, tmp_path) -> dict[str, str]:
    """A private copy of the seeded database; returns the environment to run `trellis` in."""
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copy(seeded_template, folder / "trellis.db")
    return base_env(folder)


def db_path(env: dict[str, str]) -> Path:
    return Path(env["TRELLIS_INSTANCE_PATH"]) / "trellis.db"


def sql(env: dict[str, str], query: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db_path(env)) as conn:
        rows = conn.execute(query, params).fetchall()
        conn.commit()
    return rows


def tables(env: dict[str, str]) -> set[str]:
    return {r[0] for r in sql(env, "select name from sqlite_master where type='table'")}


def make_app(env: dict[str, str]):
    from trellis.config import Settings
    from trellis.platform import create_app

    settings = Settings.from_env({}, env="test", database_url=env["TRELLIS_DATABASE_URL"],
                                 instance_path=env["TRELLIS_INSTANCE_PATH"], scheduler="off")
    app = create_app(settings=settings)
    return app


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(client, url: str) -> str:
    page = client.get(url)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


def log_in(client, email: str, next_: str | None = None):
    token = csrf_of(client, "/login")
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, data={"csrf_token": token, "email": email, "password": PASSWORD})


# The attack13 drills' books (one seeding per session serves all their files).
from tests.drills.attack13_kit import a13_book, a13_pg_book, a13_site, a13_sqlite_site  # noqa: E402,F401
