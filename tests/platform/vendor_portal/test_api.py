"""The vendor's API: its own documents only, with the buyer's decision."""

import pytest

from tests.vouchers.factories import invoice
from trellis.accounts import services as accounts
from trellis.trade.models import DocStatus


def test_vendor_lists_its_own_invoices(client, session, chain):
    _t, secret = accounts.issue_api_token(session=session, firm_id=chain.tier1.id, name="book")
    mine = invoice(session, chain.tier1, chain.anchor, status=DocStatus.REJECTED)
    mine.reject_reason = "数量不符"
    invoice(session, chain.tier2, chain.tier1)
    body = client.get("/api/v1/vendor/invoices",
                      headers={"Authorization": f"Bearer {secret}"}).json
    assert [(i["number"], i["status"], i["reject_reason"]) for i in body["items"]] == [
        (mine.number, "rejected", "数量不符")]
    assert body["items"][0]["chain"]["state"] == "not committed"
    assert client.get("/api/v1/vendor/invoices?status=odd",
                      headers={"Authorization": f"Bearer {secret}"}).status_code == 422


@pytest.mark.parametrize("role", ["anchor", "rm"])
def test_other_roles_are_refused(client, logged_in, role):
    logged_in(role)
    assert client.get("/api/v1/vendor/orders").status_code == 403
