"""The pages issue 15's reviewer (a Chinese-speaking bank clerk) read wrongly, read again.

The walk of :mod:`tests.browser.test_reader_zh` reaches one page per path shape, on the
seeded demo, with collapsed sections as they come. Here the demo of this module is scored
first (flags with evidence, every feature value) and a job stops on a driver's error; then
the very pages that were wrong are read by the RM, the admin and the auditor, with every
collapsed section open: a flagged firm's risk page, firms of each tier, the cluster's
figures, the jobs page, the audit trail.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.browser.conftest import DESKTOP, log_in
from tests.browser.test_reader_zh import read_pages
from trellis import clock

pytestmark = pytest.mark.browser


def _fixed_pages(live) -> dict[str, list[str]]:
    """The pages issue 15's reviewer read wrongly, by role, on records that show what was
    wrong: a flagged firm's risk page (evidence, every feature value), firms of every tier
    (a buyer downstream of an anchor, one not connected), the cluster's figures, the jobs
    page after a job stopped on a driver's error, the audit trail's filter."""
    from trellis.jobs import JobRun
    from trellis.messages import stored, unexpected
    from trellis.network import analytics, build
    from trellis.scoring import service
    from trellis.scoring.models import ScoreRecord
    from trellis.trade.models import Cluster

    with live.session() as s:
        cluster = s.exec(select(Cluster).order_by(Cluster.id)).first()
        service.score_portfolio(session=s, as_of=clock.today(), cluster_id=cluster.id)
        s.commit()
        flagged = s.exec(select(ScoreRecord).where(ScoreRecord.cluster_id == cluster.id)
                         .order_by(ScoreRecord.id)).all()
        flagged = next(r.firm_id for r in flagged if r.flags and r.features)
        G = build.cluster_graph(session=s, cluster_id=cluster.id)
        tiers = analytics.tiers(G)
        firms = [next((f for f, t in tiers.items() if t == want), None) for want in (-1, 2)]
        firms.append(next((f for f in G.nodes if f not in tiers), None))
        s.add(JobRun(job_id="anchor_pending", ok=False, outcome=stored(
            unexpected(RuntimeError("driver said: connection reset by peer")), 2000)))
        s.commit()
    network = [f"/network/{cluster.code}"] + [f"/network/firms/{f}" for f in firms if f]
    return {
        "rm": [f"/scoring/firms/{flagged}", *network, f"/scoring/?cluster={cluster.code}"],
        "admin": ["/admin/jobs", "/admin/audit", f"/scoring/firms/{flagged}"],
        "auditor": ["/admin/audit", f"/scoring/firms/{flagged}", *network],
    }


@pytest.mark.parametrize("role", ["rm", "admin", "auditor"])
def test_the_pages_issue_15_fixed_read_in_chinese(fresh_live, new_page, role):
    """The reviewer's pages, each read with its collapsed sections open: no JSON, no fen,
    no English (a driver's error text), no code; an admin's technical section is the one
    thing left closed, and it is there, labelled."""

    live = fresh_live
    if "fixed_pages" not in live.state:
        live.state["fixed_pages"] = _fixed_pages(live)
    pages = live.state["fixed_pages"]
    page = new_page(viewport=DESKTOP, locale="zh-CN")
    log_in(page, live, f"{role}@trellis.demo")
    urls = [live.url + path for path in pages[role]]
    report = read_pages(page, live.url, urls, f"fixed-{role}")
    lines = [f"{url}\n    " + "\n    ".join(found) for url, found in report.items()]
    assert not report, "\n".join(lines)
    if role == "admin":
        page.goto(f"{live.url}/admin/jobs")
        technical = page.locator("details[data-technical]").first
        assert technical.is_visible() and not technical.evaluate("d => d.open")
        assert "技术详情" in technical.inner_text()
        assert "connection reset" not in page.inner_text("body")
