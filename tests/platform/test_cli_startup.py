"""The ``trellis`` command starts fast: listing commands imports no area module and no
heavy library, and ``clusters list`` imports none of scipy, web3, pandas, scikit-learn or
optbinning. (Times are measured by ``bench/cli_startup.py``; what is imported is the
cause and is checked here.)"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trellis.platform import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "web3", "pandas", "sklearn", "optbinning", "networkx", "eth_account")

PROBE = """
import json, sys
sys.argv = ["trellis", *json.loads(sys.argv[1])]
from trellis.platform.cli import main
try:
    main()
except SystemExit:
    pass
print("MODULES=" + json.dumps(sorted(m for m in sys.modules if "." not in m)))
"""


def test_lazy_table_matches_the_areas_commands():
    found = {}
    for area in cli.AREAS:
        for command in importlib.import_module(f"trellis.platform.{area}.cli").commands:
            found[command.name] = area
    assert {n: a for n, (a, _) in cli.AREA_COMMANDS.items()} == found


def _modules(args, tmp_path) -> tuple[set[str], str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TRELLIS_ENV="development",
               TRELLIS_INSTANCE_PATH=str(tmp_path),
               TRELLIS_DATABASE_URL=f"sqlite:///{tmp_path}/cli.db")
    subprocess.run([sys.executable, "-c", "from trellis.platform.cli import main; main()",
                    "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES="))), out.stdout


@pytest.mark.parametrize("args", [["--help"], ["clusters", "list"]])
def test_no_heavy_imports(args, tmp_path):
    modules, out = _modules(args, tmp_path)
    assert not modules & set(HEAVY), modules & set(HEAVY)
    if args == ["--help"]:
        assert "clusters" in out and "scoring" in out and "import" in out
