"""The web application starts without the training libraries: building it with
``create_app`` imports neither scikit-learn nor LightGBM, XGBoost or optbinning (fitting
a card is the jobs' and the CLI's work; the pages load a stored card and score), nor web3
and the Ethereum clients (only the views and jobs that talk to a node import them, when
they do). Time is measured in NOTES/bench; what is imported is the cause, checked here in
a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAINING_ONLY = ("sklearn", "lightgbm", "xgboost", "optbinning")
NODE_CLIENTS = ("web3", "eth_account", "eth_tester")

PROBE = """
import json, sys
from trellis.platform import create_app
app = create_app()
assert app.url_map.bind("localhost").match("/scoring/"), "the scoring pages are registered"
print("MODULES=" + json.dumps(sorted(m for m in sys.modules if "." not in m)))
"""


def test_create_app_imports_no_training_library_nor_node_client(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TRELLIS_ENV="development",
               TRELLIS_INSTANCE_PATH=str(tmp_path),
               TRELLIS_DATABASE_URL=f"sqlite:///{tmp_path}/app.db")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES="))
    modules = set(json.loads(line.removeprefix("MODULES=")))
    assert "flask" in modules and "pandas" in modules  # the probe did build the pages
    assert not modules & set(TRAINING_ONLY), sorted(modules & set(TRAINING_ONLY))
    assert not modules & set(NODE_CLIENTS), sorted(modules & set(NODE_CLIENTS))
