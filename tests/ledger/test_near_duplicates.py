"""Issue 10, defect 10: an invoice re-presented with its amount changed by 1 fen or its date
by a day dodges the exact fingerprints; the coarse fingerprint sends it to an RM's review
(it is not refused: honest neighbours exist), naming the earlier invoice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ledger.conftest import AS_OF
from trellis.chain import near_duplicates, registry
from trellis.ledger import origination
from trellis.messages import texts

ISSUED = AS_OF - timedelta(days=10)


def apply(session, world, inv):
    return origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                             invoice_ids=[inv.id], as_of=AS_OF)


@pytest.mark.parametrize("fen, days", [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (0, 0)])
def test_a_near_duplicate_goes_to_review_not_through(session, world, fen, days):
    first = world.invoice(10_000_000, issued=ISSUED)
    assert apply(session, world, first).status == "approved"
    twin = world.invoice(10_000_000 + fen, issued=ISSUED + timedelta(days=days))
    # The exact fingerprints do not see it (unless nothing changed but the number)...
    exact = registry.fingerprints("k", kind="invoice", seller_uscc=world.vendor.uscc,
                                  buyer_uscc=world.anchor.uscc, number=twin.number,
                                  amount_fen=twin.amount_fen, issued_on=twin.issue_date)
    original = registry.fingerprints("k", kind="invoice", seller_uscc=world.vendor.uscc,
                                     buyer_uscc=world.anchor.uscc, number=first.number,
                                     amount_fen=first.amount_fen, issued_on=first.issue_date)
    assert (exact["no_number"] == original["no_number"]) == (fen == 0 and days == 0)
    # ...the coarse one sends it to a person, naming the first invoice.
    app = apply(session, world, twin)
    assert app.status == "review"
    (reason,) = [r for r in texts(app.review_reasons) if "presented before" in r]
    assert first.number in reason and twin.number in reason
    assert f"within ¥{abs(fen) / 100:,.2f} and {abs(days)} day" in reason


@pytest.mark.parametrize("amount, days", [(10_300_000, 0), (10_000_000, 30)])
def test_documents_further_apart_are_not_flagged(session, world, amount, days):
    assert apply(session, world, world.invoice(10_000_000, issued=ISSUED)).status == "approved"
    other = world.invoice(amount, issued=ISSUED + timedelta(days=days))
    app = apply(session, world, other)
    assert not [r for r in texts(app.review_reasons) if "presented before" in r]


def test_applying_again_with_the_same_invoice_is_not_its_own_near_duplicate(session, world):
    inv = world.invoice(10_000_000, issued=ISSUED)
    near_duplicates.screen(session=session, invoice_ids=[inv.id])
    assert near_duplicates.screen(session=session, invoice_ids=[inv.id]) == []


@pytest.mark.parametrize("a, b", [(100_000_00, 100_000_01), (99_999_99, 100_000_00),
                                  (100, 101), (1, 0), (123_456_789, 123_456_788)])
def test_one_fen_apart_always_shares_a_print(a, b):
    day = ISSUED
    for d in range(0, 8):
        own = near_duplicates.coarse_fingerprint(kind="invoice", seller_uscc="S", buyer_uscc="B",
                                                 amount_fen=b, issued_on=day + timedelta(d))
        near = near_duplicates.neighbour_prints(kind="invoice", seller_uscc="S",
                                                buyer_uscc="B", amount_fen=a,
                                                issued_on=day + timedelta(d + 1))
        assert own in near, (a, b, d)
    other_buyer = near_duplicates.coarse_fingerprint(kind="invoice", seller_uscc="S",
                                                     buyer_uscc="C", amount_fen=a,
                                                     issued_on=day)
    assert other_buyer not in near_duplicates.neighbour_prints(
        kind="invoice", seller_uscc="S", buyer_uscc="B", amount_fen=a, issued_on=day)


def test_the_reason_reads_in_chinese_with_yuan(session, world):
    """Issue 15 (NOTES-zhreader5 F4): the reason an RM reads names both documents in the
    reader's language, amounts as ¥ with separators, no 'CNY of'."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    import trellis.platform
    from trellis.messages import Message, render

    zh = {}
    for po in Path(trellis.platform.__file__).parent.glob(
            "**/translations/zh_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            zh.update({m.id: m.string for m in read_po(fh) if m.id and m.string})
    first = world.invoice(5_601_760, issued=ISSUED)
    assert apply(session, world, first).status == "approved"
    twin = world.invoice(5_601_761, issued=ISSUED + timedelta(days=1))
    app = apply(session, world, twin)
    (stored,) = [r for r in app.review_reasons
                 if "presented before" in str(Message.from_json(r))]
    text = render(stored, locale="zh_CN", gettext=lambda s: zh.get(s, s))
    assert f"发票 {twin.number}（¥56,017.61，" in text
    assert f"发票 {first.number}（¥56,017.60，{ISSUED.isoformat()}）" in text
    assert "CNY" not in text and " of " not in text and "invoice" not in text


def test_an_order_not_linked_to_a_matching_voucher_invoice_goes_to_review(session, world):
    """Outside reader: order PO…138 (same buyer, same amount, four days before invoice
    …142, not linked to it) got an instant offer after the invoice had become a voucher.
    The coarse prints compared an order only with orders; now an order is also compared
    with invoices (and the voucher's invoice records its print at issue)."""
    from tests.ledger.test_one_trade import MATURITY
    from trellis.vouchers import services as vs

    order_for_voucher = world.order(202_258_233, on=ISSUED - timedelta(days=30))
    inv = world.invoice(202_258_233, issued=ISSUED, order=order_for_voucher)
    vs.issue(session=session, anchor_id=world.anchor.id, invoice_id=inv.id,
             maturity_date=MATURITY, issued_on=AS_OF)
    order = world.order(202_258_233, on=ISSUED - timedelta(days=4))   # not linked
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="OF-STD",
                            order_ids=[order.id], as_of=AS_OF)
    assert app.status == "review"     # referred, not refused: honest repeat orders exist
    (reason,) = [r for r in texts(app.review_reasons) if "not linked" in r]
    assert order.number in reason and inv.number in reason and "4 day" in reason


def test_an_invoice_and_the_order_it_became_are_not_near_duplicates(session, world):
    order = world.order(10_000_000, on=ISSUED - timedelta(days=3))
    inv = world.invoice(10_000_000, issued=ISSUED, order=order)
    assert near_duplicates.screen(session=session, order_ids=[order.id]) == []
    assert near_duplicates.screen(session=session, invoice_ids=[inv.id]) == []
    # an unlinked invoice of the same parties and amount is named with both
    other = world.invoice(10_000_000, issued=ISSUED + timedelta(days=1))
    found = texts(near_duplicates.screen(session=session, invoice_ids=[other.id]))
    (same_kind,) = [r for r in found if "not linked" not in r]
    (cross,) = [r for r in found if "not linked" in r]
    assert inv.number in same_kind
    assert order.number in cross and "not linked" in cross
