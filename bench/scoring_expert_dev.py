"""The expert card on the outside generator's development seeds, from a cache.

Generating a park and importing it takes minutes; scoring it with a changed expert card
takes a second. So each development seed is generated, imported into a SQLite file and
its feature tables computed once (``--cache DIR``, kept between runs): the features of
every firm as of the day after the cut-off, the scorable cut-off borrowers with their
outcomes (from the generator's truth, for the figures only), the park's past loans
(``registry.platform_table``, features as of each loan's month) and the scorable
population. Then the expert card is applied as ``bench/scoring_outside.py`` does: its
AUC on the scorable cut-off borrowers, the slope from the past loans and the level from
the stated rate (``calibration.recalibrate_to_rate``), the calibration report on the
cut-off loans (mean PD against observed, grades in their band, the score span), and per
characteristic its own discrimination (AUC and information value of its points).

Development seeds only (3001-3003): never run it on evaluation seeds.

    .venv/bin/python bench/scoring_expert_dev.py --seeds 3001 3002 3003 --cache /tmp/credit6
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from trellis import db, migrate
from trellis.scoring import calibration, expert, features, frames, metrics, scorecard

STATED_RATE = 0.225
DEV_SEEDS = (3001, 3002, 3003)


def refresh(data: dict) -> dict:
    """The feature tables of a cached seed computed again from its imported database (after
    a change to the features; the park is not generated or imported again)."""
    from trellis.scoring.registry import platform_table

    factory = db.make_sessionmaker(db.make_engine(f"sqlite:///{data['db']}"))
    with db.transaction(factory) as s:
        cid, as_of = data["cluster_id"], data["as_of"]
        X = features.compute(frames.load(session=s, as_of=as_of, cluster_id=cid))
        why = features.sufficiency(X)
        data["X"] = X
        data["past"] = platform_table(session=s, as_of=as_of, cluster_id=cid)
        data["pop"] = X[[not why.get(f) and X.loc[f, "role"] != "anchor" for f in X.index]]
        s.rollback()
    return data


def build(seed: int, vendors: int, cache: Path, again: bool = False) -> dict:
    """Generate, import and compute the tables of *seed* (once; then read from *cache*;
    *again*: recompute the features from the cached database)."""
    path = cache / f"dev-{seed}.pkl"
    if path.exists():
        data = pickle.loads(path.read_bytes())
        if again:
            data = refresh(data)
            path.write_bytes(pickle.dumps(data))
        return data
    if seed >= 4000:
        raise SystemExit("development seeds only (below 4000)")
    from bench.scoring_outside import cutoff_loans, generate_park, import_park
    from trellis.scoring.registry import platform_table

    out, truth, tf = generate_park(seed, vendors, cache)
    cutoff = date.fromisoformat(truth["cutoff"])
    as_of = cutoff + timedelta(days=1)
    dbfile = cache / f"outside-{seed}.db"
    dbfile.unlink(missing_ok=True)
    url = f"sqlite:///{dbfile}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    with db.transaction(factory) as s:
        cid = import_park(s, out / "export", f"outside-{seed}", cutoff)
        _fr, X, why, _uid, loans = cutoff_loans(s, cid, as_of, tf)
        past = platform_table(session=s, as_of=as_of, cluster_id=cid)
        pop = X[[not why.get(f) and X.loc[f, "role"] != "anchor" for f in X.index]]
    data = {"seed": seed, "cutoff": cutoff, "as_of": as_of, "cluster_id": cid, "X": X,
            "loans": loans[["uscc", "firm_id", "y", "scorable", "sector"]], "past": past,
            "pop": pop, "db": str(dbfile)}
    path.write_bytes(pickle.dumps(data))
    return data


def information_value(points: np.ndarray, y: np.ndarray) -> float:
    """IV of the distinct point values of one characteristic (0.5 added to empty cells)."""
    iv = 0.0
    nb, ng = y.sum(), (1 - y).sum()
    for v in np.unique(points):
        m = points == v
        b, g = y[m].sum() + 0.5, (1 - y[m]).sum() + 0.5
        iv += (g / ng - b / nb) * np.log((g / ng) / (b / nb))
    return float(iv)


def evaluate(data: dict, spec: dict, rate: float = STATED_RATE) -> dict:
    """The expert card *spec* on one cached seed."""
    loans = data["loans"]
    sc = loans[loans["scorable"]]
    Xs = data["X"].loc[sc["firm_id"]]
    y = sc["y"].to_numpy()
    s = scorecard.apply(spec, Xs)
    past = data["past"]
    yp = past["defaulted"].to_numpy(dtype=int)
    cal = calibration.recalibrate_to_rate(spec, past, yp, data["pop"], rate, source="dev")
    rep = calibration.report(cal, Xs, y)
    pop_scores = scorecard.apply(cal, data["pop"]).score
    lo, hi = _range(cal)
    rules = {}
    for name in s.points.columns:
        pts = s.points[name].to_numpy()
        if np.unique(pts).size < 2:
            rules[name] = {"auc": None, "iv": 0.0}
            continue
        # points are good-side: a higher value means a better firm, so the AUC of -points
        rules[name] = {"auc": round(metrics.auc(y, -pts), 3),
                       "iv": round(information_value(pts, y), 3)}
    return {"seed": data["seed"], "n": int(len(y)), "bad": int(y.sum()),
            "auc": round(metrics.auc(y, s.pd.to_numpy()), 4),
            "ratio": rep["ratio"], "outside": rep["grades_outside_band"],
            "hl_p": round(rep["hosmer_lemeshow"]["p_value"], 4),
            "slope_fitted": cal["calibration"].get("slope_fitted"),
            "slope": cal["calibration"]["slope"],
            "grades": {g["grade"]: (g["n"], g["observed_rate"], g["mean_pd"], g["inside"])
                       for g in rep["grades"]},
            "span": rep["score_span"],
            "pop_span": [int(pop_scores.min()), int(pop_scores.max())],
            "pop_p5_p95": [int(np.percentile(pop_scores, 5)), int(np.percentile(pop_scores, 95))],
            "range": [lo, hi], "rules": rules}


def _range(spec: dict) -> tuple[int, int]:
    r = spec.get("scaling", {}).get("range")
    return (int(r[0]), int(r[1])) if r else (0, 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=list(DEV_SEEDS))
    p.add_argument("--vendors", type=int, default=400)
    p.add_argument("--cache", type=Path, default=Path("/tmp/trellis-expert-dev"))
    p.add_argument("--rules", action="store_true", help="print each rule's AUC and IV")
    p.add_argument("--refresh", action="store_true",
                   help="compute the cached seeds' features again from their databases")
    args = p.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    spec = expert.spec()
    for seed in args.seeds:
        t0 = time.perf_counter()
        data = build(seed, args.vendors, args.cache, args.refresh)
        r = evaluate(data, spec)
        rules = r.pop("rules")
        print(json.dumps(r, default=str), f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if args.rules:
            for name, v in rules.items():
                print(f"    {name:32s} auc {v['auc']}  iv {v['iv']}")


if __name__ == "__main__":
    main()
