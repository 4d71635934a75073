"""Journal entries as values: validation, hashing, reversal (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from trellis.ledger.chart import CHART, Acct, Kind, account
from trellis.ledger.errors import UnbalancedEntry, UnknownAccount
from trellis.ledger.journal import Entry, EntryKind, Posting, entry_hash, reversal_of, validate

D1, D2 = date(2026, 1, 1), date(2026, 1, 2)


def entry(*postings, key="k1", value_date=D1):
    return Entry(kind=EntryKind.REPAYMENT, value_date=value_date, idempotency_key=key,
                 postings=tuple(postings))


def test_balanced_entry_is_valid():
    e = entry(Posting(Acct.CASH, 500), Posting(Acct.LOANS, -300),
              Posting(Acct.INTEREST_RECEIVABLE, -200))
    assert validate(e) is e
    assert all(p.value_date == D1 for p in e.dated_postings())


@pytest.mark.parametrize("postings, message", [
    ((Posting(Acct.CASH, 100), Posting(Acct.LOANS, -99)), "does not balance"),
    ((Posting(Acct.CASH, 100),), "at least two"),
    ((Posting(Acct.CASH, 0), Posting(Acct.LOANS, 0)), "non-zero"),
    ((Posting(Acct.CASH, 1.5), Posting(Acct.LOANS, -1.5)), "whole fen"),
    ((Posting(Acct.CASH, 100, None, D1), Posting(Acct.LOANS, -100, None, D2)),
     "does not balance"),
])
def test_malformed_entries_are_refused(postings, message):
    with pytest.raises(UnbalancedEntry, match=message):
        validate(entry(*postings))


def test_unknown_account_is_refused():
    with pytest.raises(UnknownAccount):
        validate(entry(Posting("9999", 1), Posting(Acct.CASH, -1)))


def test_postings_on_two_dates_balance_per_date():
    e = entry(Posting(Acct.INTEREST_RECEIVABLE, 7, 1, D1),
              Posting(Acct.INTEREST_INCOME, -7, 1, D1),
              Posting(Acct.INTEREST_RECEIVABLE, -3, 1, D2),
              Posting(Acct.INTEREST_INCOME, 3, 1, D2))
    assert validate(e) is e


def test_reversal_negates_every_posting_on_its_date():
    e = entry(Posting(Acct.CASH, 100, 7, D2), Posting(Acct.LOANS, -100, 7, D2),
              Posting(Acct.INTEREST_RECEIVABLE, 5, 7), Posting(Acct.INTEREST_INCOME, -5, 7))
    r = reversal_of(e, entry_id=42, idempotency_key="rev")
    assert r.reverses_id == 42 and r.kind is EntryKind.REVERSAL
    assert sorted((p.account, p.amount_fen, p.value_date) for p in r.postings) == sorted(
        (p.account, -p.amount_fen, p.value_date) for p in e.dated_postings())
    validate(r)


BASE = dict(prev_hash="0" * 64, seq=1, currency="CNY", kind="repayment",
            idempotency_key="k", value_date=D1, loan_id=3, reverses_id=None, memo="m",
            postings=[("1002", 3, D1, 100), ("1303", 3, D1, -100)])


def test_hash_does_not_depend_on_posting_order():
    swapped = dict(BASE, postings=list(reversed(BASE["postings"])))
    assert entry_hash(**BASE) == entry_hash(**swapped)


@pytest.mark.parametrize("change", [
    {"prev_hash": "1" * 64}, {"seq": 2}, {"kind": "accrual"}, {"idempotency_key": "k2"},
    {"value_date": D2}, {"loan_id": 4}, {"reverses_id": 1}, {"memo": "n"},
    {"postings": [("1002", 3, D1, 101), ("1303", 3, D1, -101)]},
    {"postings": [("1002", 3, D2, 100), ("1303", 3, D1, -100)]},
    {"postings": [("1002", None, D1, 100), ("1303", 3, D1, -100)]},
])
def test_hash_covers_every_field(change):
    assert entry_hash(**BASE) != entry_hash(**dict(BASE, **change))


@pytest.mark.parametrize("code, sign", [
    (Acct.CASH, 1), (Acct.LOANS, 1), (Acct.WRITE_OFF_EXPENSE, 1), (Acct.LOSS_ALLOWANCE, -1),
    (Acct.VENDOR_PAYABLE, -1), (Acct.INTEREST_INCOME, -1), (Acct.RECOVERIES, -1),
])
def test_natural_sign_of_accounts(code, sign):
    assert account(code).sign == sign


def test_chart_has_every_required_account_once():
    codes = [a.code for a in CHART]
    assert len(codes) == len(set(codes)) == len(Acct)
    assert {a.kind for a in CHART} == set(Kind)
