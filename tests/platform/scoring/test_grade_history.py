"""Issue 15 (F7/F13): a vendor's grade went from A to B minutes after two small invoices
were entered, and nothing showed the firm's score history or told the vendor why its price
changed. The RM's risk page shows the history, the vendor's own page a short one, and the
vendor gets a message with the two grades, what moved most and the price."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from trellis.clock import utcnow
from trellis.notifications import events, render
from trellis.notifications.models import NotificationEvent, OutboxMessage
from trellis.protection.models import Notification
from trellis.scoring import service
from trellis.scoring.models import ScoreRecord
from trellis.trade.models import ClusterManager

GOOD = {"sales_drawdown_3m": 0.1, "active_share_12m": 0.95, "sales_trend_3v12": 0.2}
WORSE = {**GOOD, "sales_drawdown_3m": 0.7, "active_share_12m": 0.6}


@pytest.fixture
def scored(session, make_cluster, make_firm):
    """A vendor scored A, then B minutes later (as two small invoices did); a firm with
    no user that moved too."""
    card = service.champion(session=session)
    cluster = make_cluster()
    vendor = make_firm(cluster_id=cluster.id, name="甬天电子")
    nobody = make_firm(cluster_id=cluster.id)
    now = utcnow()
    recs = []
    for firm in (vendor, nobody):
        for minutes, grade, score, feats in (
            (-60 * 24 * 3, "A", 790, GOOD),
            (-20, "A", 781, GOOD),
            (-5, "B", 760, WORSE),
        ):
            rec = ScoreRecord(
                firm_id=firm.id,
                cluster_id=cluster.id,
                as_of=(now + timedelta(minutes=minutes)).date(),
                score=score,
                pd="0.0123",
                grade=grade,
                features=feats,
                scorecard_version=card.version,
                computed_at=now + timedelta(minutes=minutes),
            )
            session.add(rec)
            session.flush()
            if firm is vendor:
                recs.append(rec)
    return cluster, vendor, nobody, recs


def test_the_vendor_is_told_once_why_its_grade_and_price_changed(session, make_user, scored):
    _, vendor, nobody, recs = scored
    user = make_user("vendor", firm=vendor, phone="13800000001")
    assert events.collect(session=session) >= 1
    event = session.exec(
        select(NotificationEvent).where(NotificationEvent.key == f"grade:{vendor.id}:{recs[-1].id}")
    ).one()
    assert event.kind == "grade" and event.firm_id == vendor.id
    zh, en = render.text(event.message, "zh_CN"), render.text(event.message, "en")
    assert "由 A 变为 B" in zh, zh
    # the two characteristics that lost most, the larger first, with the points each lost
    lost = "近3个月销售额较一年内最佳3个月的降幅（−69 分）、近12个月有销售的月份占比（−34 分）"
    assert lost in zh, zh
    assert "新的应收账款融资报价年化利率为" in zh and "原为" in zh, zh
    assert "changed from A to B" in en and "Receivable financing" in en, en
    inbox = session.exec(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == "grade")
    ).all()
    assert [n.message_zh for n in inbox] == [zh], "the in-app text is cut at 300 characters"
    assert {
        o.channel
        for o in session.exec(select(OutboxMessage).where(OutboxMessage.event_id == event.id))
    } == {"email", "sms"}
    assert render.subject("grade", "zh_CN") == "贵司的风险等级已变化"
    # told once; a firm with no one to tell is not told; the older A -> A is no change
    assert events.collect(session=session) == 0
    assert not session.exec(
        select(NotificationEvent).where(
            NotificationEvent.firm_id == nobody.id, NotificationEvent.kind == "grade"
        )
    ).all()


def test_the_rm_sees_the_score_history(client, session, logged_in, scored):
    cluster, vendor, _, recs = scored
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=cluster.id, user_id=rm.id))
    session.flush()
    page = client.get(f"/scoring/firms/{vendor.id}").get_data(as_text=True)
    assert "评分历史" in page and 'data-testid="score-history"' in page
    table = page.split('data-testid="score-history"', 1)[1].split("</table>", 1)[0]
    order = [int(part.split('"', 1)[0]) for part in table.split('data-record="')[1:]]
    assert order == [r.id for r in reversed(recs)]
    assert table.count('data-moved-from="A"') == 1 and "1.23%" in table
    assert recs[0].scorecard_version in table


def test_the_vendor_sees_its_grade_and_its_last_moves(client, logged_in, scored):
    _, vendor, _, _ = scored
    logged_in("vendor", firm=vendor)
    page = client.get("/vendor/").get_data(as_text=True)
    box = page.split('id="risk-grade"', 1)[1].split("</section>", 1)[0]
    assert 'data-grade="B"' in page and "贵司的风险等级" in box
    assert box.count("<li>") == 1 and "由 A 变为 B" in box
    assert "已签约的贷款利率不变" in box
