"""Outside reader 11 (issue 15), R19: the anchor's stress test gave suppliers that look
the same different causes and said over what period it ran nowhere; and it counted the
suppliers' loans at the bank (and their trade with other firms), which the anchor may
not see, so its result told of them. It now reads only the anchor's own trade with each
supplier, says its period (未来 N 天, with the dates) and its assumptions in words."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from tests.vouchers.factories import invoice
from trellis import clock
from trellis.ledger import lifecycle, stress
from trellis.ledger.models import Loan, Product
from trellis.trade.models import Payment, Relationship

TODAY = clock.today()


def _twins(session, chain, make_firm):
    """Two suppliers whose trade with the anchor is the same: one invoice of 1,200,000 fen
    a month ago (paid) and one of 900,000 fen due in 20 days (unpaid)."""
    twin = make_firm(cluster_id=chain.anchor.cluster_id, name="一级供应商乙")
    session.add(Relationship(supplier_id=twin.id, buyer_id=chain.anchor.id,
                             since=date(2020, 1, 1)))
    for seller in (chain.tier1, twin):
        old = invoice(session, seller, chain.anchor, 1_200_000,
                      issue_date=TODAY - timedelta(days=30), terms_days=20)
        old.paid_fen = old.amount_fen
        invoice(session, seller, chain.anchor, 900_000,
                issue_date=TODAY - timedelta(days=10), terms_days=30)
    session.flush()
    return twin


def _loan_due(session, firm, amount_fen, in_days):
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=amount_fen,
                rate_micro=72_000, penalty_rate_micro=0, day_count=360, fee_fen=0,
                cooling_off_days=7, first_loan=False, due_date=TODAY + timedelta(days=in_days),
                waterfall=["penalty", "fees", "interest", "principal"])
    session.add(loan)
    session.flush()
    lifecycle.disburse(session=session, settings=None, loan_id=loan.id,
                       as_of=TODAY - timedelta(days=20))
    session.flush()


def _outcome(row):
    return row.runs_out_day, row.shortfall_fen, row.cause_name, row.cushion_fen


def test_suppliers_with_the_same_trade_with_us_get_the_same_result(session, chain,
                                                                   make_firm):
    """The twin owes the bank a loan due within the period and trades with a third firm
    (cash in and out the anchor cannot see): neither may change what the anchor is told."""
    twin = _twins(session, chain, make_firm)
    _loan_due(session, twin, 5_000_000, 5)
    for day in range(3, 170, 15):
        session.add(Payment(payer_id=twin.id, payee_id=chain.outsider.id,
                            reference=f"X{day}", amount_fen=400_000,
                            paid_on=TODAY - timedelta(days=day)))
        session.add(Payment(payer_id=chain.outsider.id, payee_id=chain.tier1.id,
                            reference=f"Y{day}", amount_fen=700_000,
                            paid_on=TODAY - timedelta(days=day)))
    session.flush()
    rows = {r.firm_id: r for r in stress.run(session=session, anchor_id=chain.anchor.id,
                                             days_late=30)}
    assert _outcome(rows[twin.id]) == _outcome(rows[chain.tier1.id])
    # 30 days of 2,100,000 bought over 180 days: 350,000; 900,000 held back from day 20
    assert _outcome(rows[twin.id]) == (20, 550_000, "", 350_000)


def test_a_second_tier_supplier_reached_through_twins_names_the_same_cause(session, chain,
                                                                          make_firm):
    """Two buyers running short on the same day: the cause is chosen by name, the same on
    every run and whichever the database lists first."""
    twin = _twins(session, chain, make_firm)
    session.add(Relationship(supplier_id=chain.tier2.id, buyer_id=twin.id,
                             since=date(2020, 1, 1)))
    session.flush()
    row = next(r for r in stress.run(session=session, anchor_id=chain.anchor.id,
                                     days_late=30) if r.firm_id == chain.tier2.id)
    first = min((chain.tier1, twin), key=lambda f: (f.name, f.id))
    assert (row.runs_out_day, row.cause_firm_id, row.cause_name) == (20, first.id, first.name)


def test_the_page_says_its_period_and_assumptions(client, session, chain, make_firm,
                                                  logged_in):
    _twins(session, chain, make_firm)
    logged_in("anchor", firm=chain.anchor)
    page = client.get("/anchor/stress?days_late=30",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    end = (TODAY + timedelta(days=30)).isoformat()
    assert f"未来 30 天内（{TODAY.isoformat()} 至 {end}），" in page
    # tier 2 too
    assert "有供货关系记录的 3 家供应商（一级和二级）中有 3 家会因我方延期付款而资金短缺" in page
    assert "从今天起的未来 N 天" in page
    assert "相当于近 180 天我方向其日均采购额的 30 天之和" in page
    assert "其他买方按时付款" in page
    assert "我方已逾期未付的发票，从第一天起即计为暂缓支付" in page
    assert "供应商在银行的贷款及其与其他企业的交易不属于我方可查看的信息" in page
    for old in ("计入测算但不显示", "即使按时付款也会资金不足", "来自延期付款的买方的收入占比"):
        assert old not in page


def test_an_invoice_already_past_due_is_held_back_from_the_first_day(session, chain):
    invoice(session, chain.tier1, chain.anchor, 600_000, issue_date=TODAY - timedelta(days=40),
            terms_days=30)   # due 10 days ago, unpaid
    row = next(r for r in stress.run(session=session, anchor_id=chain.anchor.id, days_late=5)
               if r.firm_id == chain.tier1.id)
    # cash: 30 days of 600,000 bought over 180 days = 100,000
    assert (row.runs_out_day, row.held_back_fen, row.shortfall_fen) == (1, 600_000, 500_000)
