"""Loans paid out in chosen ledger shards and matured vouchers whose financed parts
repay them: the books the settlement tests (per voucher, races) start from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import give_payout_account, next_uscc
from trellis import clock
from trellis.ledger import lifecycle, posting
from trellis.ledger.apr import rate_micro
from trellis.ledger.models import Loan, Product
from trellis.trade.models import DocStatus, Firm, Invoice
from trellis.vouchers.models import FragmentStatus, Voucher, VoucherFragment

TODAY = clock.today()
D0 = TODAY - timedelta(days=60)


def firms(s) -> tuple[Firm, Firm]:
    """An anchor and its vendor."""
    anchor = Firm(uscc=next_uscc(), name="结算核心企业", role="anchor")
    vendor = Firm(uscc=next_uscc(), name="结算供应商", role="vendor")
    s.add_all([anchor, vendor])
    s.flush()
    give_payout_account(s, vendor)
    return anchor, vendor


def paid_out_loans(s, vendor: Firm, keep: Callable[[list[int], int, int], bool],
                   enough: Callable[[list[int]], bool]) -> list[int]:
    """Loans of *vendor* paid out on D0, one after another; a loan is kept when
    ``keep(kept_ids, loan_id, shards)`` says so, until ``enough(kept_ids)``."""
    product = s.scalars(select(Product).where(Product.code == "RF-STD")).one()
    shards = posting.shard_count(s)
    kept: list[int] = []
    while not enough(kept):
        loan = Loan(firm_id=vendor.id, product_id=product.id, amount_fen=3_000_000,
                    rate_micro=rate_micro("0.072"), penalty_rate_micro=0,
                    due_date=TODAY + timedelta(days=30),
                    waterfall=["penalty", "fees", "interest", "principal"])
        s.add(loan)
        s.flush()
        lifecycle.disburse(session=s, settings=None, loan_id=loan.id, as_of=D0)
        if keep(kept, loan.id, shards):
            kept.append(loan.id)
    return kept


def matured_voucher(s, anchor: Firm, vendor: Firm, code: str,
                    parts: list[tuple[int, int | None]]) -> int:
    """A voucher issued on D0 that matured today, split into *parts* (amount in fen,
    the loan a financed part repays or None for a part the vendor holds): its id."""
    face = sum(amount for amount, _loan in parts)
    invoice = Invoice(seller_id=vendor.id, buyer_id=anchor.id, number=f"INV-{code}",
                      amount_fen=face, issue_date=D0, due_date=TODAY,
                      status=DocStatus.CONFIRMED)
    s.add(invoice)
    s.flush()
    voucher = Voucher(code=code, issuer_id=anchor.id, invoice_id=invoice.id,
                      face_fen=face, issued_on=D0, tenor_days=50,
                      maturity_date=D0 + timedelta(days=50))
    s.add(voucher)
    s.flush()
    root = VoucherFragment(voucher_id=voucher.id, holder_id=vendor.id, amount_fen=face)
    s.add(root)
    s.flush()
    for amount, loan_id in parts:
        s.add(VoucherFragment(voucher_id=voucher.id, parent_id=root.id,
                              holder_id=vendor.id, amount_fen=amount,
                              **({"status": FragmentStatus.FINANCED, "loan_id": loan_id}
                                 if loan_id is not None else {})))
        s.flush()
    root.status = FragmentStatus.SPLIT
    s.flush()
    return voucher.id
