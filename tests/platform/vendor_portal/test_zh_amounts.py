"""Issue 15 (NOTES-zhreader5 F18): one message per problem with a typed amount, on every
form: a number too large is 金额过大, however many digits it has."""

from __future__ import annotations

import pytest
from wtforms import ValidationError as WTFValidationError

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import apply_for, confirmed_invoice, demo  # noqa: F401
from trellis.demo.seed import PASSWORD
from trellis.platform.vendor_portal.common import parse_yuan


@pytest.mark.parametrize("raw, wanted", [
    ("99999999999999999999", "金额过大。"), ("10000000000", "金额过大。"),
    ("99,999,999,999,999,999,999.00", "金额过大。"), ("¥12345678901234567", "金额过大。"),
    ("-99999999999999999999", "金额必须大于零。"), ("-5", "金额必须大于零。"),
    ("12.3.4", "请以数字填写金额，例如 12500.00。"), ("1.234", None),
])
def test_parse_yuan_names_the_problem(app, raw, wanted):
    with app.test_request_context("/"):
        with pytest.raises(WTFValidationError) as caught:
            parse_yuan(raw)
        if wanted:
            assert str(caught.value) == wanted


def test_apply_form_says_too_large_like_the_other_forms(client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    inv = confirmed_invoice(session, vendor.firm_id)
    response = apply_for(client, [inv.id], amount="99999999999999999999")
    page = response.get_data(as_text=True)
    # Reader R15: too large says the most these documents allow, not only 金额过大
    assert response.status_code == 422
    assert "凭这些单据最多可借 ¥" in page and "请以数字填写金额" not in page
    response = apply_for(client, [inv.id], amount="9" * 40)
    assert "凭这些单据最多可借 ¥" in response.get_data(as_text=True)
