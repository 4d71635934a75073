"""Benchmark: the assistant's first question in a fresh process, saved model vs fitted.

Each measurement is a new Python process (as a development server or a web worker that
has not answered yet) that imports the recogniser and answers one question; the time is
taken inside it, from before ``import trellis.assistant.intents`` to the answer, wall and
CPU (``time.process_time``; the machine is shared, so CPU is what a quiet machine shows):

- *fitted* (the baseline, the path before the saved model): the recogniser is fitted in
  the process (``intents.recognise(q)`` with no directory);
- *loaded*: the saved model in a folder is loaded (``intents.recognise(q, directory=F)``),
  after one run of ``model.ensure(F)`` outside the timing;
- ``--before DIR`` also times the fitted path of the code in DIR (e.g. a checkout of main).

The kinds alternate, run after run, so that the machine's load falls on each alike; the
answers of all runs must be equal.

    .venv/bin/python bench/assistant_first_question.py --runs 5
    .venv/bin/python bench/assistant_first_question.py --runs 3 --before /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "我的额度是多少"

PROBE = """
import json, sys, time
w, c = time.perf_counter(), time.process_time()
from trellis.assistant import intents
directory = sys.argv[2] or None
kw = {"directory": directory} if directory else {}
found = intents.recognise(sys.argv[1], **kw)
w, c = time.perf_counter() - w, time.process_time() - c
print("RESULT=" + json.dumps([w, c, found.intent, found.confidence]))
"""


def probe(code_root: Path, directory: str) -> tuple[float, float, str, float]:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    out = subprocess.run([sys.executable, "-c", PROBE, QUESTION, directory], env=env,
                         cwd=code_root, capture_output=True, text=True, timeout=600,
                         check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT="))
    wall, cpu, intent, confidence = json.loads(line.removeprefix("RESULT="))
    return wall, cpu, intent, confidence


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="processes of each kind")
    p.add_argument("--before", type=Path, default=None,
                   help="a checkout whose fitted path is timed too (the code before)")
    p.add_argument("--folder", default=None, help="model folder (default: a temporary one)")
    args = p.parse_args()

    folder = args.folder or tempfile.mkdtemp(prefix="assistant-model-")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", "import sys; from trellis.assistant import model; "
                    "print(model.ensure(sys.argv[1])[1])", folder], env=env, cwd=ROOT,
                   check=True)
    kinds: dict[str, tuple[Path, str]] = {"fitted (baseline)": (ROOT, ""),
                                          "loaded saved model": (ROOT, folder)}
    if args.before:
        kinds["fitted, code before (--before)"] = (args.before.resolve(), "")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    answers = set()
    for _ in range(args.runs):
        for kind, (code, directory) in kinds.items():
            wall, cpu, intent, confidence = probe(code, directory)
            times[kind].append((wall, cpu))
            answers.add((intent, confidence))
    if len(answers) != 1:
        sys.exit(f"the answers differ: {sorted(answers)}")
    print(f"first question {QUESTION!r} -> {answers.pop()}, {args.runs} processes each")
    print(f"{'kind':34} {'median wall s':>14} {'median CPU s':>13} {'min wall s':>11}")
    for kind, rows in times.items():
        print(f"{kind:34} {statistics.median(w for w, _ in rows):14.2f} "
              f"{statistics.median(c for _, c in rows):13.2f} {min(w for w, _ in rows):11.2f}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
