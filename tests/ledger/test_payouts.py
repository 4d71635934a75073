"""Surpluses owed to vendors: what each firm is owed, paying it out (balanced, idempotent,
never more than owed), and the RM's button on the loan page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.ledger.test_concurrency import pg_factory  # noqa: F401
from tests.platform.conftest import csrf_token, login
from tests.platform.ledger.test_pages import rm_for
from trellis.accounts.models import AuditEvent
from trellis.ledger import accrual, lifecycle, payouts, reports
from trellis.ledger.chart import Acct
from trellis.ledger.errors import IdempotencyMismatch
from trellis.ledger.journal import EntryKind
from trellis.ledger.models import JournalEntry, Loan

D0 = date(2026, 1, 1)
PAID = D0 + timedelta(days=10)


def with_surplus(session, make_loan, firm, surplus_fen: int, amount_fen: int = 1_000_000,
                 source: str = "anchor") -> Loan:
    """A loan of *firm* repaid in full on PAID with *surplus_fen* more than it owed."""
    loan = make_loan(amount_fen=amount_fen, firm=firm)
    accrual.accrue(session=session, as_of=PAID)
    session.refresh(loan)
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=loan.outstanding_fen
                    + surplus_fen, paid_on=PAID, idempotency_key=f"sweep-{loan.id}",
                    source=source)
    session.refresh(loan)
    assert loan.status == "repaid"
    return loan


def payable(session) -> int:
    """The vendor-payable balance of the whole ledger, credit shown positive."""
    return -reports.trial_balance(session=session).balance(Acct.VENDOR_PAYABLE)


def cash(session) -> int:
    return reports.trial_balance(session=session).balance(Acct.CASH)


def payout_entries(session) -> int:
    return session.execute(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.kind == EntryKind.PAYOUT.value)).scalar_one()


@pytest.fixture
def owed(session, make_loan, make_firm):
    """Firm A is owed 500 + 700 fen over two loans, firm B 300 fen."""
    a, b = make_firm(), make_firm()
    loans = [with_surplus(session, make_loan, a, 500), with_surplus(session, make_loan, a, 700),
             with_surplus(session, make_loan, b, 300)]
    return a, b, loans


def test_surplus_owed_is_tracked_per_firm(session, owed, make_firm):
    a, b, loans = owed
    assert payouts.surplus_owed(session=session, firm_id=a.id) == 1_200
    assert payouts.surplus_owed(session=session, firm_id=b.id) == 300
    assert payouts.surplus_owed(session=session, firm_id=make_firm().id) == 0
    assert payouts.owed_by_loan(session=session, firm_id=a.id) == {loans[0].id: 500,
                                                                   loans[1].id: 700}


@pytest.mark.parametrize("amount, paid, left_by_loan", [
    (None, 1_200, (0, 0)),       # everything owed
    (1_200, 1_200, (0, 0)),
    (400, 400, (100, 700)),      # oldest loan first
    (900, 900, (0, 300)),
    (1, 1, (499, 700)),
])
def test_pay_out_debits_the_payable_and_credits_cash(session, owed, amount, paid,
                                                     left_by_loan):
    a, b, loans = owed
    payable_before, cash_before = payable(session), cash(session)
    done = payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=amount,
                                   paid_on=PAID + timedelta(days=1), idempotency_key="p1")
    assert done.amount_fen == paid == sum(done.by_loan.values())
    assert payable(session) == payable_before - paid
    assert cash(session) == cash_before - paid
    by_loan = payouts.owed_by_loan(session=session, firm_id=a.id)
    assert tuple(by_loan.get(loan.id, 0) for loan in loans[:2]) == left_by_loan
    assert payouts.surplus_owed(session=session, firm_id=b.id) == 300   # untouched
    assert reports.check(session=session) == []


@pytest.mark.parametrize("amount", [1_201, 10_000_000])
def test_cannot_pay_more_than_owed(session, owed, amount):
    a, _b, _loans = owed
    with pytest.raises(payouts.PayoutExceedsOwed) as info:
        payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=amount,
                                paid_on=PAID, idempotency_key="too-much")
    assert "owed ¥12.00" in info.value.message
    assert payout_entries(session) == 0
    assert payouts.surplus_owed(session=session, firm_id=a.id) == 1_200


def test_nothing_left_after_paying_everything(session, owed):
    a, _b, _loans = owed
    payouts.pay_out_surplus(session=session, firm_id=a.id, paid_on=PAID,
                            idempotency_key="all")
    with pytest.raises(payouts.NothingOwed):
        payouts.pay_out_surplus(session=session, firm_id=a.id, paid_on=PAID,
                                idempotency_key="again")
    with pytest.raises(payouts.NothingOwed):
        payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=1, paid_on=PAID,
                                idempotency_key="one-more")
    assert payouts.surplus_owed(session=session, firm_id=a.id) == 0
    assert all(v >= 0 for v in payouts.owed_by_loan(session=session, firm_id=a.id).values())


def test_cannot_pay_out_before_the_surplus_arose(session, owed):
    a, _b, _loans = owed
    with pytest.raises(payouts.NothingOwed):
        payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=100,
                                paid_on=PAID - timedelta(days=1), idempotency_key="early")


def test_a_retried_payout_posts_once(session, owed):
    a, b, _loans = owed
    first = payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=600,
                                    paid_on=PAID, idempotency_key="retry")
    again = payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=600,
                                    paid_on=PAID, idempotency_key="retry")
    also = payouts.pay_out_surplus(session=session, firm_id=a.id, paid_on=PAID,
                                   idempotency_key="retry")
    assert again.entry.id == also.entry.id == first.entry.id
    assert (first.replayed, again.replayed, also.replayed) == (False, True, True)
    assert also.amount_fen == 600
    assert payout_entries(session) == 1
    assert payouts.surplus_owed(session=session, firm_id=a.id) == 600
    for firm, amount in ((a, 500), (b, 600)):
        with pytest.raises(IdempotencyMismatch):
            payouts.pay_out_surplus(session=session, firm_id=firm.id, amount_fen=amount,
                                    paid_on=PAID, idempotency_key="retry")
    assert payout_entries(session) == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100"])
def test_the_amount_must_be_positive_whole_fen(session, owed, amount):
    a, _b, _loans = owed
    with pytest.raises(payouts.BadPayout):
        payouts.pay_out_surplus(session=session, firm_id=a.id, amount_fen=amount,
                                paid_on=PAID, idempotency_key="bad")
    assert payout_entries(session) == 0


# --- the loan page ----------------------------------------------------------------------

def pay_on_page(client, loan, amount=""):
    url = f"/ledger/loans/{loan.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="payout"' in page
    key = page.split('name="key" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_token(client, url), "key": key, "amount": amount}
    return client.post(f"{url}/payout", data=data), data


@pytest.mark.parametrize("role", ["admin", "rm"])
def test_staff_pay_out_from_the_loan_page(session, client, world, make_user, make_loan,
                                          role, monkeypatch):
    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: PAID)
    loan = with_surplus(session, make_loan, world.vendor, 800)
    user = rm_for(session, make_user, world.cluster) if role == "rm" else make_user("admin")
    login(client, user)
    response, data = pay_on_page(client, loan, "5.00")
    assert response.status_code == 302
    assert payouts.surplus_owed(session=session, firm_id=world.vendor.id) == 300
    # a double submit of the same form posts once
    client.post(f"/ledger/loans/{loan.id}/payout", data=data)
    assert payout_entries(session) == 1
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.payout")
                             ).all()
    assert [e.detail["amount_fen"] for e in events] == [500]
    # more than owed: refused with a message, nothing posted
    response, _ = pay_on_page(client, loan, "3.01")
    assert response.status_code == 302
    assert payout_entries(session) == 1
    response, _ = pay_on_page(client, loan)
    assert payouts.surplus_owed(session=session, firm_id=world.vendor.id) == 0
    assert 'id="payout"' not in client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)


def test_the_payout_answers_in_the_fields_words_and_names_the_borrower(
        session, client, world, make_user, make_loan, monkeypatch):
    """Reader 12, G21: −5 read "表单已过期或不完整"; success said 供应商 where the page says
    借款企业."""
    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: PAID)
    loan = with_surplus(session, make_loan, world.vendor, 800)
    login(client, rm_for(session, make_user, world.cluster))
    response, _ = pay_on_page(client, loan, "-5")
    page = client.get(response.location).get_data(as_text=True)
    assert "金额必须大于零。" in page and "表单已过期" not in page
    assert payout_entries(session) == 0
    response, _ = pay_on_page(client, loan, "abc")
    page = client.get(response.location).get_data(as_text=True)
    assert "表单已过期" not in page and payout_entries(session) == 0
    response, _ = pay_on_page(client, loan, "5.00")
    page = client.get(response.location).get_data(as_text=True)
    assert "已向借款企业支付余款 ¥5.00。" in page and "供应商支付" not in page


@pytest.mark.parametrize("role", ["vendor", "auditor", "anchor"])
def test_other_roles_cannot_pay_out(session, app, client, world, make_user, make_loan, role):
    loan = with_surplus(session, make_loan, world.vendor, 800)
    firm = world.vendor if role == "vendor" else world.anchor if role == "anchor" else None
    login(client, make_user(role, firm=firm))
    token = csrf_token(client, "/")
    response = client.post(f"/ledger/loans/{loan.id}/payout",
                           data={"csrf_token": token, "key": "x" * 10, "amount": ""})
    assert response.status_code == 403
    assert payouts.surplus_owed(session=session, firm_id=world.vendor.id) == 800
    if role == "vendor":   # the vendor sees what it is owed, without the button
        page = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
        assert 'id="surplus-firm"' in page and 'id="payout"' not in page
        assert 'id="surplus"' in client.get("/ledger/my").get_data(as_text=True)


# --- concurrency (PostgreSQL, real commits) -----------------------------------------------

@pytest.mark.postgres
@pytest.mark.postgres_only
def test_concurrent_payouts_never_pay_more_than_owed(pg_factory):  # noqa: F811
    import threading
    from collections import Counter

    from tests.conftest import give_payout_account, next_uscc
    from tests.ledger.test_concurrency import run
    from trellis import db
    from trellis.ledger.apr import rate_micro
    from trellis.ledger.models import Product
    from trellis.trade.models import Firm

    factory = pg_factory
    with db.transaction(factory) as s:
        product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
        firm = Firm(uscc=next_uscc(), name="余款并发", role="vendor")
        s.add(firm)
        s.flush()
        give_payout_account(s, firm)
        for surplus in (1_000, 2_000, 3_000):
            loan = Loan(firm_id=firm.id, product_id=product.id, amount_fen=1_000_000,
                        rate_micro=rate_micro("0.072"), due_date=D0 + timedelta(days=60),
                        waterfall=["penalty", "fees", "interest", "principal"])
            s.add(loan)
            s.flush()
            lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D0)
            lifecycle.repay(session=s, loan_id=loan.id, amount_fen=1_000_000 + surplus,
                            paid_on=D0, idempotency_key=f"c-{loan.id}")
        firm_id = firm.id
    stats: Counter = Counter()
    paid: list[int] = []
    lock = threading.Lock()

    def worker(n: int):
        # 12 workers ask for 700 fen each (8,400 > 6,000 owed); every other one retries
        # its key, as a client whose first answer was lost would
        for _attempt in range(1 + n % 2):
            done = run(factory, lambda s: payouts.pay_out_surplus(
                session=s, firm_id=firm_id, amount_fen=700, paid_on=D0,
                idempotency_key=f"worker-{n}"), stats)
            if done is not None and not done.replayed:
                with lock:
                    paid.append(done.amount_fen)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.transaction(factory) as s:
        left = payouts.surplus_owed(session=s, firm_id=firm_id)
        entries = s.execute(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.kind == EntryKind.PAYOUT.value)).scalar_one()
        assert reports.check(session=s) == []
        per_loan = payouts.owed_by_loan(session=s, firm_id=firm_id)
    assert len(paid) == entries == 8                    # 8 x 700 = 5,600 of 6,000
    assert left == 6_000 - sum(paid) == 400
    assert all(v >= 0 for v in per_loan.values()) and sum(per_loan.values()) == 400
    assert stats["PayoutExceedsOwed"] >= 4             # the refused ones (and their retries)


@pytest.mark.parametrize("source, payer", [("vendor", "借款企业"), ("anchor", "买方（核心企业）")])
def test_the_refund_box_names_who_paid_the_surplus(session, client, world, make_user,
                                                   make_loan, source, payer):
    """Reader R4: the box said the buyer overpaid even when the borrower's own repayment
    was the surplus; it names the payer of the receipts that booked it."""
    loan = with_surplus(session, make_loan, world.vendor, 800, source=source)
    assert payouts.surplus_sources(session=session, loan_ids=[loan.id]) == [source]
    login(client, rm_for(session, make_user, world.cluster))
    page = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert f"收到的款项超过应还金额的部分（付款方：{payer}），尚未退还。" in page
    assert "买方付款超过应还金额" not in page
