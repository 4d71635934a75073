"""The first risk page after a data change, per worker (issue 15, item 7).

A worker keeps what the firm risk page computes under keys that change with the data: the
cluster's data version (trade), the highest document ids (the limit), the latest portfolio
run (the cluster percentiles). The first request after a change pays for it again, in every
worker. This script measures, in one process through the Flask test client, the CPU of the
first and the second request after each kind of change, for a vendor and an anchor:

    .venv/bin/python bench/risk_page_first.py --instance /tmp/trellis-3k

``trade``: the cluster's data version is bumped (an import, a confirmation); ``run``: a new
portfolio run is taken as the latest (what the nightly rescore does), by forgetting the
kept populations of the current one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["TRELLIS_INSTANCE_PATH"] = args.instance
    os.environ.setdefault("TRELLIS_SCHEDULER", "off")
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from trellis import db
    from trellis.network.build import bump_data_version
    from trellis.platform import create_app
    from trellis.scoring import queries
    from trellis.scoring.models import ScoreRecord
    from trellis.trade.models import Cluster, Firm

    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"email": "rm@trellis.demo", "password": "trellis-demo-2026"})
    sessions = app.extensions["trellis.sessions"]
    with sessions() as s:
        cid = s.scalar(select(Cluster.id).order_by(Cluster.id).limit(1))
        scored = select(ScoreRecord.firm_id).where(ScoreRecord.grade.is_not(None))
        vendor = s.scalar(select(Firm.id).where(Firm.role == "vendor", Firm.id.in_(scored))
                          .order_by(Firm.id).limit(1))
        anchor = s.scalar(select(Firm.id).where(Firm.role == "anchor").order_by(Firm.id)
                          .limit(1))

    def trade():
        with db.transaction(sessions) as s:
            bump_data_version(session=s, cluster_id=cid)

    def run():
        queries._POPULATIONS.clear()

    for name, firm in (("vendor", vendor), ("anchor", anchor)):
        path = f"/scoring/firms/{firm}"
        client.get(path)
        for change_name, change in (("trade", trade), ("run", run)):
            first, second = [], []
            for _ in range(args.repeat):
                change()
                for out in (first, second):
                    c0 = time.process_time()
                    r = client.get(path)
                    out.append((time.process_time() - c0) * 1000)
                    assert r.status_code == 200, r.status_code
            print(f"{name:6s} after a {change_name:5s} change: first request cpu median "
                  f"{statistics.median(first):7.1f} ms, second {statistics.median(second):6.1f}"
                  f" ms (median of {args.repeat})")


if __name__ == "__main__":
    main()
