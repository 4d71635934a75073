"""Two browser tabs of one vendor asking to finance the same voucher part: the second
filing is refused, in Chinese, naming the part (voucher, holder, amount in yuan) and the
application already open; one application exists."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.platform.conftest import csrf_token, login
from tests.vouchers.factories import invoice
from tests.vouchers.test_financing_route import no_limit, scorer_for
from trellis import clock
from trellis.accounts.services import grant_consent
from trellis.ledger import origination
from trellis.ledger.models import Application
from trellis.vouchers import services as vs

TODAY = clock.today()


def test_two_tabs_file_one_application_on_a_part(client, session, chain, make_user,
                                                 monkeypatch):
    monkeypatch.setattr(origination, "score_firm", scorer_for("C"))   # to an RM
    monkeypatch.setattr(origination, "credit_limit", no_limit)
    inv = invoice(session, chain.tier1, chain.anchor, 2_000_000)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=TODAY + timedelta(days=60), issued_on=TODAY)
    (part,) = vs.fragments(session=session, voucher_id=voucher.id)
    grant_consent(session=session, firm_id=chain.tier1.id, purpose="trade_data")
    login(client, make_user("vendor", firm=chain.tier1))
    page = f"/vendor/vouchers/{voucher.id}"
    tabs = [csrf_token(client, page), csrf_token(client, page)]   # two tabs, one login
    url = f"/vendor/vouchers/parts/{part.id}/finance"
    first = client.post(url, data={"csrf_token": tabs[0]})
    assert first.status_code == 303 and "/vendor/applications/" in first.location
    app_id = int(first.location.rsplit("/", 1)[1])
    second = client.post(url, data={"csrf_token": tabs[1]})
    assert second.status_code == 422    # a refusal: the voucher's page with the reason
    said = re.sub(r"\s+", " ", second.get_data(as_text=True))
    # the part by its one name: voucher, number in the voucher, amount, holder
    assert f"{voucher.code} 第 1 号（¥20,000.00，由一级供应商持有）已在融资申请 {app_id} 中" \
        in said, said[-3000:]
    assert session.scalar(select(func.count()).select_from(Application).where(
        Application.firm_id == chain.tier1.id)) == 1


def test_passing_on_a_part_already_passed_on_says_so(client, session, chain, make_user):
    """Tab 1 passes the whole part to tier 2; tab 2, still showing the part, passes it
    again (or splits it): the vendor is told, in Chinese, that it went to tier 2 and that
    nothing changed, never a silent page or a 500."""
    inv = invoice(session, chain.tier1, chain.anchor, 2_000_000)
    voucher = vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
                       maturity_date=TODAY + timedelta(days=60), issued_on=TODAY)
    (part,) = vs.fragments(session=session, voucher_id=voucher.id)
    login(client, make_user("vendor", firm=chain.tier1))
    page = f"/vendor/vouchers/{voucher.id}"
    tabs = [csrf_token(client, page), csrf_token(client, page)]
    form = {f"p{part.id}-to_firm_id": str(chain.tier2.id), f"p{part.id}-amount": "20000.00"}
    url = f"/vendor/vouchers/parts/{part.id}/pass"
    assert client.post(url, data={"csrf_token": tabs[0], **form}).status_code == 303
    for again, data in ((url, form),
                        (url, {**form, f"p{part.id}-amount": "5000.00"}),
                        (f"/vendor/vouchers/parts/{part.id}/split",
                         {f"s{part.id}-amounts": "10000 10000"})):
        response = client.post(again, data={"csrf_token": tabs[1], **data})
        assert response.status_code == 409
        said = re.sub(r"\s+", " ", response.get_data(as_text=True))
        assert "该凭证份额（¥20,000.00）已转给二级供应商，本次未作任何更改" in said, said[-2000:]
    session.expire_all()   # the pages wrote through their own session
    assert [(f.holder_id, f.status) for f in vs.fragments(session=session,
                                                          voucher_id=voucher.id)] == [
        (chain.tier1.id, "transferred"), (chain.tier2.id, "held")]
