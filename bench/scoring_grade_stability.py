"""Grade stability at bin edges: how many graded firms a little new trade moves across a
grade, with and without the grade hold (:mod:`trellis.scoring.grade_hold`).

On a copy of a database holding a scored cluster (the demo: ``trellis db upgrade &&
trellis demo seed``), for each amount: the portfolio is scored and stored (the baseline,
each firm's published grade), then every graded vendor issues *count* new invoices of that
amount to its largest buyer of the last year (pending, as a vendor's own upload is, issued
the day before the scoring date), and the portfolio is scored and stored again through the
service (so the hold reads the baseline records and the margin in force). Printed per
amount: firms whose card grade moved (what main published: the grade read from the PD
alone) and whose published grade moved (the hold at the margin in force), and the same
count recomputed for other margins from the same scores (``grade_hold.held_grade``), plus
how far the scores moved. The baseline in the same run is the card's own grade.

    .venv/bin/python bench/scoring_grade_stability.py --existing /tmp/card13-demo/trellis.db
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from trellis import clock, db
from trellis.scoring import grade_hold, scorecard, service
from trellis.scoring.result import BASIS_CONSENT
from trellis.trade.models import Invoice

MARGINS = (0, 2, 3, 5, 8, 10, 15)


def _row(features: dict, fid: int) -> pd.DataFrame:
    return pd.DataFrame([{k: (float("nan") if v is None else v) for k, v in features.items()}],
                        index=[fid])


def largest_buyers(s, firm_ids: list[int], since: date) -> dict[int, int]:
    """Seller id -> its largest buyer (by invoiced amount since *since*)."""
    rows = s.execute(select(Invoice.seller_id, Invoice.buyer_id, func.sum(Invoice.amount_fen))
                     .where(Invoice.seller_id.in_(firm_ids), Invoice.issue_date >= since)
                     .group_by(Invoice.seller_id, Invoice.buyer_id)).all()
    best: dict[int, tuple[int, int]] = {}
    for seller, buyer, total in rows:
        if seller not in best or int(total) > best[seller][1]:
            best[seller] = (buyer, int(total))
    return {k: v[0] for k, v in best.items()}


def run(path: Path, amount_fen: int, count: int, as_of: date) -> dict:
    with tempfile.TemporaryDirectory(prefix="grade-stability-") as tmp:
        copy = Path(tmp) / "trellis.db"
        shutil.copy(path, copy)
        factory = db.make_sessionmaker(db.make_engine(f"sqlite:///{copy}"))
        with factory() as s:
            base, _ = service.score_portfolio(session=s, as_of=as_of)
            s.commit()
            graded = {r.firm_id: r for r in base if r.grade is not None
                      and r.basis == BASIS_CONSENT}
            buyers = largest_buyers(s, sorted(graded), as_of - timedelta(days=365))
            issued = as_of - timedelta(days=1)
            for fid, buyer in buyers.items():
                for k in range(count):
                    s.add(Invoice(seller_id=fid, buyer_id=buyer, number=f"STAB-{fid}-{k}",
                                  amount_fen=amount_fen, issue_date=issued,
                                  due_date=issued + timedelta(days=60)))
            s.flush()
            t0 = time.perf_counter()
            after, _ = service.score_portfolio(session=s, as_of=as_of)
            seconds = time.perf_counter() - t0
            spec = service.champion(session=s).spec
            margin = grade_hold.margin(session=s, on=as_of)
            s.rollback()
    now = {r.firm_id: r for r in after}
    ids = [f for f in graded if f in buyers and now[f].grade is not None]
    card_moved = [f for f in ids if now[f].card_grade != graded[f].grade]
    published_moved = [f for f in ids if now[f].grade != graded[f].grade]
    sweep = {m: sum(grade_hold.held_grade(spec, int(now[f].score), str(now[f].card_grade),
                                          graded[f].grade, m) != graded[f].grade for f in ids)
             for m in MARGINS}
    # which characteristic's points moved most for each firm whose card grade moved
    drivers: Counter = Counter()
    for f in card_moved:
        b = scorecard.apply(spec, _row(graded[f].features, f)).points.iloc[0]
        a = scorecard.apply(spec, _row(now[f].features, f)).points.iloc[0]
        d = (a - b).abs()
        drivers[str(d.idxmax())] += 1
    held_up = sum(now[f].held and now[f].grade < str(now[f].card_grade) for f in ids)
    delta = np.array([int(now[f].score) - int(graded[f].score) for f in ids])
    return {"amount_fen": amount_fen, "count": count, "graded": len(graded),
            "with_buyer": len(ids), "baseline_held": sum(r.held for r in graded.values()),
            "card_moved": len(card_moved), "published_moved": len(published_moved),
            "margin": margin, "sweep": sweep, "held_now": sum(now[f].held for f in ids),
            "drivers": drivers, "held_up": held_up,
            "moves": Counter(f"{graded[f].grade}->{now[f].card_grade}" for f in card_moved),
            "score_moved": int((delta != 0).sum()), "abs_delta_max": int(np.abs(delta).max()),
            "abs_delta_p90": float(np.percentile(np.abs(delta), 90)), "seconds": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--existing", type=Path, required=True, help="a SQLite file (copied)")
    p.add_argument("--amounts", type=int, nargs="+", default=[200_000, 1_000_000],
                   help="invoice amounts in fen (default ¥2,000 and ¥10,000)")
    p.add_argument("--count", type=int, default=2, help="invoices per vendor")
    p.add_argument("--as-of", type=date.fromisoformat, default=clock.today())
    args = p.parse_args()
    print(f"{args.existing}, as of {args.as_of}, load {os.getloadavg()[0]:.1f}")
    for amount in args.amounts:
        r = run(args.existing, amount, args.count, args.as_of)
        yuan = f"¥{amount / 100:,.0f}"
        print(f"\n{args.count} x {yuan} per vendor: {r['with_buyer']} of {r['graded']} graded "
              f"vendors given invoices; baseline grades held: {r['baseline_held']}")
        print(f"  scores moved: {r['score_moved']} firms (|change| p90 {r['abs_delta_p90']:.0f}, "
              f"max {r['abs_delta_max']} points)")
        print(f"  card grade moved (main): {r['card_moved']}  {dict(r['moves'])}")
        print(f"  published grade moved (hold {r['margin']} points, the service's path): "
              f"{r['published_moved']}; held now {r['held_now']} ({r['held_up']} of them "
              f"above the card's grade)")
        print(f"  characteristic that moved most, per card move: {dict(r['drivers'])}")
        print("  by margin: " + ", ".join(f"{m}: {n}" for m, n in r["sweep"].items()))
        print(f"  rescore {r['seconds']:.2f} s")


if __name__ == "__main__":
    main()
