"""Keyed fingerprints and the double-financing registry on the embedded chain."""

from __future__ import annotations

from datetime import date

import pytest
from eth_account import Account
from sqlalchemy import delete, func, select

from trellis.chain import client, registry
from trellis.chain.errors import DoubleFinancing, TransactionReverted
from trellis.chain.models import Fingerprint
from trellis.trade.models import Invoice, PurchaseOrder

CLAIM = b"\xc1" * 32  # any non-empty claim: an instance and its financing


@pytest.mark.parametrize("a, b", [("INV-0042", "inv 42"), ("Ａ１２", "A12"),
                                  ("2026/00017", "2026-17"), ("No.7", "NO 007")])
def test_invoice_numbers_normalise_alike(a, b):
    assert registry.normalise_number(a) == registry.normalise_number(b)


def test_a_changed_number_keeps_the_no_number_variant():
    base = dict(kind="invoice", seller_uscc="91330100MA0000001X", buyer_uscc="913301",
                number="A-1", amount_fen=500_00, issued_on=date(2026, 3, 1))
    one = registry.fingerprints("k", **base)
    renumbered = registry.fingerprints("k", **{**base, "number": "B-9"})
    other_amount = registry.fingerprints("k", **{**base, "amount_fen": 500_01})
    other_key = registry.fingerprints("k2", **base)
    assert one["full"] != renumbered["full"]
    assert one["no_number"] == renumbered["no_number"]
    assert not set(one.values()) & set(other_amount.values())
    assert not set(one.values()) & set(other_key.values())


@pytest.fixture
def invoices(session, make_firm):
    seller, buyer = make_firm(name="小河五金"), make_firm(role="anchor", name="大桥建工")

    def make(number, amount_fen=80_000_00, on=date(2026, 3, 1)):
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number=number,
                      amount_fen=amount_fen, issue_date=on, due_date=date(2026, 6, 1))
        session.add(inv)
        session.flush()
        return inv

    return make


def test_registering_twice_for_the_same_invoice_is_idempotent(session, embedded,
                                                              chain_settings, invoices):
    inv = invoices("FP-1")
    fps = registry.register_financing(session=session, settings=chain_settings,
                                      invoice_ids=[inv.id])
    assert len(fps) == 2
    assert all(embedded.registrant_of(fp) == embedded.address for fp in fps)
    head = embedded.head()
    again = registry.register_financing(session=session, settings=chain_settings,
                                        invoice_ids=[inv.id])
    assert again == fps and embedded.head() == head  # no second transaction


def test_a_second_financing_of_one_invoice_by_this_database_is_refused(
        session, embedded, chain_settings, invoices):
    """Two loans on one invoice (say two offers accepted at once) reach the registry: the
    first loan's registration is this database's, but not this financing's."""
    inv = invoices("FP-1B")
    registry.register_financing(session=session, settings=chain_settings,
                                invoice_ids=[inv.id], financing_ref="loan:1:20261201000000")
    head = embedded.head()
    with pytest.raises(DoubleFinancing) as err:
        registry.register_financing(session=session, settings=chain_settings,
                                    invoice_ids=[inv.id],
                                    financing_ref="loan:2:20261201000001")
    assert "FP-1B" in err.value.message and "another financing" in err.value.message
    assert embedded.head() == head
    # The first loan's retry is still its own.
    registry.register_financing(session=session, settings=chain_settings,
                                invoice_ids=[inv.id], financing_ref="loan:1:20261201000000")


def test_a_renumbered_copy_is_refused_naming_the_first_invoice(session, embedded,
                                                               chain_settings, invoices):
    first, copy = invoices("FP-2"), invoices("FP-2-BIS")
    registry.register_financing(session=session, settings=chain_settings,
                                invoice_ids=[first.id])
    with pytest.raises(DoubleFinancing) as err:
        registry.register_financing(session=session, settings=chain_settings,
                                    invoice_ids=[copy.id])
    assert "invoice FP-2-BIS" in err.value.message and "invoice FP-2 " in err.value.message
    assert "小河五金" in err.value.message


def test_two_copies_in_one_request_are_refused(session, embedded, chain_settings, invoices):
    a, b = invoices("FP-3"), invoices("FP-3A")
    with pytest.raises(DoubleFinancing, match="FP-3A"):
        registry.register_financing(session=session, settings=chain_settings,
                                    invoice_ids=[a.id, b.id])
    assert session.execute(select(func.count()).select_from(Fingerprint)).scalar_one() == 0


def test_another_financier_got_there_first(session, embedded, chain_settings, invoices):
    inv = invoices("FP-4")
    other_key = embedded.w3.provider.ethereum_tester.backend.account_keys[1].to_bytes()
    other = client.Chain(embedded.w3, account=Account.from_key(other_key), kind="embedded",
                         contract_address=embedded.contract_address)
    embedded.send_raw(embedded.sign(embedded.contract.functions.addSubmitter(other.address)).raw)
    prints = registry.fingerprints(chain_settings.fingerprint_key, kind="invoice",
                                   seller_uscc=_uscc(session, inv.seller_id),
                                   buyer_uscc=_uscc(session, inv.buyer_id), number="fp 4",
                                   amount_fen=inv.amount_fen, issued_on=inv.issue_date)
    fn = other.contract.functions.register([bytes.fromhex(prints["no_number"][2:])], CLAIM)
    other.send_raw(other.sign(fn).raw)
    with pytest.raises(DoubleFinancing) as err:
        registry.register_financing(session=session, settings=chain_settings,
                                    invoice_ids=[inv.id])
    assert "FP-4" in err.value.message and other.address in err.value.message
    # Nothing of the refused request was registered.
    assert embedded.registrant_of(prints["full"]) is None


def _uscc(session, firm_id):
    from trellis.trade.models import Firm

    return session.get(Firm, firm_id).uscc


def test_the_contract_refuses_a_list_with_one_registered_fingerprint(embedded):
    taken, fresh = b"\x01" * 32, b"\x02" * 32
    fn = embedded.contract.functions.register([taken], CLAIM)
    embedded.send_raw(embedded.sign(fn).raw)
    with pytest.raises(TransactionReverted, match="already registered"):
        embedded.sign(embedded.contract.functions.register([fresh, taken], CLAIM))
    assert embedded.registrant_of("0x" + fresh.hex()) is None


def test_a_registration_whose_record_was_lost_is_recorded_again(session, embedded,
                                                                chain_settings, invoices):
    inv = invoices("FP-5")
    fps = registry.register_financing(session=session, settings=chain_settings,
                                      invoice_ids=[inv.id])
    session.execute(delete(Fingerprint))  # the commit never happened
    again = registry.register_financing(session=session, settings=chain_settings,
                                        invoice_ids=[inv.id])
    assert again == fps
    assert session.execute(select(func.count()).select_from(Fingerprint)).scalar_one() == 2


def test_orders_are_registered_too(session, embedded, chain_settings, make_firm):
    seller, buyer = make_firm(), make_firm(role="anchor")
    po = PurchaseOrder(buyer_id=buyer.id, seller_id=seller.id, number="PO-9",
                       amount_fen=1_000_00, order_date=date(2026, 2, 2))
    session.add(po)
    session.flush()
    fps = registry.register_financing(session=session, settings=chain_settings,
                                      order_ids=[po.id], financed_by="bank-a")
    row = session.scalars(select(Fingerprint).where(Fingerprint.fingerprint == fps[0])).one()
    assert (row.subject_type, row.subject_id, row.financed_by) == ("order", po.id, "bank-a")
