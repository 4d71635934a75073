"""elements.json (the network picture's data): what its grades read, before and after.

Issue 15, item 6: the picture colours each firm by its latest grade, yet the page read every
grade the cluster ever had (a nightly rescore adds one row per firm a day). Runs both reads
on the same database in the same run, and times the whole request.

    .venv/bin/python bench/network_elements.py sqlite:////tmp/trellis/grades.db jiangbei-park
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import func, select


def main() -> None:
    url, code = sys.argv[1], sys.argv[2]
    from trellis import db
    from trellis.scoring.models import ScoreRecord
    from trellis.scoring.queries import newest_grades
    from trellis.trade.models import Cluster

    engine = db.make_engine(url)
    with db.make_sessionmaker(engine)() as s:
        cid = s.scalar(select(Cluster.id).where(Cluster.code == code))
        every = (select(ScoreRecord.firm_id, ScoreRecord.grade)
                 .where(ScoreRecord.cluster_id == cid, ScoreRecord.grade.is_not(None))
                 .order_by(ScoreRecord.computed_at, ScoreRecord.id))
        ranked = (select(ScoreRecord.firm_id, ScoreRecord.grade, func.row_number().over(
            partition_by=ScoreRecord.firm_id,
            order_by=(ScoreRecord.computed_at.desc(), ScoreRecord.id.desc())).label("n"))
            .where(ScoreRecord.cluster_id == cid, ScoreRecord.grade.is_not(None)).subquery())
        window = select(ranked.c.firm_id, ranked.c.grade).where(ranked.c.n == 1)
        newest = newest_grades(cid)
        for name, stmt in (("before: every grade", every),
                           ("row_number() window", window), ("after: newest per firm", newest)):
            cpu, rows = [], None
            for _ in range(7):
                c0 = time.process_time()
                got = s.execute(stmt).all()
                cpu.append((time.process_time() - c0) * 1000)
                rows = got
            same = dict(rows) == dict(s.execute(every).all())
            print(f"{name:26s} rows read {len(rows):>7,}  "
                  f"cpu median {statistics.median(cpu):6.1f} ms  (7 runs)  same grades {same}")


if __name__ == "__main__":
    main()
