"""Cross-validate the assistant's recogniser on its training questions only, and choose
the blend and the hand-over bar from that (never from an evaluation set).

The training questions (``trellis/assistant/data``: ``examples.tsv``, the outside writer's
``examples_outside.tsv`` and ``offtopic.tsv``) are split into K stratified folds (fixed
seed); each fold is recognised by a recogniser built from the other folds and the FAQ
texts. Reported per setting: in-scope accuracy (right intent, not handed over) and the
share of sensitive / out-of-scope questions handed over, on all training questions and on
the outside writer's alone (the best stand-in for unseen questions), each against the
hand-over bar (the blended probability below which a question goes to the RM).

The bar is chosen as the one with the best in-scope accuracy whose hand-over rate stays
at least ``--min-handover`` (default: the issue's goal, 95%), and printed with its
neighbours so the choice can be read.

    python bench/assistant_cv.py [--folds 5] [--blend 1.0 0.85 0.7 0.5] [--show-errors]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict

BARS = [round(0.02 * i, 2) for i in range(0, 31)]


def folds(rows: list[tuple[str, str, str]], k: int, seed: int = 16) -> list[list[int]]:
    """Stratified folds: each label's rows dealt in turn after a seeded shuffle."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i in order:
        by_label[rows[i][0]].append(i)
    out: list[list[int]] = [[] for _ in range(k)]
    dealt = 0
    for label in sorted(by_label):
        for i in by_label[label]:
            out[dealt % k].append(i)
            dealt += 1
    return out


def training_rows() -> list[tuple[str, str, str]]:
    """(intent, text, source file) of every training question."""
    from trellis.assistant import intents

    return [(intent, text, name) for name in intents.TRAINING
            for intent, text in intents.load_labelled(name)]


def out_of_fold(rows, k: int, **params) -> list:
    """Each row's recognition by a recogniser that never saw it (bar at 0: the bar is
    applied afterwards, from the confidence)."""
    from trellis.assistant import intents

    faq = intents.load_labelled(intents.FAQ)
    got: list = [None] * len(rows)
    for held in folds(rows, k):
        held_set = set(held)
        train = [(r[0], r[1]) for i, r in enumerate(rows) if i not in held_set]
        rec = intents.Recognizer(train + faq, handover_below=0.0, **params)
        for i in held:
            got[i] = rec.recognise(rows[i][1])
    return got


def measure(rows, got, bar: float, only: str | None = None) -> tuple[float, float, int, int]:
    """In-scope accuracy and hand-over rate with the bar at *bar*."""
    from trellis.assistant import intents

    right = handed = n_in = n_out = 0
    for row, g in zip(rows, got, strict=True):
        if only and row[2] != only:
            continue
        handover = g.handover or (g.confidence < bar and g.reason == "")
        if row[0] in intents.ANSWERED:
            n_in += 1
            right += (not handover) and g.intent == row[0]
        else:
            n_out += 1
            handed += handover
    return right / max(n_in, 1), handed / max(n_out, 1), n_in, n_out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--blend", type=float, nargs="+", default=None,
                        help="classifier weights to try (default: the shipped BLEND)")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--c", type=float, default=None)
    parser.add_argument("--min-handover", type=float, default=0.95)
    parser.add_argument("--show-errors", action="store_true",
                        help="print the outside writer's misses at the chosen bar")
    args = parser.parse_args(argv)
    from trellis.assistant import intents

    rows = training_rows()
    outside = "examples_outside.tsv"
    print(f"training questions {len(rows)} ({sum(r[2] == outside for r in rows)} by the "
          f"outside writer), {args.folds} folds")
    best = None
    for blend in args.blend or [intents.BLEND]:
        params = {"blend": blend}
        if args.temperature is not None:
            params["temperature"] = args.temperature
        if args.c is not None:
            params["c"] = args.c
        t0 = time.perf_counter()
        got = out_of_fold(rows, args.folds, **params)
        print(f"\n{params} ({time.perf_counter() - t0:.0f} s)")
        print(f"{'bar':>5} {'in scope':>9} {'handed':>7} | {'outside in':>10} {'handed':>7}")
        chosen = None
        for bar in BARS:
            a, h, _, _ = measure(rows, got, bar)
            oa, oh, _, _ = measure(rows, got, bar, outside)
            print(f"{bar:5.2f} {a:9.3f} {h:7.3f} | {oa:10.3f} {oh:7.3f}")
            if h >= args.min_handover and (chosen is None or a > chosen[1]):
                chosen = (bar, a, h, oa, oh)
        if chosen:
            print("chosen bar {:.2f}: in scope {:.3f}, handed over {:.3f} "
                  "(outside writer's: {:.3f}, {:.3f})".format(*chosen))
            if best is None or chosen[1] > best[1][1]:
                best = (params, chosen, got)
    if best is None:
        print(f"no setting hands over {args.min_handover:.0%}")
        return 1
    params, chosen, got = best
    print(f"\nbest: {params}, bar {chosen[0]:.2f}: in scope {chosen[1]:.3f}, handed over "
          f"{chosen[2]:.3f}; outside writer's questions {chosen[3]:.3f} / {chosen[4]:.3f}")
    if args.show_errors:
        for row, g in zip(rows, got, strict=True):
            handover = g.handover or (g.confidence < chosen[0] and g.reason == "")
            ok = handover if row[0] not in intents.ANSWERED else (
                not handover and g.intent == row[0])
            if not ok and row[2] == outside:
                print(f"  MISS {row[0]} -> {g.intent} {g.confidence:.2f} {row[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
