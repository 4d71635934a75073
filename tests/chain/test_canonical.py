"""Canonical forms: fixed field order, integer fen, ISO dates, normalised USCCs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from trellis.chain import canonical
from trellis.chain.errors import CanonicalFormError
from trellis.trade import uscc

SELLER = uscc.make("91330100MA0000001")
BUYER = uscc.make("91330100MA0000002")


def invoice(**changes):
    payload = {"seller_uscc": SELLER, "buyer_uscc": BUYER, "number": "INV-001",
               "amount_fen": 1_234_567, "issue_date": date(2026, 3, 1),
               "due_date": date(2026, 5, 1), "order_number": None}
    payload.update(changes)
    return payload


def test_invoice_has_fixed_field_order_and_plain_values():
    data = canonical.canonical_bytes("invoice", dict(reversed(list(invoice().items()))))
    assert data == (
        f'{{"doc_type":"invoice","seller_uscc":"{SELLER}","buyer_uscc":"{BUYER}",'
        '"number":"INV-001","amount_fen":1234567,"issue_date":"2026-03-01",'
        '"due_date":"2026-05-01","order_number":null}').encode()


@pytest.mark.parametrize("changes, same", [
    ({"seller_uscc": " " + SELLER.lower()[:9] + " " + SELLER.lower()[9:]}, True),
    ({"number": " INV-001 "}, True),
    ({"issue_date": "2026-03-01"}, True),
    ({"number": "INV-002"}, False),
    ({"amount_fen": 1_234_568}, False),
    ({"due_date": date(2026, 5, 2)}, False),
])
def test_normalisation_keeps_equal_documents_equal(changes, same):
    a = canonical.canonical_bytes("invoice", invoice())
    b = canonical.canonical_bytes("invoice", invoice(**changes))
    assert (a == b) is same


@pytest.mark.parametrize("changes, field", [
    ({"amount_fen": 12345.67}, "amount_fen"),
    ({"amount_fen": Decimal("12345")}, "amount_fen"),
    ({"amount_fen": True}, "amount_fen"),
    ({"amount_fen": -1}, "amount_fen"),
    ({"seller_uscc": SELLER[:17] + ("0" if SELLER[17] != "0" else "1")}, "seller_uscc"),
    ({"issue_date": "1 March 2026"}, "issue_date"),
    ({"colour": "red"}, "colour"),
])
def test_bad_payloads_are_refused_naming_the_field(changes, field):
    with pytest.raises(CanonicalFormError) as err:
        canonical.canonical_bytes("invoice", invoice(**changes))
    assert err.value.field == field


def test_missing_field_is_named():
    payload = invoice()
    del payload["due_date"]
    with pytest.raises(CanonicalFormError, match="due_date"):
        canonical.canonical_bytes("invoice", payload)


def test_confirmation_time_is_utc_seconds():
    shanghai = timezone(timedelta(hours=8))
    payload = {"subject": "invoice", "seller_uscc": SELLER, "buyer_uscc": BUYER,
               "number": "A1", "amount_fen": 100, "decision": "confirmed",
               "confirmed_at": datetime(2026, 3, 2, 9, 30, 15, 999, tzinfo=shanghai)}
    obj = json.loads(canonical.canonical_bytes("confirmation", payload))
    assert obj["confirmed_at"] == "2026-03-02T01:30:15Z"


def test_generic_types_sort_keys_and_refuse_floats():
    data = canonical.canonical_bytes("ledger_entry", {
        "z": 1, "amount_fen": 500, "rate": Decimal("0.0650"), "memo": "利息 ",
        "on": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "lines": [{"b": 2, "a": 1}]})
    assert data.decode() == (
        '{"doc_type":"ledger_entry","amount_fen":500,"at":"2026-01-02T03:04:05Z",'
        '"lines":[{"a":1,"b":2}],"memo":"利息","on":"2026-01-02","rate":"0.0650","z":1}')
    with pytest.raises(CanonicalFormError, match="float"):
        canonical.canonical_bytes("ledger_entry", {"x": 0.1})
    with pytest.raises(CanonicalFormError):
        canonical.canonical_bytes("Ledger Entry", {})


def test_content_hash_is_what_sha256sum_prints(tmp_path):
    data = canonical.canonical_bytes("invoice", invoice(number="发票-7"))
    digest = canonical.content_hash(data)
    assert digest == hashlib.sha256(data).hexdigest()
    doc_type, payload = canonical.parse(data)
    assert (doc_type, payload["number"], payload["amount_fen"]) == ("invoice", "发票-7",
                                                                    1_234_567)
    if shutil.which("sha256sum"):
        path = tmp_path / "invoice.json"
        path.write_bytes(data)
        out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                             check=True).stdout
        assert out.split()[0] == digest


def test_parse_refuses_a_document_not_in_canonical_form():
    data = canonical.canonical_bytes("invoice", invoice())
    spaced = json.dumps(json.loads(data), indent=1).encode()
    with pytest.raises(CanonicalFormError, match="canonical"):
        canonical.parse(spaced)
