"""Start-up time of the ``trellis`` command and of the web application
(``create_app()``) beside ``python -c pass`` (same run).

Runs each command N times in a fresh process (PYTHONPATH = this worktree, a temporary
SQLite database migrated once) and prints the median and the best wall-clock seconds and
the median CPU seconds (user + system) of the command: on a shared machine the wall clock
includes waiting for a core, the CPU time does not. The
baseline ``python -c pass`` is the floor no command can go under.

    .venv/bin/python bench/cli_startup.py [--runs 7] [--ref REF]

With ``--ref REF`` the same commands also run on an exported copy of REF (``git
archive``; e.g. the commit before lazy loading), so before and after come from the same
run. Each command runs in its tree's directory (``-c`` puts the current directory first
on ``sys.path``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "trellis --help": ["-c", "from trellis.platform.cli import main; main()", "--help"],
    "trellis clusters list": ["-c", "from trellis.platform.cli import main; main()",
                              "clusters", "list"],
    # the web application as a worker builds it (pages, API; no request served)
    "create_app()": ["-c", "from trellis.platform import create_app; create_app()"],
}


def timed(args: list[str], env: dict, runs: int, cwd: Path) -> tuple[float, float, float]:
    """(median wall s, best wall s, median CPU s of the child: user + system)."""
    seconds, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *args], env=env, capture_output=True, cwd=cwd)
        seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{args} failed: {done.stderr.decode()[-800:]}")
    return statistics.median(seconds), min(seconds), statistics.median(cpu)


def environment(code_root: Path, tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code_root), TRELLIS_ENV="development",
               TRELLIS_INSTANCE_PATH=str(tmp),
               TRELLIS_DATABASE_URL=f"sqlite:///{tmp}/bench.db")
    subprocess.run([sys.executable, "-c", "from trellis.platform.cli import main; main()",
                    "db", "upgrade"], env=env, check=True, capture_output=True, cwd=code_root)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ref", default=None, help="also measure this git ref")
    opts = parser.parse_args()
    trees = [("this tree", ROOT)]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if opts.ref:  # an exported copy of REF (the repository is not touched)
            other = tmp / "ref"
            other.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", opts.ref],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
            trees.insert(0, (opts.ref, other))
        print(f"{'command':24} {'tree':14} {'median s':>9} {'best s':>8} {'CPU s':>7}")
        for label, root in trees:
            work = tmp / label.replace(" ", "_").replace("/", "_")
            work.mkdir()
            env = environment(root, work)
            for name, args in COMMANDS.items():
                med, best, cpu = timed(args, env, opts.runs, root)
                print(f"{name:24} {label[:14]:14} {med:9.3f} {best:8.3f} {cpu:7.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
