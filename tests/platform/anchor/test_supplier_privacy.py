"""Reader 10, R3 and R8: an anchor (a buyer) never sees its suppliers' bank scores, grades
or loans (the bank's confidential customer information), only a signal in words; and it
cannot make the bank score the whole park: the page says when the bank last did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token
from trellis import clock
from trellis.ledger import lifecycle
from trellis.ledger.models import Loan, Product
from trellis.scoring.disclosure import Reason, Signal, signal_for_anchor
from trellis.scoring.models import PortfolioRun, ScoreRecord

TODAY = clock.today()
BANK = Reason.BANK_INFORMATION


def english(client):
    with client.session_transaction() as s:
        s["locale"] = "en"


@pytest.mark.parametrize("now, before, g_now, g_before, loans, dpd, level, reasons", [
    (595, 600, "B", "B", 0, 0, Signal.UNCHANGED, ()),                    # a wobble
    # reader 12, G4: one reason for every rise, so a fallen assessment and an overdue loan
    # at the bank read alike (the buyer learns no supplier's repayment status)
    (579, 600, "B", "B", 0, 0, Signal.UP, (BANK,)),         # 21 points
    (595, 600, "C", "B", 0, 0, Signal.UP, (BANK,)),         # one grade
    (559, 600, "B", "B", 0, 0, Signal.SHARPLY_UP, (BANK,)),  # 41 points
    (595, 600, "D", "B", 0, 0, Signal.SHARPLY_UP, (BANK,)),  # two grades
    (605, None, "B", None, 1, 5, Signal.UP, (BANK,)),
    (605, None, "B", None, 1, 30, Signal.SHARPLY_UP, (BANK,)),
    (500, 600, "D", "B", 2, 3, Signal.SHARPLY_UP, (BANK,)),
    (None, None, None, None, 0, 0, Signal.UNCHANGED, ()),
])
def test_the_signal_an_anchor_sees(now, before, g_now, g_before, loans, dpd, level, reasons):
    since = TODAY - timedelta(days=30)
    signal = signal_for_anchor(score_now=now, score_before=before, grade_now=g_now,
                               grade_before=g_before, compared_since=since,
                               overdue_loans=loans, max_dpd=dpd)
    assert (signal.level, signal.reasons) == (level, reasons)
    assert signal.compared_since == (since if before is not None else None)
    # nothing of what went in comes out: the signal holds a level, reasons and a day
    assert set(vars(signal)) == {"level", "reasons", "compared_since"}


def _overdue_loan(session, firm, days_late=40, amount_fen=1_234_500):
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=amount_fen,
                rate_micro=72_000, penalty_rate_micro=0, day_count=360, fee_fen=0,
                cooling_off_days=7, first_loan=False,
                due_date=TODAY - timedelta(days=days_late),
                waterfall=["penalty", "fees", "interest", "principal"])
    session.add(loan)
    session.flush()
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                       as_of=TODAY - timedelta(days=days_late + 60))
    session.flush()
    return loan


def test_early_warning_shows_no_score_grade_or_arrears(client, session, chain, logged_in):
    """R3: 「浙江顺诚塑胶 … 677 D 1 笔贷款，逾期 40 天」, 「784 → 565 −219 A → E」."""
    session.add(ScoreRecord(firm_id=chain.tier1.id, as_of=TODAY - timedelta(days=35),
                            score=784, grade="A", scorecard_version="test"))
    session.add(ScoreRecord(firm_id=chain.tier1.id, as_of=TODAY, score=565, grade="E",
                            scorecard_version="test"))
    session.add(ScoreRecord(firm_id=chain.tier2.id, as_of=TODAY, score=677, grade="D",
                            scorecard_version="test"))
    _overdue_loan(session, chain.tier2)
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/early-warning").get_data(as_text=True)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert chain.tier1.name in body and chain.tier2.name in body
    for secret in ("784", "565", "219", "677", "A → E", ">E<", ">D<", "40 days",
                   "12,345.00", "Score", "Grade", "loan(s)"):
        assert secret not in page.split("<h1>")[1], secret
    assert body.count("Risk rose sharply") == 2
    # reader 12, G4: both read alike, and nothing says which supplier is behind with the
    # bank (the page calls a supplier's loans confidential)
    assert body.count("Information the bank holds shows this supplier&#39;s risk rose") == 2
    assert "repayment" not in page.split("<h1>")[1] and "overdue" not in page.split("<h1>")[1]
    # the day compared with is the one the page compares (35 days ago, not "three months")
    assert (TODAY - timedelta(days=35)).isoformat() in body
    assert "at least 4 weeks earlier" in page


def test_the_stress_test_neither_shows_nor_counts_debts_to_the_bank(client, session, chain,
                                                                    logged_in):
    """R3: the stress test listed each supplier's 到期债务 (its loans due at the bank);
    reader 11: it then still counted them, so a supplier's result told of its loans."""
    from tests.vouchers.factories import invoice
    from trellis.ledger import stress

    invoice(session, chain.tier1, chain.anchor, 1_000_000, issue_date=TODAY - timedelta(days=5),
            terms_days=20)
    before = stress.run(session=session, anchor_id=chain.anchor.id, days_late=30)
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    loan = Loan(firm_id=chain.tier1.id, product_id=product.id, amount_fen=7_654_300,
                rate_micro=72_000, penalty_rate_micro=0, day_count=360, fee_fen=0,
                cooling_off_days=7, first_loan=False, due_date=TODAY + timedelta(days=10),
                waterfall=["penalty", "fees", "interest", "principal"])
    session.add(loan)
    session.flush()
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                       as_of=TODAY - timedelta(days=20))
    session.flush()
    assert stress.run(session=session, anchor_id=chain.anchor.id, days_late=30) == before
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/stress?days_late=30").get_data(as_text=True)
    assert chain.tier1.name in page
    assert "Debts due" not in page and "76,543.00" not in page
    assert "loans at the bank and their trade with other firms are not ours to see" in page


def test_an_anchor_cannot_score_the_park(client, session, chain, logged_in):
    """R8: the button 「计算园区企业当前和三个月前的评分」 re-scored all 303 firms of the
    park for an anchor user; the page now says when the bank last scored."""
    session.add(PortfolioRun(as_of=TODAY - timedelta(days=1),
                             cluster_id=chain.anchor.cluster_id, scorecard_version="test"))
    session.flush()
    logged_in("anchor", firm=chain.anchor)
    english(client)
    page = client.get("/anchor/early-warning").get_data(as_text=True)
    main = page.split("<h1>")[1].split("</main>")[0]
    assert "/early-warning/refresh" not in main and 'method="post"' not in main
    assert "three months" not in page
    assert (f"the latest assessment is of {(TODAY - timedelta(days=1)).isoformat()}"
            in page)
    token = csrf_token(client, "/anchor/")
    refused = client.post("/anchor/early-warning/refresh", data={"csrf_token": token})
    assert refused.status_code in (404, 405)
    assert not session.exec(select(ScoreRecord)).all()
    assert len(session.exec(select(PortfolioRun)).all()) == 1


def test_early_warning_before_any_scoring_says_so(client, session, chain, logged_in):
    logged_in("anchor", firm=chain.anchor)
    page = client.get("/anchor/early-warning").get_data(as_text=True)
    assert "银行尚未评估贵司所在园区的企业" in page
