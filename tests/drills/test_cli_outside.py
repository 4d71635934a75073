"""CLI bad input from outside: a refused argument gives a message, never a traceback.

Found while building the other drills from the README (`trellis demo seed --vendors N`).
"""

from __future__ import annotations

from tests.drills.conftest import base_env, trellis


def test_demo_seed_with_too_few_vendors_says_why(tmp_path):
    env = base_env(tmp_path)
    trellis(env, "db", "upgrade", check=True)
    run = trellis(env, "demo", "seed", "--vendors", "3", "--no-score")
    assert run.returncode != 0
    assert "Traceback" not in run.stderr, run.stderr[-1500:]
    assert "30" in run.stdout + run.stderr
