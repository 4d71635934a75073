"""The screens part of ``bench/scoring_outside.py`` alone, on a cached park.

For each seed: generate the outside park and import it as ``scoring_outside.py`` does
(the first time; the frames, features and coverage as of the day after the cut-off are
then kept in ``--cache``), run every screen as of the cut-off, gated by coverage, and
print the share of clean vendors flagged (per screen) and of each planted fraud caught,
with the clean vendors each screen flags (``--show``) and every planted spike's figures.
No expert or trained card: a seed takes seconds once cached.

    PYTHONPATH=$PWD .venv/bin/python bench/scoring_outside_screens.py --seeds 4801 4802

Development seeds only: seeds 4904 and up are kept for evaluation and refused here.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from bench.scoring_outside import PLANT_SCREENS, cutoff_loans, generate_park, import_park
from trellis import db, migrate
from trellis.scoring import screens, service

FIRST_UNUSED = 4904


def park(seed: int, vendors: int, cache: Path) -> dict:
    """The seed's frames, features, coverage and truth, from *cache* or built there."""
    path = cache / f"screens-{seed}-{vendors}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    from trellis.onboarding.coverage import kinds_by_firm

    work = Path(tempfile.mkdtemp(prefix="outside-screens-"))
    out, truth, tf = generate_park(seed, vendors, work)
    cutoff = date.fromisoformat(truth["cutoff"])
    as_of = cutoff + timedelta(days=1)
    url = f"sqlite:///{work / f'outside-{seed}.db'}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    with db.transaction(factory) as s:
        cid = import_park(s, out / "export", f"outside-{seed}", cutoff)
        c = cutoff_loans(s, cid, as_of, tf)
        coverage = kinds_by_firm(session=s, firm_ids=c.fr.scope, as_of=as_of)
        s.rollback()
    fr = c.fr
    fr.graph = None  # rebuilt on use
    data = {"fr": fr, "X": c.X, "coverage": coverage, "uid": c.uid, "truth": truth,
            "tf": tf}
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(data))
    return data


def evaluate(data: dict, show: bool) -> dict:
    fr, X, uid, truth, tf = data["fr"], data["X"], data["uid"], data["truth"], data["tf"]
    t0 = time.perf_counter()
    flags = screens.run(fr, X, coverage=data["coverage"])
    res: dict = {"screens_s": round(time.perf_counter() - t0, 1)}
    codes = {f: {x.code for x in fl} for f, fl in flags.items()}
    clean = tf[(tf["role"] != "anchor") & (tf["fraud"] == "none")]["uscc"].map(uid)
    res["clean_vendors"] = int(len(clean))
    rates: dict[str, int] = defaultdict(int)
    who: dict[str, list] = defaultdict(list)
    for f in clean:
        for c in codes.get(f, ()):
            rates[c] += 1
            who[c].append(int(f))
    res["false_flags"] = {c: round(n / len(clean), 4) for c, n in sorted(rates.items())}
    res["clean_flagged"] = round(sum(1 for f in clean if codes.get(f)) / len(clean), 4)
    caught = {}
    for kind, want in PLANT_SCREENS.items():
        firms_ = []
        for p in truth["plants"].get(kind, []):
            firms_ += p.get("firms") or [p.get("seller") or p.get("firm")]
        hit = sum(1 for u in firms_ if codes.get(uid.get(u), set()) & want)
        caught[kind] = f"{hit}/{len(firms_)}"
    res["plants_caught"] = caught
    res["spikes"] = [{"firm": uid.get(p.get("seller") or p.get("firm")),
                      "flags": [x.evidence for x in flags.get(uid.get(
                          p.get("seller") or p.get("firm")), []) if x.code == "sales_burst"]}
                     for p in truth["plants"].get("invoice_spike", [])]
    if show:
        res["clean_flagged_by"] = {c: [(f, [x.evidence for x in flags[f] if x.code == c])
                                       for f in fs] for c, fs in who.items()}
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[4801, 4802])
    p.add_argument("--vendors", type=int, default=400)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "outside-screens")
    p.add_argument("--show", action="store_true",
                   help="print the evidence of every flag on a clean vendor")
    args = p.parse_args()
    service.logger.setLevel("WARNING")
    for seed in args.seeds:
        if seed >= FIRST_UNUSED:
            raise SystemExit(f"seed {seed} is kept for evaluation (use bench/scoring_outside.py)")
        t0 = time.perf_counter()
        r = evaluate(park(seed, args.vendors, args.cache), args.show)
        r["seed"] = seed
        r["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(r, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
