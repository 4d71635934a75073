"""An invoice issued as a voucher can only be financed through the voucher's parts."""

from __future__ import annotations

import pytest

from tests.vouchers.factories import invoice
from tests.vouchers.test_vouchers import TODAY
from trellis.ledger import origination
from trellis.ledger.errors import IneligibleDocument
from trellis.vouchers import services as vs


def test_the_ledger_refuses_an_invoice_that_became_a_voucher(session, chain):
    inv = invoice(session, chain.tier1, chain.anchor, 2_000_000)
    vs.issue(session=session, anchor_id=chain.anchor.id, invoice_id=inv.id,
             maturity_date=vs.add_months(TODAY, 3), issued_on=TODAY)
    with pytest.raises(IneligibleDocument, match="issued as a voucher"):
        origination.apply(session=session, firm_id=chain.tier1.id, product_code="RF-STD",
                        invoice_ids=[inv.id], as_of=TODAY)
