"""The journeys of the issue's "Done when", in a real browser on the demo cluster.

1. A vendor registers from an invitation, consents, uploads invoices; the anchor confirms
   them; the vendor applies, sees the annualised rate, accepts; the loan is paid out (the
   disbursement job, run here); the vendor repays within the cooling-off window and pays
   no interest.
2. The anchor issues a voucher; the tier-1 vendor passes part of it to its tier-2
   supplier, who finances part of it.
3. An auditor verifies one of the uploaded invoices against the chain.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.browser.conftest import DESKTOP, PHONE, log_in, shot, use_english
from trellis import clock

pytestmark = pytest.mark.browser
TODAY = clock.today()


def _numbers(live):
    return [f"WEB-{TODAY:%Y%m%d}-1", f"WEB-{TODAY:%Y%m%d}-2"]


def test_vendor_registers_uploads_gets_financed_and_cools_off(live, new_page, tmp_path):
    from trellis.ledger.jobs import disburse_approved
    from trellis.ledger.models import Loan
    from trellis.trade.models import Firm, Invoice

    with live.session() as s:
        anchor = s.get(Firm, live.anchor_firm_id)
        invitee = s.get(Firm, live.invitee_firm_id)
    vendor = new_page(viewport=PHONE)
    # --- register from the invitation (Chinese by default), on a phone screen
    vendor.goto(f"{live.url}/register/")
    assert "注册" in vendor.content()
    vendor.fill("#code", live.invitation_code)
    vendor.click("form[action$='/register/invite'] button")
    assert invitee.name in vendor.content()
    vendor.fill("#name", "陈国强")
    vendor.fill("#mobile", "13900007777")
    vendor.fill("#email", "chen@invitee.cn")
    vendor.fill("#birth_year", "1962")
    vendor.fill("#password", "a long password 2026")
    vendor.fill("#confirm", "a long password 2026")
    shot(vendor, "01-vendor-register-invitation")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/consent.*"))
    assert vendor.locator("[data-warning=reg_senior_authority]").count() == 1
    # --- consent: trade data and bank account, not the credit bureau
    vendor.check("#trade_data")
    vendor.uncheck("#credit_query")
    vendor.check("#bank_account")
    shot(vendor, "02-vendor-consent-with-warnings")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/(?!consent).*"))
    use_english(vendor, live)
    # --- upload two invoices to the anchor
    numbers = _numbers(live)
    csv = tmp_path / "invoices.csv"
    issue = (TODAY - timedelta(days=2)).isoformat()
    due = (TODAY + timedelta(days=75)).isoformat()
    csv.write_text("采购方统一社会信用代码,发票号码,金额（元）,开票日期,到期日\n"
                   f"{anchor.uscc},{numbers[0]},{live.invoice_amounts[0]},{issue},{due}\n"
                   f"{anchor.uscc},{numbers[1]},{live.invoice_amounts[1]},{TODAY.isoformat()},{due}\n",
                   encoding="gbk")
    vendor.goto(f"{live.url}/vendor/trade/upload")
    vendor.select_option("#kind", "invoices")
    vendor.set_input_files("#file", str(csv))
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/trade.*"))
    assert numbers[0] in vendor.content() and "Awaiting confirmation" in vendor.content()
    shot(vendor, "03-vendor-invoices-uploaded")
    # --- the anchor confirms both in bulk
    desk = new_page(viewport=DESKTOP)
    log_in(desk, live, "anchor@trellis.demo")
    use_english(desk, live)
    desk.goto(f"{live.url}/anchor/queue?kind=invoice&sort=date&desc=1")  # newest first
    with live.session() as s:
        ids = [i.id for i in s.exec(select(Invoice).where(Invoice.number.in_(numbers)))]
    for i in ids:
        desk.check(f"#pick-{i}")
        desk.check(f"#ack-{i}")   # uploaded without an order: each needs its own tick
    desk.check("#checked")   # a confirmation asks for the tick
    shot(desk, "04-anchor-confirmation-queue")
    desk.click("button[name=decision][value=confirm]")
    assert "Confirmed 2 document(s)" in desk.content()
    # --- the vendor sees the confirmation and applies
    vendor.goto(f"{live.url}/vendor/trade?kind=invoice")
    assert vendor.content().count("Confirmed") >= 2
    vendor.goto(f"{live.url}/vendor/apply")
    for i in ids:
        vendor.check(f"#doc-{i}")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/applications/\d+$"))
    apr = vendor.locator("#apr").inner_text()
    assert re.search(r"\d+\.\d\d%", apr), apr
    assert vendor.locator("[data-warning=offer_no_fee]").count() == 1
    assert vendor.locator("#cooling-off").count() == 1
    shot(vendor, "05-vendor-offer-annualised-rate")
    vendor.check("#read")
    vendor.click("form[action$='/accept'] button")
    vendor.wait_for_url(re.compile(r".*/vendor/loans/\d+$"))
    loan_id = int(vendor.url.rsplit("/", 1)[1])
    # --- the pay-out: the ledger's disbursement job (registers the invoices on chain)
    outcome = disburse_approved(session_factory=live.sessions, settings=live.settings)
    assert "1" in outcome, outcome
    vendor.reload()
    shot(vendor, "06-vendor-loan-paid-out")
    with live.session() as s:
        loan = s.get(Loan, loan_id)
        assert loan.status == "active" and loan.first_loan
        lent = loan.amount_fen
    # --- repay within the cooling-off window: the principal only
    vendor.goto(f"{live.url}/vendor/loans/{loan_id}/repay")
    assert vendor.locator("[data-warning=repay_only_platform]").count() == 1
    assert vendor.locator("#amount").input_value() == f"{lent / 100:.2f}"
    shot(vendor, "07-vendor-repay-cooling-off")
    vendor.click("form button.primary")
    vendor.wait_for_url(re.compile(r".*/vendor/loans/\d+$"))
    assert "no interest and no fees" in vendor.content()
    shot(vendor, "08-vendor-repaid-no-interest")
    with live.session() as s:
        loan = s.get(Loan, loan_id)
        assert loan.status == "cooled_off"
        assert (loan.principal_fen, loan.interest_fen, loan.fees_fen) == (0, 0, 0)
        from trellis.ledger.models import Repayment

        paid = sum(r.amount_fen for r in s.exec(select(Repayment).where(
            Repayment.loan_id == loan_id)))
        assert paid == lent  # not a fen of interest or fees
    live.state["invoice_ids"] = ids


def test_voucher_issued_split_to_tier_two_and_financed(live, new_page):
    from trellis.ledger.jobs import disburse_approved
    from trellis.ledger.models import Loan
    from trellis.trade.models import Invoice
    from trellis.vouchers.models import Voucher, VoucherFragment

    with live.session() as s:
        from trellis.accounts.models import User

        users = {u.email: u for u in s.exec(select(User).where(
            User.email.in_(["vendor@trellis.demo", "vendor2@trellis.demo"])))}
        tier1, tier2 = users["vendor@trellis.demo"].firm_id, users["vendor2@trellis.demo"].firm_id
        inv = s.exec(select(Invoice).where(
            Invoice.seller_id == tier1, Invoice.buyer_id == live.anchor_firm_id,
            Invoice.status == "confirmed", Invoice.paid_fen == 0,
            Invoice.due_date > TODAY).order_by(Invoice.amount_fen.desc())).first()
    desk = new_page(viewport=DESKTOP)
    log_in(desk, live, "anchor@trellis.demo")
    use_english(desk, live)
    desk.goto(f"{live.url}/anchor/vouchers")
    desk.select_option("#invoice_id", str(inv.id))
    desk.click("form button.primary")
    desk.wait_for_url(re.compile(r".*/anchor/vouchers/\d+$"))
    assert desk.locator(".lineage svg").count() == 1
    shot(desk, "09-anchor-voucher-issued")
    voucher_id = int(desk.url.rsplit("/", 1)[1])
    with live.session() as s:
        voucher = s.get(Voucher, voucher_id)
        root = s.exec(select(VoucherFragment).where(
            VoucherFragment.voucher_id == voucher_id)).one()
    # --- tier 1 passes 40 % to its tier-2 supplier, on a phone
    t1 = new_page(viewport=PHONE)
    log_in(t1, live, "vendor@trellis.demo")
    use_english(t1, live)
    t1.goto(f"{live.url}/vendor/vouchers/{voucher_id}")
    give = voucher.face_fen * 40 // 100
    t1.select_option(f"#p{root.id}-to_firm_id", str(tier2))
    t1.fill(f"#p{root.id}-amount", f"{give / 100:.2f}")
    t1.click(f"form[action$='/parts/{root.id}/pass'] button")
    t1.wait_for_url(re.compile(rf".*/vendor/vouchers/{voucher_id}$"))
    assert "Passed" in t1.content()
    shot(t1, "10-tier1-passed-part-to-tier2")
    # --- tier 2 finances part of what it received
    t2 = new_page(viewport=PHONE)
    log_in(t2, live, "vendor2@trellis.demo")
    use_english(t2, live)
    t2.goto(f"{live.url}/vendor/vouchers")
    assert voucher.code in t2.content()
    with live.session() as s:
        part = s.exec(select(VoucherFragment).where(VoucherFragment.voucher_id == voucher_id,
                                                    VoucherFragment.holder_id == tier2)).one()
    t2.goto(f"{live.url}/vendor/vouchers/{voucher_id}")
    half = part.amount_fen // 2
    t2.fill(f"#s{part.id}-amounts", f"{half / 100:.2f} {(part.amount_fen - half) / 100:.2f}")
    t2.click(f"form[action$='/parts/{part.id}/split'] button")
    t2.wait_for_url(re.compile(rf".*/vendor/vouchers/{voucher_id}$"))
    with live.session() as s:
        mine = s.exec(select(VoucherFragment).where(
            VoucherFragment.voucher_id == voucher_id, VoucherFragment.holder_id == tier2,
            VoucherFragment.status == "held").order_by(VoucherFragment.id)).all()
    assert [m.amount_fen for m in mine] == [half, part.amount_fen - half]
    # the finance button leads to the amount (the most the part allows) and the terms,
    # and only the explicit submit files the application
    t2.click(f"#part-finance-{mine[0].id}")
    t2.wait_for_url(re.compile(rf".*/vendor/vouchers/parts/{mine[0].id}/finance$"))
    assert t2.input_value("#amount")              # prefilled: the most the part allows
    t2.click(f"form[action$='/parts/{mine[0].id}/finance'] button")
    t2.wait_for_url(re.compile(r".*/vendor/applications/\d+$"))
    # the ledger's decision path, as for an invoice: tier 2 (grade C, no credit limit yet)
    # is referred to an RM, and sees the offer once the RM approves
    assert "Waiting for review" in t2.content()   # the ledger's word for the state
    with live.session() as s:
        from trellis.accounts.models import User
        from trellis.ledger.origination import decide

        rm = s.exec(select(User).where(User.email == "rm@trellis.demo")).one()
        decide(session=s, application_id=int(t2.url.rsplit("/", 1)[1]), user_id=rm.id,
               approve=True)
        s.commit()
    t2.reload()
    assert re.search(r"\d+\.\d\d%", t2.locator("#apr").inner_text())
    shot(t2, "11-tier2-voucher-financing-offer")
    t2.check("#read")
    t2.click("form[action$='/accept'] button")
    t2.wait_for_url(re.compile(r".*/vendor/loans/\d+$"))
    disburse_approved(session_factory=live.sessions, settings=live.settings)
    t2.goto(f"{live.url}/vendor/vouchers/{voucher_id}")
    shot(t2, "12-voucher-lineage-after-financing")
    with live.session() as s:
        financed = s.get(VoucherFragment, mine[0].id)
        assert financed.status == "financed"
        assert s.get(Loan, financed.loan_id).status == "active"
        live_parts = s.exec(select(VoucherFragment).where(
            VoucherFragment.voucher_id == voucher_id,
            VoucherFragment.status.in_(["held", "financed"]))).all()
        assert sum(f.amount_fen for f in live_parts) == voucher.face_fen


def test_auditor_verifies_an_uploaded_invoice_against_the_chain(live, new_page):
    from trellis.chain.jobs import anchor_all
    from trellis.chain.models import Document
    from trellis.trade.models import Invoice

    with live.session() as s:
        ids = live.state.get("invoice_ids") or [s.exec(select(Invoice.id).where(
            Invoice.seller_id == live.invitee_firm_id)).first()]
    anchor_all(session_factory=live.sessions, settings=live.settings, force=True)
    with live.session() as s:
        doc = s.exec(select(Document).where(Document.doc_type == "invoice",
                                            Document.source == "invoices",
                                            Document.source_id == ids[0])).one()
        assert doc.batch_id is not None
    auditor = new_page(viewport=DESKTOP)
    log_in(auditor, live, "auditor@trellis.demo")
    use_english(auditor, live)
    auditor.goto(f"{live.url}/chain/documents/{doc.id}")
    text = auditor.content()
    assert "Verified" in text, text[-3000:]
    shot(auditor, "13-auditor-invoice-verified-on-chain")
