"""Journal entries as immutable values, their validation and their hash.

A :class:`Posting` moves ``amount_fen`` (an ``int``; debit positive, credit negative) into
one account of the chart, optionally for one loan (the loan-level sub-ledger) and with a
*value date*: the business date the movement belongs to. An :class:`Entry` groups two or
more postings that sum to zero on every value date (so the trial balance balances at any
date) and carries a unique idempotency key: posting the same key twice posts once.

Entries are never changed or deleted. A correction is a new entry: :func:`reversal_of`
builds the exact opposite of an entry; a back-dated repayment posts the difference between
what was booked and what a replay of the loan says should have been booked, each posting
on its own value date.

Hash chain. Entries are split into shards (see :mod:`trellis.ledger.posting`), each its
own chain. Entry number ``seq`` (1, 2, 3, ... per currency and shard) stores
``hash = sha256(prev_hash, canonical header, canonical postings)`` where ``prev_hash`` is
the hash of entry ``seq - 1`` of the same shard (64 zeros for the first). Changing,
inserting or removing any past entry changes every later hash of its shard, so anchoring
each shard's latest hash on chain fixes the whole history. The canonical form sorts
postings by (account, loan, value date, amount), so it does not depend on row order; the
posting time is not covered (clocks differ), the value date is.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from trellis.ledger.chart import BY_CODE, Acct
from trellis.ledger.errors import UnbalancedEntry, UnknownAccount
from trellis.messages import N_, msg

GENESIS_HASH = "0" * 64
HASH_VERSION = "trellis-ledger-v1"

#: A posting as :func:`entry_hash` reads it: (account code, loan id or None, value date
#: or its ISO string, amount fen).
HashRow = tuple[str, int | None, date | str, int]


class EntryKind(enum.StrEnum):
    DISBURSEMENT = "disbursement"   # principal out, fee charged
    ACCRUAL = "accrual"             # daily interest and penalty interest (all loans)
    REPAYMENT = "repayment"         # money in, allocated by the waterfall (and any
                                    # re-computation a back-dated payment causes)
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"
    PROVISION = "provision"         # loss allowance movements
    PAYOUT = "payout"               # surplus paid out to a vendor
    REVERSAL = "reversal"           # the exact opposite of an earlier entry


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: ``amount_fen`` > 0 debits, < 0 credits ``account``."""

    account: Acct
    amount_fen: int
    loan_id: int | None = None
    value_date: date | None = None   # None: the entry's value date

    def on(self, value_date: date) -> Posting:
        """This posting, dated *value_date* unless it carries its own value date."""
        return self if self.value_date is not None else replace(self, value_date=value_date)


@dataclass(frozen=True, slots=True)
class Entry:
    """A balanced set of postings, identified by its idempotency key."""

    kind: EntryKind
    value_date: date
    idempotency_key: str
    postings: tuple[Posting, ...]
    currency: str = "CNY"
    loan_id: int | None = None
    memo: str = ""
    reverses_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def dated_postings(self) -> tuple[Posting, ...]:
        """The postings with every value date filled in."""
        return tuple(p.on(self.value_date) for p in self.postings)


def validate(entry: Entry) -> Entry:
    """Return *entry* if it is well formed, else raise.

    Raises :class:`UnbalancedEntry` when it has fewer than two postings, a zero or
    non-integer amount, or postings that do not sum to zero on some value date;
    :class:`UnknownAccount` for an account outside the chart.
    """
    postings = entry.dated_postings()
    if len(postings) < 2:
        raise UnbalancedEntry(msg(N_("Entry %(idempotency_key)s needs at least two postings."),
                                  idempotency_key=entry.idempotency_key))
    if not entry.idempotency_key or len(entry.idempotency_key) > 160:
        raise UnbalancedEntry(N_("An entry needs an idempotency key of 1 to 160 characters."))
    per_date: dict[date, int] = defaultdict(int)
    for p in postings:
        if str(p.account) not in BY_CODE:
            raise UnknownAccount(msg(N_("Account %(account)s is not in the chart of accounts."),
                                     account=p.account))
        if type(p.amount_fen) is not int or p.amount_fen == 0:
            raise UnbalancedEntry(
                msg(N_("Entry %(idempotency_key)s: amounts must be non-zero whole fen, "
                       "not %(value)s."),
                    idempotency_key=entry.idempotency_key, value=repr(p.amount_fen)))
        assert p.value_date is not None   # dated_postings() dated every posting
        per_date[p.value_date] += p.amount_fen
    off = {d: s for d, s in per_date.items() if s}
    if off:
        detail = ", ".join(f"{d}: {s:+d} fen" for d, s in sorted(off.items()))
        raise UnbalancedEntry(
            msg(N_("Entry %(idempotency_key)s does not balance (%(detail)s)."),
                idempotency_key=entry.idempotency_key, detail=detail))
    return entry


def net(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """Merge postings with the same (account, loan, value date); drop zero sums."""
    sums: dict[tuple[Acct, int | None, date | None], int] = defaultdict(int)
    for p in postings:
        sums[(p.account, p.loan_id, p.value_date)] += p.amount_fen
    return tuple(Posting(a, amt, loan, vd) for (a, loan, vd), amt in sums.items() if amt)


def reversal_of(entry: Entry, *, entry_id: int, idempotency_key: str,
                memo: str = "") -> Entry:
    """The exact opposite of *entry* (stored with row id *entry_id*): every posting
    negated, on its original value date."""
    return Entry(kind=EntryKind.REVERSAL, value_date=entry.value_date,
                 idempotency_key=idempotency_key,
                 postings=tuple(Posting(p.account, -p.amount_fen, p.loan_id, p.value_date)
                                for p in entry.dated_postings()),
                 currency=entry.currency, loan_id=entry.loan_id,
                 memo=memo or f"Reversal of entry {entry_id}", reverses_id=entry_id)


def entry_label(seq: int, shard: int = 0) -> str:
    """How messages name entry number *seq* of shard *shard*'s chain: ``Entry 12`` (shard
    0, the only one before sharding) or ``Entry 12 of shard 3``."""
    return f"Entry {seq}" if shard == 0 else f"Entry {seq} of shard {shard}"


# --- hashing --------------------------------------------------------------------------

def entry_hash(*, prev_hash: str, seq: int, currency: str, kind: str,
               idempotency_key: str, value_date: date, loan_id: int | None,
               reverses_id: int | None, memo: str,
               postings: Iterable[HashRow], presorted: bool = False, shard: int = 0) -> str:
    """The SHA-256 (hex, lower case) of an entry's canonical form.

    *postings* are (account code, loan id or None, value date, amount fen) tuples in any
    order (or already in canonical order with *presorted*, which skips the sort). The same
    function hashes at posting time and at verification time. *shard* (0 to the number of
    shards - 1) is hashed into the header unless it is 0, so that shard 0 hashes exactly
    as the single chain did before sharding and its anchored history still verifies.
    """
    h = hashlib.sha256()
    h.update(f"{HASH_VERSION}\n{prev_hash}\n".encode())
    header = [seq, currency, str(kind), idempotency_key, value_date.isoformat(),
              loan_id, reverses_id, memo]
    if shard:
        header.append(shard)
    h.update(json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode())
    h.update(b"\n")
    rows = [(str(a), lo, vd.isoformat() if isinstance(vd, date) else str(vd), amt)
            for a, lo, vd, amt in postings]
    if not presorted:
        rows.sort(key=lambda r: (r[0], -1 if r[1] is None else r[1], r[2], r[3]))
    h.update("".join([f"{a}|{'' if lo is None else lo}|{vd}|{amt}\n"
                      for a, lo, vd, amt in rows]).encode())
    return h.hexdigest()
