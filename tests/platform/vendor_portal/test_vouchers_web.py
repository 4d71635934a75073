"""Vouchers through the pages: the anchor issues, tier 1 passes a part to tier 2, tier 2
finances a part; the lineage picture; settlement at maturity pays holders and the loan."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import confirmed_invoice, demo, english  # noqa: F401
from trellis import clock
from trellis.demo.seed import PASSWORD
from trellis.ledger import lifecycle
from trellis.ledger.models import Loan
from trellis.trade.models import Firm, Payment
from trellis.vouchers import services as vs
from trellis.vouchers.models import Voucher, VoucherFragment
from trellis.vouchers.settlement import settle

TODAY = clock.today()


def logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


@pytest.fixture
def issued(client, session, demo):  # noqa: F811
    anchor, vendor = demo["anchor"], demo["vendor"]
    inv = confirmed_invoice(session, vendor.firm_id, buyer_id=anchor.firm_id)
    login(client, anchor, PASSWORD)
    english(client)
    maturity = vs.add_months(TODAY, 3)
    response = client.post("/anchor/vouchers", data={
        "csrf_token": csrf_token(client, "/anchor/vouchers"), "invoice_id": str(inv.id),
        "maturity_date": maturity.isoformat()})
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    voucher = session.exec(select(Voucher).where(Voucher.invoice_id == inv.id)).one()
    logout(client)
    return voucher


def test_issue_pass_on_finance(client, session, settings, demo, issued):  # noqa: F811
    vendor, vendor2 = demo["vendor"], demo["vendor2"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    assert root.holder_id == vendor.firm_id and root.amount_fen == issued.face_fen
    login(client, vendor, PASSWORD)
    english(client)
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    assert "<svg" in page and issued.code in page
    give = issued.face_fen // 2
    url = f"/vendor/vouchers/parts/{root.id}/pass"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}"),
        f"p{root.id}-to_firm_id": str(vendor2.firm_id),
        f"p{root.id}-amount": f"{give / 100:.2f}"})
    assert response.status_code == 303
    theirs = session.exec(select(VoucherFragment).where(
        VoucherFragment.holder_id == vendor2.firm_id)).one()
    assert theirs.amount_fen == give
    assert vs.live_total(session=session, voucher_id=issued.id) == issued.face_fen
    # reader Q5 (ninth session): the message says which part went and which one stays
    # (1 the whole, 2 and 3 the split, 4 the part passed on)
    said = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    to = session.get(Firm, vendor2.firm_id).name
    assert (f"Passed ¥{give / 100:,.2f} to {to} as part No. 4; you keep part No. 3, "
            f"¥{(issued.face_fen - give) / 100:,.2f}.") in said
    logout(client)
    # tier 2 finances its part: a voucher-backed offer, accepted
    login(client, vendor2, PASSWORD)
    english(client)
    assert issued.code in client.get("/vendor/vouchers").get_data(as_text=True)
    response = client.post(f"/vendor/vouchers/parts/{theirs.id}/finance", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}")})
    assert response.status_code == 303
    # the same decision path as an invoice: tier 2 (grade C, no credit limit yet) goes to
    # an RM, and the offer appears once the RM approves
    assert "Waiting for review" in client.get(response.location).get_data(as_text=True)
    from trellis.ledger.origination import decide

    decide(session=session, application_id=int(response.location.rsplit("/", 1)[1]),
           user_id=demo["rm"].id, approve=True)
    offer_page = client.get(response.location).get_data(as_text=True)
    assert 'id="apr"' in offer_page, offer_page[-3000:]
    assert 'data-warning="offer_no_fee"' in offer_page
    accepted = client.post(response.location + "/accept", data={
        "csrf_token": csrf_token(client, response.location), "read": "y"})
    assert accepted.status_code == 303
    session.refresh(theirs)
    assert theirs.status == "financed" and theirs.loan_id
    loan = session.get(Loan, theirs.loan_id)
    assert loan.firm_id == vendor2.firm_id and loan.due_date > issued.maturity_date
    # the financed part can no longer be passed on
    again = client.post(f"/vendor/vouchers/parts/{theirs.id}/pass", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}"),
        f"p{theirs.id}-to_firm_id": str(vendor.firm_id), f"p{theirs.id}-amount": "1.00"})
    # (its form is gone from the page: sent back to the voucher with the reason flashed)
    assert again.status_code == 409   # refused: the voucher's page with the reason
    assert "pledged for financing" in again.get_data(as_text=True)
    kinds = [e.kind for e in vs.events(session=session, voucher_id=issued.id)]
    assert kinds == ["issue", "split", "transfer", "finance"]
    # settlement at maturity: tier 1 is paid, the loan is repaid by the anchor
    lifecycle.disburse(session=session, settings=settings, loan_id=loan.id, as_of=TODAY)
    paid = settle(session=session, voucher_id=issued.id, paid_on=issued.maturity_date,
                  today=issued.maturity_date)
    assert sorted(p.amount_fen for p in paid) == sorted([issued.face_fen - give, give])
    session.refresh(loan)
    assert loan.status == "repaid" and loan.outstanding_fen == 0
    payment = session.exec(select(Payment).where(Payment.payee_id == vendor.firm_id,
                                                 Payment.reference.like(f"{issued.code}-%"))).one()
    assert payment.amount_fen == issued.face_fen - give
    assert settle(session=session, voucher_id=issued.id, paid_on=issued.maturity_date) == []


@pytest.mark.parametrize("field, value, message", [
    ("to_firm_id", "0", "Choose a supplier"),
    ("amount", "abc", "as a number"),
    ("amount", "99999999", "more than the voucher part"),
    ("to_firm_id", "own-anchor", "one of your own suppliers"),
])
def test_bad_pass_on_changes_nothing(client, session, demo, issued, field, value,  # noqa: F811
                                     message):
    vendor, vendor2 = demo["vendor"], demo["vendor2"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    english(client)
    data = {"to_firm_id": str(vendor2.firm_id), "amount": "100.00"}
    data[field] = str(issued.issuer_id) if value == "own-anchor" else value
    response = client.post(f"/vendor/vouchers/parts/{root.id}/pass", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}"),
        **{f"p{root.id}-{k}": v for k, v in data.items()}})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(vs.fragments(session=session, voucher_id=issued.id)) == 1


@pytest.mark.parametrize("amounts, message", [("100", "two or more"), ("1 2", "must be equal"),
                                              ("abc def", "as a number")])
def test_bad_split(client, session, demo, issued, amounts, message):  # noqa: F811
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, demo["vendor"], PASSWORD)
    english(client)
    response = client.post(f"/vendor/vouchers/parts/{root.id}/split", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}"),
        f"s{root.id}-amounts": amounts})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(vs.fragments(session=session, voucher_id=issued.id)) == 1


def test_split_by_form(client, session, demo, issued):  # noqa: F811
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, demo["vendor"], PASSWORD)
    first = issued.face_fen // 3
    response = client.post(f"/vendor/vouchers/parts/{root.id}/split", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}"),
        f"s{root.id}-amounts": f"{first / 100:.2f}; {(issued.face_fen - first) / 100:.2f}"})
    assert response.status_code == 303
    assert sorted(f.amount_fen for f, _ in vs.holdings(session=session,
                                                       firm_id=demo["vendor"].firm_id)) == \
        sorted([first, issued.face_fen - first])


def test_other_firms_cannot_see_or_use_a_voucher(client, session, demo, issued,  # noqa: F811
                                                 make_firm, make_user):
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, demo["vendor2"], PASSWORD)
    assert client.get(f"/vendor/vouchers/{issued.id}").status_code == 404
    response = client.post(f"/vendor/vouchers/parts/{root.id}/split", data={
        "csrf_token": csrf_token(client, "/vendor/vouchers"), f"s{root.id}-amounts": "1 2"})
    assert response.status_code == 404
    assert root.status == "held"


@pytest.mark.parametrize("months, ok", [(6, True), (7, False), (13, False)])
def test_anchor_tenor_limit_on_the_page(client, session, demo, months, ok):  # noqa: F811
    anchor, vendor = demo["anchor"], demo["vendor"]
    inv = confirmed_invoice(session, vendor.firm_id, buyer_id=anchor.firm_id)
    login(client, anchor, PASSWORD)
    english(client)
    response = client.post("/anchor/vouchers", data={
        "csrf_token": csrf_token(client, "/anchor/vouchers"), "invoice_id": str(inv.id),
        "maturity_date": vs.add_months(TODAY, months).isoformat()})
    if ok:
        assert response.status_code == 303
    else:
        assert response.status_code == 422
        assert "at most 6 months" in response.get_data(as_text=True)
        assert session.exec(select(Voucher).where(Voucher.invoice_id == inv.id)).first() is None


def test_anchor_cannot_issue_a_payable_it_does_not_owe(client, session, demo):  # noqa: F811
    anchor, vendor2 = demo["anchor"], demo["vendor2"]
    from trellis.trade.models import Invoice

    theirs = session.exec(select(Invoice).where(Invoice.buyer_id != anchor.firm_id,
                                                Invoice.status == "confirmed")).first()
    login(client, anchor, PASSWORD)
    response = client.post("/anchor/vouchers", data={
        "csrf_token": csrf_token(client, "/anchor/vouchers"), "invoice_id": str(theirs.id),
        "maturity_date": (TODAY + timedelta(days=30)).isoformat()})
    assert response.status_code == 404
    assert session.exec(select(Voucher)).all() == []
    assert vendor2  # the demo has a second vendor (used above for lineage)


def test_a_voucher_part_has_one_name_for_the_vendor_and_the_rm(  # noqa: F811
        client, session, demo, issued):  # noqa: F811
    """Reader R11: the vendor read "V… 第 7 号" and the RM "凭证拆分部分 V1-7" with the
    product 应收账款融资; both now read the voucher code and part number, and the product
    says 凭证融资."""
    vendor = demo["vendor"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    response = client.post(f"/vendor/vouchers/parts/{root.id}/finance", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{issued.id}")})
    assert response.status_code == 303
    name = f"{issued.code} 第 1 号"   # the issued whole is the first part
    mine = client.get(response.location).get_data(as_text=True)
    assert name in mine and "凭证融资（" in mine
    assert name in client.get("/vendor/vouchers").get_data(as_text=True)
    logout(client)
    login(client, demo["rm"], PASSWORD)
    app_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(f"/ledger/applications/{app_id}").get_data(as_text=True)
    assert name in page and f"V{issued.id}-{root.id}" not in page
    assert "凭证份额" in page and "凭证拆分部分" not in page
    assert re.search(r"<dd>凭证融资（[^<）]+）</dd>", page), page
