"""The rest of the anchor desk: payables and payments, the stress test, early warning and
the network picture."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import invoice
from trellis import clock
from trellis.ledger import stress
from trellis.trade.models import DocStatus, Payment

TODAY = clock.today()


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


@pytest.fixture
def flows(session, chain):
    """The anchor bought 600,000 fen from tier1 every 10 days over the last 180 days on 60
    days' terms; the six most recent invoices are unpaid and fall due in 8, 18, ... 58
    days. Assumed cash: 30 days of 10,800,000 fen over 180 days = 1,800,000 fen."""
    for n, days_ago in enumerate(range(2, 180, 10)):
        inv = invoice(session, chain.tier1, chain.anchor, 600_000,
                      issue_date=TODAY - timedelta(days=days_ago), terms_days=60,
                      number=f"F{n}")
        if days_ago > 60:
            inv.paid_fen = inv.amount_fen
    session.flush()
    return chain


def test_stress_ranks_who_runs_out_first_and_cascades(session, flows):
    rows = stress.run(session=session, anchor_id=flows.anchor.id, days_late=60)
    by_firm = {r.firm_id: r for r in rows}
    t1, t2 = by_firm[flows.tier1.id], by_firm[flows.tier2.id]
    assert t1.tier == 1 and t2.tier == 2
    assert (t1.bought_fen, t1.cushion_fen, t1.held_back_fen) == (10_800_000, 1_800_000,
                                                                 3_600_000)
    # held back 600,000 on days 8, 18, 28 (1,800,000: not above the cash), 38
    assert (t1.runs_out_day, t1.shortfall_fen) == (38, 1_800_000)
    assert (t2.runs_out_day, t2.cause_firm_id, t2.cause_name) == (38, flows.tier1.id,
                                                                  flows.tier1.name)
    assert rows[0].firm_id == flows.tier1.id
    assert flows.tier3.id not in by_firm  # tier 3 is beyond the picture


@pytest.mark.parametrize("days, day", [(1, None), (37, None), (38, 38), (200, 38)])
def test_a_short_delay_hurts_less(session, flows, days, day):
    rows = {r.firm_id: r for r in stress.run(session=session, anchor_id=flows.anchor.id,
                                             days_late=days)}
    assert rows[flows.tier1.id].runs_out_day == day


@pytest.mark.parametrize("days", [0, 366, -3, "7", True])
def test_stress_refuses_silly_delays(session, chain, days):
    from trellis.errors import ValidationError

    with pytest.raises(ValidationError):
        stress.run(session=session, anchor_id=chain.anchor.id, days_late=days)


def test_stress_page(client, session, flows, logged_in):
    logged_in("anchor", firm=flows.anchor)
    english(client)
    page = client.get("/anchor/stress?days_late=60").get_data(as_text=True)
    assert flows.tier1.name in page
    assert "run short of cash because we pay late" in page
    bad = client.get("/anchor/stress?days_late=abc")
    assert bad.status_code == 422 and 'id="days_late-error"' in bad.get_data(as_text=True)
    assert client.get("/anchor/stress?days_late=999").status_code == 422


def test_payables_and_bad_payments(client, session, chain, logged_in):
    inv = invoice(session, chain.tier1, chain.anchor, 500_000)
    other = invoice(session, chain.tier2, chain.tier1, 500_000)
    pending = invoice(session, chain.tier1, chain.anchor, status=DocStatus.PENDING)
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/payables?days=all").get_data(as_text=True)
    assert inv.number in page and other.number not in page and pending.number not in page
    url = f"/anchor/payables/{inv.id}/pay"
    base = {"amount": "5000.00", "paid_on": TODAY.isoformat(), "reference": "R-1"}
    for change, field in [({"amount": "6000"}, "amount"), ({"amount": "x"}, "amount"),
                          ({"paid_on": (TODAY + timedelta(days=3)).isoformat()}, "paid_on"),
                          ({"paid_on": "31/12/2026"}, "paid_on"), ({"reference": ""}, "reference")]:
        response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                          **{**base, **change}})
        assert response.status_code == 422, change
        assert f'id="{field}-error"' in response.get_data(as_text=True), change
    session.refresh(inv)
    assert inv.paid_fen == 0 and session.exec(select(Payment)).all() == []
    assert client.get(f"/anchor/payables/{other.id}/pay").status_code == 404
    ok = client.post(url, data={"csrf_token": csrf_token(client, url), **base})
    assert ok.status_code == 303
    session.refresh(inv)
    assert inv.paid_fen == 500_000


def test_early_warning_shows_score_falls_and_overdue(client, session, chain, logged_in):
    from trellis.scoring.models import ScoreRecord

    def record(firm, score, grade, days_ago):
        session.add(ScoreRecord(firm_id=firm.id, as_of=TODAY - timedelta(days=days_ago),
                                score=score, grade=grade, scorecard_version="test"))

    record(chain.tier1, 640, "A", 91)
    record(chain.tier1, 590, "C", 0)   # fell 50 points and two grades
    record(chain.tier2, 600, "B", 91)
    record(chain.tier2, 595, "B", 0)   # a small wobble: no warning
    session.flush()
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/early-warning").get_data(as_text=True)
    assert chain.tier1.name in page and "Risk rose sharply" in page   # 50 points, two grades
    assert chain.tier2.name not in page
    # reader 10, R3: the buyer sees a signal, never the bank's scores or grades
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    for secret in ("640", "590", "−50", "A → C", ">C<", ">A<"):
        assert secret not in body, secret


def test_network_picture_is_server_rendered(client, session, chain, logged_in):
    invoice(session, chain.tier1, chain.anchor, 800_000, issue_date=TODAY - timedelta(days=30))
    invoice(session, chain.tier2, chain.tier1, 300_000, issue_date=TODAY - timedelta(days=30))
    from trellis.network.build import bump_data_version

    bump_data_version(session=session, cluster_id=chain.anchor.cluster_id)
    logged_in("anchor", firm=chain.anchor)
    page = client.get("/anchor/network").get_data(as_text=True)
    assert "<svg" in page and f'data-firm="{chain.tier1.id}"' in page
    assert f'data-firm="{chain.tier2.id}"' in page
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_coming_due_counts_only_what_is_coming_due(client, session, chain, logged_in):
    """An invoice 448 days overdue is not 'due within 30 days': it has its own tab and
    its own figure on the desk."""
    today = clock.today()
    late = invoice(session, chain.tier1, chain.anchor, 700_000,
                   issue_date=today - timedelta(days=508), terms_days=60)
    soon = invoice(session, chain.tier1, chain.anchor, 300_000,
                   issue_date=today - timedelta(days=50), terms_days=60)
    logged_in("anchor", firm=chain.anchor)
    english(client)
    coming = client.get("/anchor/payables?days=30").get_data(as_text=True)
    assert soon.number in coming and late.number not in coming
    overdue = client.get("/anchor/payables?days=overdue").get_data(as_text=True)
    assert late.number in overdue and soon.number not in overdue
    desk = client.get("/anchor/").get_data(as_text=True)
    assert "1 payables due within 30 days" in desk and "1 payables overdue" in desk


def test_the_network_picture_says_when_it_draws_a_subset(client, session, chain, logged_in,
                                                         make_firm):
    from trellis.network import picture
    from trellis.network.build import bump_data_version

    n = picture.MAX_TIER1 + 4
    for _ in range(n - 1):   # chain.tier1 is one direct supplier already
        firm = make_firm(cluster_id=chain.anchor.cluster_id)
        invoice(session, firm, chain.anchor, 500_000, issue_date=TODAY - timedelta(days=30))
    invoice(session, chain.tier1, chain.anchor, 800_000, issue_date=TODAY - timedelta(days=30))
    bump_data_version(session=session, cluster_id=chain.anchor.cluster_id)
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/network").get_data(as_text=True)
    assert 'id="subset-note"' in page
    assert f"draws {picture.MAX_TIER1} of {n} direct suppliers" in page
    # the list beside it has every direct supplier, in pages, with the count
    assert f'data-list-count="{n}"' in page
    second = client.get("/anchor/network?per_page=30&page=2").get_data(as_text=True)
    assert second.count('data-label="Supplier"') >= n - 30


def test_the_desk_figures_are_the_payables_lists_totals(session, chain):
    """The desk counts and sums in one query what the payables tabs list, every row."""
    from trellis.platform.anchor.payables import due_payables, due_summary

    today = clock.today()
    for i, (age, amount) in enumerate([(508, 700_000), (50, 300_000), (55, 120_000),
                                       (90, 80_000), (10, 50_000)]):
        invoice(session, chain.tier1, chain.anchor, amount + i,
                issue_date=today - timedelta(days=age), terms_days=60)
    for kw in ({"days": 30, "overdue": False}, {"overdue": True}, {}):
        rows = due_payables(session=session, anchor_id=chain.anchor.id, **kw)
        assert due_summary(session=session, anchor_id=chain.anchor.id, **kw) == (
            len(rows), sum(r.outstanding_fen for r in rows))
    assert due_summary(session=session, anchor_id=chain.anchor.id, overdue=True)[0] == 2


def _tier_cells(page: str) -> list[str]:
    import re

    return re.findall(r'<td data-label="层级">([^<]*)</td>', page)


def test_stress_and_early_warning_name_tiers_in_words(client, session, flows, logged_in):
    """The tier column reads as the network pages do (1 级供应商), not a bare number (issue 15)."""
    from trellis.scoring.models import ScoreRecord

    for score, days_ago in ((640, 91), (590, 0)):
        session.add(ScoreRecord(firm_id=flows.tier1.id, as_of=TODAY - timedelta(days=days_ago),
                                score=score, grade="A" if days_ago else "C",
                                scorecard_version="test"))
    session.flush()
    logged_in("anchor", firm=flows.anchor)
    for url in ("/anchor/stress?days_late=60", "/anchor/early-warning"):
        cells = _tier_cells(client.get(url).get_data(as_text=True))
        assert cells and "1 级供应商" in cells, (url, cells)
        assert not [c for c in cells if c.strip().lstrip("-").isdigit()], (url, cells)


def test_early_warning_without_an_earlier_score_says_so(app, session, chain, make_user):
    """Issue 15: a supplier listed for an overdue loan with no earlier score read 「— —」
    and 「— → B」; reader 10 (R3): it reads a signal and a reason, no score or grade."""
    from flask import render_template
    from flask_login import login_user

    from trellis.platform.anchor.insight import Warning
    from trellis.scoring.disclosure import signal_for_anchor

    user = make_user("anchor", firm=chain.anchor)
    signal = signal_for_anchor(score_now=605, score_before=None, grade_now="B",
                               grade_before=None, compared_since=None, overdue_loans=1,
                               max_dpd=70)
    row = Warning(chain.tier1, 1, signal)
    with app.test_request_context("/anchor/early-warning",
                                  headers={"Accept-Language": "zh-CN"}):
        login_user(user)
        page = render_template("anchor/early_warning.html", rows=[row], compared=0, drop=20,
                               weeks=4, suppliers=3, last_scored=TODAY)
    cells = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "非评估比较：依据银行掌握的其他信息" in cells
    assert "— —" not in cells and "— →" not in cells
    # reader 12, G4: the reason does not say the supplier is behind with the bank
    assert "风险显著上升" in cells and "银行掌握的信息显示该供应商风险上升" in cells
    assert "还款" not in page and "逾期" not in page
    assert "605" not in cells and ">B<" not in cells and "70" not in cells


def test_stress_days_read_as_days_with_their_date(client, session, flows, logged_in):
    """Issue 15: 资金耗尽日 (now 资金短缺日) showed bare numbers; each reads 第 N 天（date）,
    or that the supplier does not run short within the delay."""
    import re

    logged_in("anchor", firm=flows.anchor)
    page = client.get("/anchor/stress?days_late=60",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    days = re.findall(r'data-label="资金短缺日">(.*?)</td>', body, flags=re.S)
    assert days, body
    for cell in days:
        text = re.sub(r"<[^>]+>", "", cell).strip()
        assert re.fullmatch(r"第 \d+ 天（\d{4}-\d{2}-\d{2}）|60 天内不会出现资金短缺", text), text
    assert any("第 " in d for d in days)


def test_early_warning_reads_scores_not_whole_records(client, session, chain, logged_in,
                                                      engine):
    """The page compares scores and grades: it reads those columns, not each record's
    features, reasons and flags (parsing their JSON was most of the page's time)."""
    from sqlalchemy import event

    from trellis.scoring.models import ScoreRecord

    session.add(ScoreRecord(firm_id=chain.tier1.id, as_of=TODAY - timedelta(days=91),
                            score=640, grade="A", scorecard_version="test",
                            features={"sales_12m_fen": 1}))
    session.add(ScoreRecord(firm_id=chain.tier1.id, as_of=TODAY, score=590, grade="C",
                            scorecard_version="test", features={"sales_12m_fen": 1}))
    session.flush()
    logged_in("anchor", firm=chain.anchor)
    english(client)
    sent: list[str] = []

    def watch(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        page = client.get("/anchor/early-warning").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert chain.tier1.name in page and "Risk rose sharply" in page
    reads = [s for s in sent if "score_results" in s]
    assert reads and not any("score_results.features" in s for s in reads)
    # the suppliers' tiers once, not once more for the count (the later statements name
    # the suppliers by a subquery, not by reading them again)
    assert sum(s.lstrip().startswith("SELECT relationships.") for s in sent) == 1


def test_early_warning_reads_the_warned_suppliers_only(client, session, chain, logged_in,
                                                       engine):
    """A supplier listed for an overdue loan shows the one score it has; suppliers without
    a warning sign are not read (a large cluster's anchor has thousands of them)."""
    from sqlalchemy import event

    from trellis.ledger import lifecycle
    from trellis.ledger.models import Loan, Product
    from trellis.scoring.models import ScoreRecord

    for score, days_ago in ((600, 91), (595, 0)):   # tier 1: a wobble, compared, no warning
        session.add(ScoreRecord(firm_id=chain.tier1.id, as_of=TODAY - timedelta(days=days_ago),
                                score=score, grade="B", scorecard_version="test"))
    session.add(ScoreRecord(firm_id=chain.tier2.id, as_of=TODAY, score=605, grade="B",
                            scorecard_version="test"))
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    loan = Loan(firm_id=chain.tier2.id, product_id=product.id, amount_fen=1_000_000,
                rate_micro=72_000, penalty_rate_micro=0, day_count=360, fee_fen=0,
                cooling_off_days=7, first_loan=False, due_date=TODAY - timedelta(days=40),
                waterfall=["penalty", "fees", "interest", "principal"])
    session.add(loan)
    session.flush()
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                       as_of=TODAY - timedelta(days=100))
    session.flush()
    logged_in("anchor", firm=chain.anchor)
    english(client)
    firm_reads: list = []

    def watch(conn, cursor, statement, parameters, *args):
        if "FROM firms" in statement and "firms.id IN" in statement:
            firm_reads.append(list(parameters.values() if isinstance(parameters, dict)
                                   else parameters))

    event.listen(engine, "before_cursor_execute", watch)
    try:
        page = client.get("/anchor/early-warning").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert chain.tier2.name in body and chain.tier1.name not in body
    # reader 10, R3: a signal and a reason in words; not the score, the loan or its days
    assert "Risk rose sharply" in body and "risk rose" in body and "repayment" not in body
    assert "no comparison: other information the bank holds" in body
    assert "605" not in body and "40" not in body and "loan" not in body.lower()
    assert ("1 of the 2 suppliers on record (tier 1 and 2) have an assessment at least 4 "
            "weeks older") in page
    assert len(firm_reads) == 1 and firm_reads[0] == [chain.tier2.id]


def test_the_network_draws_the_largest_second_tier_and_lists_no_zero_supplier(
        client, session, chain, logged_in, make_firm, monkeypatch):
    """Reader 10, R22: 「41 家二级供应商中的 24 家；下方表格列出这些供应商」 over a table of all
    41; the two largest second-tier suppliers sold to small direct suppliers and were not
    drawn; a supplier with ¥0.00 in 12 months was listed."""
    import re

    from trellis.network import picture
    from trellis.network.build import bump_data_version

    monkeypatch.setattr(picture, "MAX_TIER1", 2)
    cid = chain.anchor.cluster_id
    big_a, big_b, small = (make_firm(cluster_id=cid, name=n) for n in ("大一级甲", "大一级乙",
                                                                       "小一级丙"))
    for firm, amount in ((big_a, 9_000_000), (big_b, 8_000_000), (small, 100_000),
                         (chain.tier1, 50_000)):
        invoice(session, firm, chain.anchor, amount, issue_date=TODAY - timedelta(days=30))
    largest = make_firm(cluster_id=cid, name="最大二级供应商")
    invoice(session, largest, small, 50_000_000, issue_date=TODAY - timedelta(days=30))
    minor = make_firm(cluster_id=cid, name="小二级供应商")
    invoice(session, minor, big_a, 10_000, issue_date=TODAY - timedelta(days=30))
    idle = make_firm(cluster_id=cid, name="停滞二级供应商")   # sold to big_b two years ago
    invoice(session, idle, big_b, 70_000, issue_date=TODAY - timedelta(days=800))
    bump_data_version(session=session, cluster_id=cid)
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/network").get_data(as_text=True)
    svg = page.split("<svg")[1].split("</svg>")[0]
    drawn = set(re.findall(r'data-firm="(\d+)"', svg))
    assert {str(largest.id), str(small.id), str(minor.id)} <= drawn
    assert "停滞二级供应商" not in page and "¥0.00" not in page.replace("CN¥", "¥")
    tier2 = page.split("Second-tier suppliers")[1]
    assert "最大二级供应商" in tier2 and "小二级供应商" in tier2
    note = page.split('id="subset-note">')[1].split("</p>")[0]
    # 3 direct suppliers drawn of 4: the two largest and the one the largest second-tier
    # supplier sells to (the smallest, chain.tier1, is not); both second-tier ones drawn
    assert "draws 3 of 4 direct suppliers" in note
    assert f'data-firm="{chain.tier1.id}"' not in svg
    assert "the 2 largest of 2 second-tier suppliers" in note
    assert "also list the ones not drawn" in note
