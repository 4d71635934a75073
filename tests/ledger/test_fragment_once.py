"""A voucher part stands behind one loan at most, also in the database: a unique index on
``loan_fragments.fragment_id`` (migration ``0022l_loan_fragment_once``) refuses a second
row, and accepting an offer the index refuses is a clear message naming the part (a 4xx
on the pages), never a database error. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.ledger.conftest import AS_OF
from tests.ledger.test_voucher_origination import accepted_part_loan, voucher_parts
from trellis.ledger.apr import rate_micro
from trellis.ledger.claims import DocumentClaimed
from trellis.ledger.models import Loan, LoanFragment
from trellis.vouchers import financing
from trellis.vouchers.models import VoucherFragment


def _loan(session, firm_id: int, product_id: int, status: str) -> Loan:
    loan = Loan(firm_id=firm_id, product_id=product_id, amount_fen=100_000,
                rate_micro=rate_micro("0.07"), penalty_rate_micro=0, status=status,
                due_date=AS_OF + timedelta(days=60), waterfall=["principal"])
    session.add(loan)
    session.flush()
    return loan


def test_the_database_refuses_a_second_row_for_one_part(session, world):
    _inv, _voucher, parts, _offer, loan = accepted_part_loan(session, world)
    other = _loan(session, world.vendor.id, loan.product_id, "cancelled")
    with pytest.raises(IntegrityError, match="fragment_id"), session.begin_nested():
        session.add(LoanFragment(loan_id=other.id, fragment_id=parts[0].id))
        session.flush()
    # the other part of the voucher may stand behind a loan of its own
    session.add(LoanFragment(loan_id=other.id, fragment_id=parts[1].id))
    session.flush()


def test_accepting_an_offer_the_index_refuses_names_the_part(session, world):
    """A row the services' checks cannot see (behind a cancelled loan, the part still
    held: data an older version or a hand could leave) makes the index the only guard."""
    _inv, voucher, parts = voucher_parts(session, world)
    app, offer = financing.quote(session=session, holder_id=world.vendor.id,
                                 fragment_id=parts[0].id, as_of=AS_OF)
    assert offer is not None, app.review_reasons
    stale = _loan(session, world.vendor.id, app.product_id, "cancelled")
    session.add(LoanFragment(loan_id=stale.id, fragment_id=parts[0].id))
    session.commit()
    loans = session.scalar(select(func.count()).select_from(Loan))

    with pytest.raises(DocumentClaimed) as err:
        financing.accept(session=session, holder_id=world.vendor.id, offer_id=offer.id,
                         as_of=AS_OF)
    text = err.value.message
    assert text.startswith("Already financed since the offer:"), text
    assert voucher.code in text and "60,000.00" in text     # the part, its amount in yuan
    assert err.value.status < 500 and err.value.field == "fragment_ids"
    session.rollback()                         # as the request does
    assert session.scalar(select(func.count()).select_from(Loan)) == loans
    assert session.get(VoucherFragment, parts[0].id).status == "held"
    assert session.scalars(select(LoanFragment.loan_id).where(
        LoanFragment.fragment_id == parts[0].id)).all() == [stale.id]
