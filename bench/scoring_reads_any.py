"""Benchmark: ``scorecard.reads_any`` (does the card read a dynamics column?), asked on
every scoring (``service.score_frames``), before and after it was kept per card version.

The baseline is the former body (a dump of the whole card document, indented, on every
call), timed in the same run on the same cards: the champion expert card and a card the
size of a trained boosted one (its model text about 1 MB, as LightGBM writes 300 trees).

    .venv/bin/python bench/scoring_reads_any.py
"""

from __future__ import annotations

import json
import time

from trellis.scoring import dynamics, expert, scorecard


def former(spec: dict, names) -> bool:
    """The body before the cache: the whole document dumped on every call."""
    text = scorecard.dumps(spec)
    return any(json.dumps(name) in text for name in names)


def per_call_us(fn, spec: dict, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn(spec, dynamics.COLUMNS)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    card = expert.spec()
    boosted = {
        "format": "trellis-scorecard/1",
        "version": "bench-gbm-1",
        "family": "gbm",
        "model": {
            "features": [c["name"] for c in card["characteristics"]],
            "booster": "tree\n" + "split_feature=3 4 5 threshold=1.5 2.5\n" * 25_000,
        },
    }
    for name, spec, n in (("expert card", card, 2000), ("boosted-size card", boosted, 50)):
        assert former(spec, dynamics.COLUMNS) == scorecard.reads_any(spec, dynamics.COLUMNS)
        before = per_call_us(former, spec, n)
        after = per_call_us(scorecard.reads_any, spec, n)
        print(
            f"{name:18s} {len(scorecard.dumps(spec)) / 1e3:8.0f} kB  before "
            f"{before:10.1f} us/call  after {after:6.2f} us/call  ({before / after:,.0f}x)"
        )


if __name__ == "__main__":
    main()
