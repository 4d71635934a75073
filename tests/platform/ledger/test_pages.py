"""The ledger pages: loan book, decisions with maker-checker, offer acceptance, loan and
statement (HTML, CSV, PDF), trial balance; who may see what."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.ledger.conftest import AS_OF, set_product
from tests.platform.conftest import csrf_token, login
from trellis import clock
from trellis.ledger import origination
from trellis.ledger.models import Application, Loan, Offer
from trellis.trade.models import ClusterManager, Invoice


def english(client):
    """Switch the logged-in session's pages to English (the default is Chinese)."""
    client.post("/locale", data={"locale": "en", "next": "/",
                                 "csrf_token": csrf_token(client, "/")})


def rm_for(session, make_user, cluster):
    user = make_user("rm")
    session.add(ClusterManager(cluster_id=cluster.id, user_id=user.id))
    session.flush()
    return user


def in_review(session, world, amount=10_000_000):
    inv = world.invoice(amount)
    return origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                             invoice_ids=[inv.id], as_of=AS_OF)


def test_rm_sees_only_their_clusters_applications(session, app, client, world, make_user,
                                                  make_cluster, make_firm):
    set_product(session, "RF-STD", auto_approve_grades=[])
    mine = in_review(session, world)
    rm = rm_for(session, make_user, world.cluster)
    stranger_rm = rm_for(session, make_user, make_cluster())
    login(client, rm)
    page = client.get("/ledger/")
    assert page.status_code == 200
    assert f'data-application="{mine.id}"' in page.get_data(as_text=True)
    other = app.test_client()
    login(other, stranger_rm)
    assert f'data-application="{mine.id}"' not in other.get("/ledger/").get_data(as_text=True)
    assert other.get(f"/ledger/applications/{mine.id}").status_code == 404


def test_vendors_cannot_open_the_loan_book(client, logged_in):
    logged_in("vendor")
    assert client.get("/ledger/").status_code == 403
    assert client.get("/ledger/trial-balance").status_code == 403


def decide(client, application_id, decision, reasons=""):
    url = f"/ledger/applications/{application_id}"
    return client.post(f"{url}/decide", data={"csrf_token": csrf_token(client, url),
                                              "decision": decision, "reasons": reasons},
                       follow_redirects=True)


def test_maker_checker_through_the_page(session, app, client, world, make_user):
    set_product(session, "RF-STD", auto_approve_grades=[], second_approval_above_fen=1_000_000)
    application = in_review(session, world)
    maker, checker = rm_for(session, make_user, world.cluster), rm_for(session, make_user,
                                                                         world.cluster)
    login(client, maker)
    english(client)
    page = decide(client, application.id, "approve")
    assert "Give the reason for approving" in page.get_data(as_text=True)
    page = decide(client, application.id, "approve", "documents checked")
    text = page.get_data(as_text=True)
    assert "second approver" in text
    # The maker no longer sees an approve button, and is told why...
    assert 'value="approve"' not in text and 'id="waiting-second"' in text
    assert 'id="exposure-after"' in text
    # ...and a forged second approval by the maker is still refused.
    page = decide(client, application.id, "approve", "again")
    assert "approved this application already" in page.get_data(as_text=True)
    second = app.test_client()
    login(second, checker)
    english(second)
    page = decide(second, application.id, "approve", "anchor confirmed by phone")
    assert page.status_code == 200
    session.expire_all()
    assert session.get(Application, application.id).status == "approved"
    assert "offer is open" in page.get_data(as_text=True)


def test_decline_without_reason_is_refused_on_the_page(session, client, world, make_user):
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world)
    login(client, rm_for(session, make_user, world.cluster))
    english(client)
    page = decide(client, application.id, "decline")
    assert "Give the reason" in page.get_data(as_text=True)
    decide(client, application.id, "decline", "Goods disputed\nBuyer late")
    session.expire_all()
    assert session.get(Application, application.id).decline_reasons == [
        "Goods disputed", "Buyer late"]


def test_vendor_reads_and_accepts_the_offer(session, client, world, make_user, monkeypatch):
    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: AS_OF)
    application = in_review(session, world)
    offer = session.scalars(select(Offer).where(Offer.application_id == application.id)).one()
    login(client, make_user("vendor", firm=world.vendor))
    page = client.get(f"/ledger/offers/{offer.id}").get_data(as_text=True)
    assert 'id="apr"' in page and 'id="cooling-off"' in page
    url = f"/ledger/offers/{offer.id}"
    response = client.post(f"{url}/accept", data={"csrf_token": csrf_token(client, url)})
    loan = session.scalars(select(Loan).where(Loan.offer_id == offer.id)).one()
    assert response.status_code == 302 and response.location.endswith(f"/ledger/loans/{loan.id}")
    assert f'data-loan="{loan.id}"' in client.get("/ledger/my").get_data(as_text=True)


def test_another_vendor_cannot_see_the_offer_or_loan(session, client, world, make_user,
                                                     make_loan):
    application = in_review(session, world)
    offer = session.scalars(select(Offer).where(Offer.application_id == application.id)).one()
    loan = make_loan(firm=world.vendor)
    login(client, make_user("vendor", firm=world.other))
    assert client.get(f"/ledger/offers/{offer.id}").status_code == 404
    for suffix in ("", "/statement", "/statement.csv", "/statement.pdf"):
        assert client.get(f"/ledger/loans/{loan.id}{suffix}").status_code == 404


@pytest.mark.parametrize("locale, title", [("zh_CN", "贷款对账单"), ("en", "Loan statement")])
def test_statement_page_csv_and_pdf(session, client, world, make_user, make_loan, locale,
                                    title):
    from trellis.ledger import accrual, lifecycle

    loan = make_loan(firm=world.vendor, amount_fen=1_000_000, fee_fen=3_000,
                     disburse=date(2026, 1, 1))
    accrual.accrue(session=session, as_of=date(2026, 1, 21))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=100_000,
                    paid_on=date(2026, 1, 11), idempotency_key="st-1")
    user = make_user("vendor", firm=world.vendor, locale=locale)
    login(client, user)
    client.post("/locale", data={"locale": locale, "next": "/",
                                 "csrf_token": csrf_token(client, "/")})
    html = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    assert title in html and 'data-kind="payment_vendor"' in html
    # a way back to the vendor's loan page (issue 15: the statement had none)
    assert f'id="back-to-loan" href="/vendor/loans/{loan.id}"' in html
    csv_resp = client.get(f"/ledger/loans/{loan.id}/statement.csv")
    text = csv_resp.get_data(as_text=True)
    assert csv_resp.mimetype == "text/csv" and text.startswith("\ufeff" + title)
    assert "1,000.00" in text   # the 100,000 fen payment, in yuan
    pdf = client.get(f"/ledger/loans/{loan.id}/statement.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(pdf.data) > 2_000


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_statement_csv_heads_its_columns_as_the_page_does(session, client, world,
                                                               make_user, make_loan, locale):
    """Reader 12, G27: the page's column read 当日终应还余额, the CSV's 应还余额 (and a
    balance of 100,450 right after lending 150,000 read as wrong)."""
    loan = make_loan(firm=world.vendor, amount_fen=1_000_000, disburse=date(2026, 1, 1))
    login(client, make_user("vendor", firm=world.vendor, locale=locale))
    client.post("/locale", data={"locale": locale, "next": "/",
                                 "csrf_token": csrf_token(client, "/")})
    html = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    csv_text = client.get(f"/ledger/loans/{loan.id}/statement.csv").data.decode("utf-8-sig")
    header = next(line for line in csv_text.splitlines() if line.count(",") >= 8)
    page_heads = re.findall(r'<th class="num">([^<]+)</th>', html)
    assert header.split(",")[-1] == page_heads[-1]
    assert page_heads[-1] == ("本行后应还余额" if locale == "zh_CN" else "Owed after this line")


def test_statement_csv_escapes_a_firm_name_that_is_a_formula(session, client, world,
                                                             make_user, make_loan):
    world.vendor.name = '=HYPERLINK("http://evil.example","点我")'
    session.add(world.vendor)
    loan = make_loan(firm=world.vendor, amount_fen=1_000_000, disburse=date(2026, 1, 1))
    login(client, make_user("vendor", firm=world.vendor))
    response = client.get(f"/ledger/loans/{loan.id}/statement.csv")
    assert response.headers["Content-Type"].lower().count("charset") == 1
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert not any(cell.startswith("=") for line in text.splitlines()
                   for cell in line.split(","))


def test_loan_page_for_staff_shows_postings_and_bucket(session, client, world, make_user,
                                                      make_loan):
    loan = make_loan(firm=world.vendor, due_date=date(2026, 1, 5))
    login(client, make_user("auditor"))
    html = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert 'id="postings"' in html and 'id="dpd"' in html
    # the entry kind and the days-past-due bucket in words, not their codes
    postings = html.split('id="postings"')[1]
    assert '<td data-label="类型">放款</td>' in postings and "disbursement" not in postings
    bucket = html.split('id="dpd"')[1].split("</div></div>")[0]
    assert "逾期" in bucket and "current" not in bucket and "90+" not in bucket


def test_trial_balance_page(session, client, make_user, make_loan):
    make_loan(amount_fen=1_000_000)
    login(client, make_user("auditor"))
    english(client)
    html = client.get("/ledger/trial-balance").get_data(as_text=True)
    assert 'data-balanced="true"' in html and 'data-code="1303"' in html
    html = client.get("/ledger/trial-balance?as_of=2025-12-31").get_data(as_text=True)
    assert 'data-balanced="true"' in html
    # reader 10, R18: a past day said today's entry count as if it were that day's; it
    # says how many entries that day sums and that the hash is today's journal
    html = client.get("/ledger/trial-balance?as_of=2020-01-01").get_data(as_text=True)
    dated = html.split('id="dated-entries">', 1)[1].split("<", 1)[0]
    assert "Entries dated up to 2020-01-01: 0." in dated and "as of today" in dated
    assert "not a date" in client.get("/ledger/trial-balance?as_of=nope",
                                      follow_redirects=True).get_data(as_text=True)


def test_book_counts_loans_by_bucket(session, client, make_user, make_loan):
    from trellis.ledger import accrual

    make_loan(due_date=date(2026, 1, 10))
    make_loan(due_date=date(2099, 1, 10))
    accrual.mark_overdue(session=session, as_of=clock.today())
    login(client, make_user("admin"))
    html = client.get("/ledger/").get_data(as_text=True)
    assert 'data-bucket="current"' in html
    assert client.get("/ledger/?bucket=90%2B").status_code == 200


def test_loan_book_speaks_chinese(client, make_user):
    login(client, make_user("admin", locale="zh_CN"))
    client.post("/locale", data={"locale": "zh_CN", "next": "/",
                                 "csrf_token": csrf_token(client, "/")})
    html = client.get("/ledger/").get_data(as_text=True)
    assert "贷款台账" in html and "待审批申请" in html



def test_the_reviewer_sees_what_the_application_finances(session, client, world, make_user):
    """An RM deciding an application sees the invoice behind it: number, buyer, amount."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world, amount=12_345_600)
    from trellis.trade.models import Invoice

    invoice = session.get(Invoice, application.invoice_ids[0])
    login(client, rm_for(session, make_user, world.cluster))
    english(client)
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    table = page[page.index('id="documents"'):]
    assert invoice.number in table and world.anchor.name in table
    assert "123,456.00" in table


def test_a_submitted_application_shows_its_amount_and_documents(session, app, client, world,
                                                                make_user):
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world, amount=10_000_000)
    login(client, make_user("vendor", firm=world.vendor))
    page = client.get(f"/vendor/applications/{application.id}").get_data(as_text=True)
    number = session.get(Invoice, application.invoice_ids[0]).number
    assert 'id="applied-for"' in page and "¥80,000.00" in page and number in page


def test_a_written_off_loan_is_still_owed_by_the_borrower(session, app, client, make_loan,
                                                          make_user):
    """A write-off is the lender's accounting: the borrower still owes. A clerk saw
    「已核销」「当前应还 ¥0.00」 and 「逾期天数 0」 on a loan written off 130 days past due."""
    from trellis.ledger import accrual, lifecycle

    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2026, 3, 31))
    written_on = date(2026, 8, 8)   # 130 days after the due date
    accrual.accrue(session=session, as_of=written_on)
    accrual.mark_overdue(session=session, as_of=written_on)
    lifecycle.write_off(session=session, loan_id=loan.id, as_of=written_on,
                        idempotency_key="wo-zh")
    session.refresh(loan)
    owed = loan.written_off_fen
    assert owed > 1_000_000 and lifecycle.owed_by_borrower(loan) == owed
    assert lifecycle.dpd_at_write_off(loan) == 130
    shown = f"{owed // 100:,}.{owed % 100:02d}"
    from trellis.trade.models import Firm

    login(client, make_user("vendor", firm=session.get(Firm, loan.firm_id)))
    page = client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True)
    assert f"¥{shown}" in page and "已核销" not in page and "逾期（已转入催收）" in page
    late = (clock.today() - date(2026, 3, 31)).days   # the clock runs on for the borrower
    assert f"逾期 {late} 天" in page and "拟放款金额" not in page
    assert "年利率" in page and "年化利率" not in page   # no offer behind this loan
    listing = client.get("/vendor/loans").get_data(as_text=True)
    assert f"¥{shown}" in listing and "已核销" not in listing and "当前应还" not in listing
    st = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    assert shown in st and "已核销" not in st
    csv_text = client.get(f"/ledger/loans/{loan.id}/statement.csv").data.decode("utf-8-sig")
    assert "逾期天数,130" in csv_text and f"未还余额,{shown}" in csv_text.replace('"', "")
    staff = app.test_client()
    login(staff, make_user("admin"))
    rm_page = staff.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert "核销时逾期天数" in rm_page and ">130<" in rm_page and shown in rm_page
    # the figures say whose they are: the books carry ¥0, the borrower still owes (it read
    # 应还余额 ¥0.00 beside 借款人仍欠, issue 15)
    balances = rm_page[rm_page.index('id="balances"'):rm_page.index("</section>")]
    assert "应还余额" not in balances and 'id="owed"' not in balances
    assert re.search(r'id="owed-by-borrower">¥' + re.escape(shown) + r'</div><div class="label">'
                     r"借款人仍欠<", balances)
    assert re.search(r'id="on-books">¥0\.00</div><div class="label">银行账面余额（已核销）<',
                     balances)
    note = rm_page[rm_page.index('id="write-off-note"'):]
    note = note[:note.index("</p>")]
    assert "2026-08-08" in note and "¥0.00" in note and f"借款人仍欠 ¥{shown}" in note
    # reader 10, R9: the loan book's row read 应还余额 ¥0.00, and a collector scanning it
    # would skip the claim; it shows what the borrower owes, and its days past due
    row = staff.get("/ledger/").get_data(as_text=True).split(f'data-loan="{loan.id}"')[1]
    row = row.split("</tr>")[0]
    assert f"¥{shown}" in row and "已核销，借款人仍欠" in row and f">{late}<" in row
    by_owed = staff.get("/ledger/?sort=owed&desc=1").get_data(as_text=True)
    first = by_owed.split('id="loans"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert f'data-loan="{loan.id}"' in first


def test_the_write_off_and_recoveries_are_not_principal_movements(session, app, client,
                                                                   make_loan, make_user):
    """A clerk read the write-off line under 本金 (principal), as if the loan had been
    repaid. The write-off and the recoveries after it are a section of their own, each
    with what the borrower still owes, ending at the ledger core's owed_by_borrower; in
    the page, the CSV and the PDF (which render the same rows)."""
    import re

    from trellis.ledger import accrual, lifecycle, statement
    from trellis.trade.models import Firm

    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2026, 3, 31))
    written_on = date(2026, 8, 8)
    accrual.accrue(session=session, as_of=written_on)
    accrual.mark_overdue(session=session, as_of=written_on)
    lifecycle.write_off(session=session, loan_id=loan.id, as_of=written_on,
                        idempotency_key="wo-sec")
    lifecycle.recover(session=session, loan_id=loan.id, amount_fen=300_000,
                      paid_on=date(2026, 9, 1), idempotency_key="rec-1")
    session.refresh(loan)
    owed = lifecycle.owed_by_borrower(loan)
    assert owed == loan.written_off_fen - 300_000 > 0

    st = statement.build(session=session, loan_id=loan.id)
    assert [line.kind for line in st.collection] == ["written_off", "recovery"]
    assert not {"written_off", "recovery"} & {line.kind for line in st.lines}
    assert all(line.principal_fen == 0 for line in st.collection)
    assert st.collection[0].amount_fen == loan.written_off_fen
    assert st.collection[-1].balance_fen == owed == st.owed_fen
    rows = statement.collection_rows(st, "zh")
    assert rows[0][1] == "核销（转入催收，仍须偿还）" and rows[-1][1] == "核销后收回"
    assert rows[-1][3] == statement.yuan(owed)
    assert statement.to_pdf(st, "zh").startswith(b"%PDF")

    login(client, make_user("vendor", firm=session.get(Firm, loan.firm_id)))
    page = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    movements = page[page.index('id="movements"'):page.index("核销及核销后收回")]
    assert 'data-kind="written_off"' not in movements and "核销" not in movements
    section = page[page.index('id="collection"'):]
    assert 'data-kind="written_off"' in section and 'data-kind="recovery"' in section
    shown = f"¥{owed // 100:,}.{owed % 100:02d}"
    assert re.search(r'id="collection-owed"><strong>' + re.escape(shown), section)
    assert "核销及核销后收回" in page and "不免除债务" in page
    csv_text = client.get(f"/ledger/loans/{loan.id}/statement.csv").data.decode("utf-8-sig")
    moves, _, written = csv_text.partition("核销及核销后收回")
    assert "核销" not in moves.split("明细", 1)[1]
    assert f"贵司仍欠,{statement.yuan(owed)}" in written.replace('"', "")


def test_the_vendor_loan_page_shows_the_rate_with_fees_and_a_planned_pay_out(
        session, client, world, make_user, monkeypatch):
    """The borrower's loan page showed no rate at all, and 「放款金额」 for a loan not yet
    paid out."""
    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: AS_OF)
    application = in_review(session, world)
    offer = session.scalars(select(Offer).where(Offer.application_id == application.id)).one()
    login(client, make_user("vendor", firm=world.vendor))
    url = f"/ledger/offers/{offer.id}"
    client.post(f"{url}/accept", data={"csrf_token": csrf_token(client, url)})
    loan = session.scalars(select(Loan).where(Loan.offer_id == offer.id)).one()
    page = client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True)
    assert 'id="apr"' in page and "年化利率（已含全部费用）" in page and 'id="rate"' in page
    assert loan.status == "pending"   # the double-financing check pays it out later
    assert "拟放款金额" in page and "放款金额" not in page.replace("拟放款金额", "")


def test_statement_rates_read_as_chinese_finance_writes_them():
    """「5.5 %」 on the statement beside 「5.50%」 elsewhere."""
    from trellis.ledger.statement import percent

    assert percent(55_000) == "5.50%" and percent(70_000) == "7.00%"
    assert percent(61_250) == "6.125%"


def test_the_statement_header_shows_yuan_and_the_vendors_status_word(session, app, client,
                                                                     make_loan, make_user):
    """Issue 15 F13: the statement header read 贷款金额 1,000.00 while its tables use ¥.
    F9: a written-off loan the borrower has paid back in full is 已结清 on the vendor's
    page, and was 逾期（已转入催收） on its statement: one word on both."""
    from trellis.ledger import accrual, lifecycle
    from trellis.trade.models import Firm

    loan = make_loan(amount_fen=100_000, fee_fen=300, due_date=date(2026, 3, 31))
    login(client, make_user("vendor", firm=session.get(Firm, loan.firm_id)))
    page = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    header = page[page.index('id="statement-header"'):page.index("</dl>")]
    assert "<dd>¥1,000.00</dd>" in header and "<dd>¥3.00</dd>" in header, header
    written_on = date(2026, 8, 8)
    accrual.accrue(session=session, as_of=written_on)
    accrual.mark_overdue(session=session, as_of=written_on)
    lifecycle.write_off(session=session, loan_id=loan.id, as_of=written_on,
                        idempotency_key="wo-back")
    session.refresh(loan)
    lifecycle.recover(session=session, loan_id=loan.id, amount_fen=loan.written_off_fen,
                      paid_on=date(2026, 8, 20), idempotency_key="wo-back-paid")
    session.refresh(loan)
    assert lifecycle.owed_by_borrower(loan) == 0
    vendor_page = client.get(f"/vendor/loans/{loan.id}").get_data(as_text=True)
    st = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    header = st[st.index('id="statement-header"'):st.index("</dl>")]
    assert "已结清" in vendor_page and "已结清" in header and "催收" not in header, header
    # reader 13, G24: the ledger's pages a vendor opens read the borrower's word too
    for url, start, end in (("/ledger/my", f'data-loan="{loan.id}"', "</tr>"),
                            (f"/ledger/loans/{loan.id}", "<h1>", "</h1>")):
        page = client.get(url).get_data(as_text=True)
        badge = page[page.index(start):]
        badge = badge[:badge.index(end)]
        assert "已结清" in badge and "已核销" not in badge, (url, badge)


@pytest.mark.parametrize("role", ["rm", "auditor", "admin"])
def test_the_loan_book_links_the_trial_balance_only_for_who_may_open_it(app, client,
                                                                       make_user, role):
    """Issue 15 F12: the RM's 试算平衡表 link on /ledger/ led to 403 (admins and auditors
    read the trial balance). A link shows only when its page opens for the reader."""
    login(client, make_user(role))
    page = client.get("/ledger/").get_data(as_text=True)
    opens = client.get("/ledger/trial-balance").status_code
    assert ("/ledger/trial-balance" in page) == (opens == 200), (role, opens)
    assert opens == (403 if role == "rm" else 200)


def test_a_payment_made_online_shows_words_not_its_internal_key(session, app, client,
                                                                make_loan, make_user):
    """Issue 15 F10: the RM's 已收款项 showed 「vendor-repay:12:oGCx…」 as the number of a
    payment; a key the platform made reads as words, a key that came with the payment (an
    API caller's bank reference) as it is."""
    from trellis.ledger import lifecycle

    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2026, 3, 31))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=1_000, paid_on=date(2026, 1, 5),
                    idempotency_key=f"vendor-repay:{loan.id}:oGCxfstVDEhdFS4WwEIwpw")
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=2_000, paid_on=date(2026, 1, 6),
                    idempotency_key="BANK-REF-20260106-01")
    login(client, make_user("admin"))
    page = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    table = page[page.index('id="payments"'):]
    table = table[:table.index("</table>")]
    assert "借款企业网上还款" in table and ">vendor-repay:" not in table, table
    assert ">BANK-REF-20260106-01<" in table


def _figure(page, dd_id):
    cell = page[page.index(f'id="{dd_id}"'):]
    return cell[cell.index(">") + 1:cell.index("</dd>")]


def test_an_approved_application_shows_the_exposure_of_its_decision_once(
        session, app, client, world, make_user):
    """Issue 15 F11: after approval the page read 当前已用及已承诺金额 ¥448,140.80 and
    本笔贷款后的敞口 ¥896,281.60 (the application's own offer counted, then added again),
    and a settled application showed today's figures. The figures are those of the
    decision, the application counted once."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world, amount=10_000_000)
    requested = application.requested_fen
    admin = make_user("admin")
    login(client, admin)
    before = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    assert "¥0.00" in _figure(before, "exposure")
    origination.decide(session=session, application_id=application.id, user_id=admin.id,
                       approve=True, as_of=AS_OF)
    session.refresh(application)
    assert application.status == "approved" and application.exposure_fen == 0
    assert origination.exposure_fen(session, world.vendor.id) == requested   # its offer
    shown = f"¥{requested // 100:,}.{requested % 100:02d}"
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    assert "¥0.00" in _figure(page, "exposure") and "审批时" in page
    assert shown in _figure(page, "exposure-after"), _figure(page, "exposure-after")
    other = in_review(session, world, amount=10_000_000)       # a later application
    origination.decide(session=session, application_id=other.id, user_id=admin.id,
                       approve=True, as_of=AS_OF)
    again = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    assert "¥0.00" in _figure(again, "exposure")
    later = client.get(f"/ledger/applications/{other.id}").get_data(as_text=True)
    assert shown in _figure(later, "exposure")


def test_the_rm_is_told_a_decline_reason_reaches_the_firm(session, client, world, make_user):
    """Issue 15 (F16): an RM's free-text reason reached the vendor word for word without
    the RM being told; the form says so, next to the reasons box, naming the firm."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world)
    login(client, rm_for(session, make_user, world.cluster))
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    form = page.split('id="decide"')[1].split("</form>")[0]
    assert 'aria-describedby="reasons-shown"' in form and 'id="reasons-shown"' in form
    note = form.split('id="reasons-shown">')[1].split("</p>")[0]
    assert world.vendor.name in note and "原文" in note


def test_the_trial_balance_says_its_date_and_refuses_a_future_one(session, client,
                                                                 make_user, make_loan):
    """Issue 15: the date field read 起息日 (a loan's value date); a future date was
    accepted and showed today's figures under it; the table overflowed a phone."""
    from datetime import timedelta

    make_loan(amount_fen=1_000_000)
    login(client, make_user("auditor"))
    page = client.get("/ledger/trial-balance").get_data(as_text=True)
    assert "截至日期" in page and "起息日" not in page
    assert 'class="table stack"' in page and "journeys.css" in page
    future = (clock.today() + timedelta(days=30)).isoformat()
    refused = client.get(f"/ledger/trial-balance?as_of={future}")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f"{future} 是未来的日期" in text and f'value="{future}"' not in text
    assert f'max="{clock.today().isoformat()}"' in text


def test_the_journal_sums_daily_interest_by_period_and_never_types_it_a_repayment(
        session, client, make_loan, make_user):
    """Outside reader 7: 会计分录（不含每日计息） listed a repayment's interest day by day,
    each line typed 还款. Daily interest (accrual entries, and the interest a payment books
    up to its date) is one line per account and period, named as interest; each line is
    the sum of the same postings, so the table still balances."""
    from trellis.ledger import accrual, lifecycle

    loan = make_loan(amount_fen=1_000_000, due_date=date(2026, 3, 31))
    accrual.accrue(session=session, as_of=date(2026, 1, 10))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=5_000,
                    paid_on=date(2026, 2, 10), idempotency_key="BANK-REF-1")
    login(client, make_user("auditor"))
    page = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert "不含每日计息" not in page
    table = page[page.index('id="postings"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    cells = [[html_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
             for row in rows]
    interest = [c for c in cells if c[3].startswith(("1132", "6011"))]
    # interest booked (a debit to 1132, a credit to 6011) is never typed a repayment; the
    # repayment's own line is the interest paid (a credit to 1132)
    booked = [c for c in interest if (c[3].startswith("1132") and c[4])
              or c[3].startswith("6011")]
    assert booked and not [c for c in booked if c[1] == "还款"], cells
    assert len(interest) <= 6, cells   # accrual run (2), booked up to the payment (2), paid (1)
    assert any(c[1] == "还款前补记的利息" and "至" in c[2] for c in interest), cells
    assert any(c[1].startswith("每日利息计提") for c in interest), cells

    def fen(text):
        return int(text.replace("¥", "").replace(",", "").replace(".", "") or 0)

    assert sum(fen(c[4]) for c in cells) == sum(fen(c[5]) for c in cells)


def html_text(part: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def test_the_overdue_rate_is_stated_one_way(session, client, world, make_user, make_loan,
                                           monkeypatch):
    """Outside reading pages 7: the offer gave the penalty alone (+3.60%, "a year, on
    top"), the statement the whole rate past due (10.80%). Every page now says the whole
    annual rate with its two parts in brackets, as the statement does."""
    import re

    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: AS_OF)
    loan = make_loan(firm=world.vendor, rate="0.072", penalty_rate="0.036")
    application = in_review(session, world)
    offer = session.scalars(select(Offer).where(Offer.application_id == application.id)).one()
    login(client, make_user("vendor", firm=world.vendor, locale="zh_CN"))
    client.post("/locale", data={"locale": "zh_CN", "next": "/",
                                 "csrf_token": csrf_token(client, "/")})

    def said(url):
        page = client.get(url).get_data(as_text=True)
        found = re.search(r'id="overdue-rate">([^<]*)<', page)
        assert found, url
        return found.group(1)

    assert said(f"/vendor/loans/{loan.id}") == "年化 10.80%（合同利率 7.20% + 罚息加收 3.60%）"
    assert said(f"/ledger/loans/{loan.id}") == said(f"/vendor/loans/{loan.id}")
    statement = client.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    assert "年化 10.80%（合同利率 7.20% + 罚息加收 3.60%）" in statement
    rate, extra = offer.rate_micro / 10_000, offer.penalty_rate_micro / 10_000
    expected = f"年化 {rate + extra:.2f}%（合同利率 {rate:.2f}% + 罚息加收 {extra:.2f}%）"
    assert said(f"/ledger/offers/{offer.id}") == expected
    assert said(f"/vendor/applications/{application.id}") == expected


def test_the_reviewer_reads_fraud_warnings_beside_the_grade(session, client, world, make_user):
    """Outside reader R6: a grade A beside strong fraud warnings read as the firm's risk.
    The application page says, where the grade is, that warnings are not in the score."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world)
    login(client, rm_for(session, make_user, world.cluster))
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    assert 'data-testid="grade-flags"' not in page
    if application.grade is None:
        application.grade, application.score = "A", 790
    application.flags = [{"code": "circular_trading", "en": "Circular trading",
                          "zh": "循环交易"}]
    session.add(application)
    session.flush()
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    grade_line = page.split('id="grade"')[1].split("</p>")[0]
    assert ("评级暂不采用：存在 1 项欺诈预警（评分不计入这些预警），任何申请均须人工复核"
            in grade_line)
    # reader 10, R2: a firm behind on its own loan is a late payer, not a fraud suspect
    application.flags = [{"code": "own_loan_overdue", "en": "Behind on its own loans",
                          "zh": "在 Trellis 的贷款逾期（贷款 #8 逾期 100 天）"}]
    session.add(application)
    session.flush()
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    grade_line = page.split('id="grade"')[1].split("</p>")[0]
    assert "欺诈" not in grade_line
    assert "在 Trellis 的贷款逾期：评级已封顶，新增授信须人工复核" in grade_line


def test_the_decider_reads_the_price_and_term_before_approving(session, client, world,
                                                               make_user):
    """Outside reader 10, R4: the decision page had only 批准 and 拒绝; the rate, fee and
    term showed only after approving. The page now shows the terms the approval will
    offer, priced as the approval prices them, and the offer made matches them; where no
    offer fits under the legal cap it says an approval ends declined, and why."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world)
    rm = rm_for(session, make_user, world.cluster)
    login(client, rm)
    page = client.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    terms = page.split('id="proposed-terms"', 1)[1].split("</div>", 1)[0]
    assert "批准后向企业发出的报价" in terms and "法定上限" in terms
    assert f'href="/scoring/firms/{world.vendor.id}"' in page         # R24: the risk page
    apr = terms.split('id="proposed-apr">', 1)[1].split(" ", 1)[0]
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = client.post(f"/ledger/applications/{application.id}/decide",
                    data={"decision": "approve", "reasons": "贸易稳定", "csrf_token": token})
    assert r.status_code == 302
    offer = origination.open_offer(session, application.id)
    assert offer is not None
    shown = client.get(f"/ledger/offers/{offer.id}").get_data(as_text=True)
    assert f'id="apr">{apr}<' in shown                               # the same price
    # no offer fits under the cap (the product repriced since it was filed: one that
    # did not fit on filing is refused then, reader 11 F8): the page says so before the
    # decider approves
    other = in_review(session, world)
    set_product(session, "RF-STD", spreads_bps={g: 5_000 for g in "ABCDE"})
    page = client.get(f"/ledger/applications/{other.id}").get_data(as_text=True)
    warning = page.split('id="proposed-terms"', 1)[1].split("</p>", 1)[0]
    assert "批准也无法形成报价，将以拒绝结束" in warning and "法定上限" in warning


def test_the_banks_loan_page_speaks_about_the_borrower(session, app, client, make_loan,
                                                       make_user):
    """Outside reader 10, R23: the relationship manager's loan page read "退还贵司" and
    "贵司还款", as if the bank were paying itself back; the vendor's own page keeps 贵司."""
    from trellis.ledger import lifecycle
    from trellis.trade.models import Firm

    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2026, 3, 31))
    lifecycle.repay(session=session, loan_id=loan.id, amount_fen=2_000,
                    paid_on=date(2026, 1, 6), idempotency_key="r23")
    login(client, make_user("admin"))
    staff = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert "借款企业还款" in staff and "退还借款企业" in staff and "贵司" not in staff
    # R24: the loan page leads to the borrower's risk page
    assert f'href="/scoring/firms/{loan.firm_id}" id="risk-link"' in staff
    vendor = app.test_client()
    login(vendor, make_user("vendor", firm=session.get(Firm, loan.firm_id)))
    own = vendor.get(f"/ledger/loans/{loan.id}/statement").get_data(as_text=True)
    assert "贵司还款" in own


def test_an_overdue_loans_schedule_says_its_amounts_are_todays(session, client, make_user,
                                                               make_loan):
    """Outside reader 10, R10: a schedule line dated 2026-08-29 carried interest to
    12-06 and penalty from 08-30, which no line of that date can hold. Past the due date
    the line says its amounts are owed as of the last day interest was booked."""
    from trellis.ledger import accrual

    loan = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2026, 3, 31))
    on_time = make_loan(amount_fen=1_000_000, fee_fen=1_000, due_date=date(2099, 3, 31))
    accrual.accrue(session=session, as_of=date(2026, 5, 10))
    accrual.mark_overdue(session=session, as_of=date(2026, 5, 10))
    login(client, make_user("admin"))
    page = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    schedule = page.split('id="schedule"', 1)[1].split("</table>", 1)[0]
    assert "2026-03-31" in schedule
    assert "已逾期：金额为截至 2026-05-09 的应还数，含到期日后的利息和罚息" in schedule
    page = client.get(f"/ledger/loans/{on_time.id}").get_data(as_text=True)
    assert 'data-testid="owed-as-of"' not in page


def test_the_vendor_is_told_in_neutral_words_why_a_person_reviews(session, client, world,
                                                                   make_user):
    """Reader 12, G16: the vendor read only "客户经理正在审批" and could not tell why the
    promise of an automatic offer did not hold; the RM's own wording stays the RM's."""
    set_product(session, "RF-STD", auto_approve_grades=[])
    application = in_review(session, world)
    assert application.status == "review"
    login(client, make_user("vendor", firm=world.vendor))
    page = client.get(f"/vendor/applications/{application.id}").get_data(as_text=True)
    assert "您的申请需人工复核，原因如下：" in page
    assert "按贵司目前的评级，需由客户经理审批。" in page
    assert "is not approved automatically" not in page and "不自动审批" not in page


def test_the_offer_states_its_rounding_and_brackets_in_chinese(session, app, client, world,
                                                               make_user):
    """Reader 12, G15: "日利息 = 年利率 / 360" did not give the interest shown (a day's
    interest is rounded to the fen first); G14: half-width brackets, colons and commas
    inside Chinese sentences, on the vendor's offer and the RM's application page."""
    application = in_review(session, world)
    offer = session.scalars(select(Offer).where(Offer.application_id == application.id)).one()
    login(client, make_user("vendor", firm=world.vendor))
    page = client.get(f"/vendor/applications/{application.id}").get_data(as_text=True)
    daily = offer.interest_fen // offer.tenor_days
    assert daily * offer.tenor_days == offer.interest_fen
    yuan = f"¥{daily // 100:,}.{daily % 100:02d}"
    assert f"先四舍五入到分，即 {yuan}；利息 = {yuan} × {offer.tenor_days} 天" in page
    assert "（利息 ¥" in page and " (利息" not in page
    assert f"（{offer.tenor_days} 天）" in page
    staff = app.test_client()
    login(staff, rm_for(session, make_user, world.cluster))
    rm_page = staff.get(f"/ledger/applications/{application.id}").get_data(as_text=True)
    assert re.search(r"报价 \d+</a>：¥[\d,.]+，年化利率", rm_page), rm_page[:0]


def test_the_loan_page_brackets_in_chinese(session, client, world, make_user, make_loan):
    loan = make_loan(firm=world.vendor, amount_fen=1_000_000, disburse=date(2026, 1, 1))
    login(client, make_user("admin"))
    page = client.get(f"/ledger/loans/{loan.id}").get_data(as_text=True)
    assert "对账单</a>（<a" in page and "CSV</a>，<a" in page and "PDF</a>）" in page
    assert re.search(r"逾期天数（[^<]+）", page)


def test_one_loan_reads_one_status_word_and_one_product_name_on_every_page(
        session, app, client, make_loan, make_user):
    """Reader 13, G24: the same loan read 正常 on one page (/ledger/my, the loan page the
    ledger shows) and 还款中 on another (the vendor's loan list and page, the statement),
    and its product was named differently on the loan list and the loan page. One word
    per state (trellis.ledger.status.LABELS) and one product name everywhere."""
    from trellis.trade.models import Firm

    loan = make_loan(amount_fen=100_000, fee_fen=300, due_date=date(2026, 3, 31))
    login(client, make_user("vendor", firm=session.get(Firm, loan.firm_id)))
    pages = {url: client.get(url).get_data(as_text=True) for url in (
        "/vendor/loans", f"/vendor/loans/{loan.id}", "/ledger/my", f"/ledger/loans/{loan.id}",
        f"/ledger/loans/{loan.id}/statement")}
    for url, page in pages.items():
        assert "还款中" in page and "正常" not in page, url
    names = {url: re.findall(rf'(?:data-product="{loan.id}"|id="product")>([^<]*)<', page)
             for url, page in pages.items()}
    assert names["/vendor/loans"] == names["/ledger/my"] == ["应收账款融资"], names
    assert names[f"/vendor/loans/{loan.id}"] == names[f"/ledger/loans/{loan.id}"] \
        == ["应收账款融资"], names
    st = pages[f"/ledger/loans/{loan.id}/statement"]
    assert "<dt>产品</dt><dd>应收账款融资</dd>" in st
