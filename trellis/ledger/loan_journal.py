"""A loan's journal as a clerk reads it: every entry, with daily interest summed by period.

Interest is booked day by day: an accrual entry a day, and a payment books the interest
from the last booked day to its own date inside the repayment entry (one posting a day).
Listed posting by posting, a loan's journal is hundreds of lines of 应收利息 / 利息收入
typed as the entry they sit in (a repayment), which reads as if the borrower paid every
day. Here:

- consecutive accrual entries of the loan make one group (kind ``accrual``, entries
  ``seq_from`` to ``seq_to``);
- within a group, the postings of one account in one direction are one line, with the
  first and last value date and the total (``days`` > 1: a sum over days);
- a repayment's own interest-to-date postings (debits to a receivable of interest or
  penalty, credits to its income) become such lines marked ``interest_to_date``.

Every group balances as its entries do (the lines are sums of the same postings). Amounts
in integer fen, debit positive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from trellis.ledger.chart import COMPONENTS
from trellis.ledger.journal import EntryKind
from trellis.ledger.models import JournalEntry, JournalPosting, LedgerAccount

#: daily interest is booked as a debit to a receivable and a credit to its income account
ACCRUAL_DEBITS = frozenset(COMPONENTS[c][0].value for c in ("interest", "penalty"))
ACCRUAL_CREDITS = frozenset(COMPONENTS[c][1].value for c in ("interest", "penalty"))


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One line of a loan's journal: the sum of one account's postings in one direction
    in a group of entries (fen, debit positive)."""

    seq_from: int
    seq_to: int
    kind: str              # the entries' EntryKind value
    code: str
    name: str
    name_zh: str
    value_from: date
    value_to: date
    days: int              # distinct value dates summed into the line
    amount_fen: int
    entries: int = 1       # entries in the line's group
    interest_to_date: bool = False   # a payment's interest booked up to its own date


def loan_journal(*, session: Session, loan_id: int) -> list[JournalLine]:
    """Loan *loan_id*'s postings as :class:`JournalLine` rows, in entry order."""
    rows = session.execute(
        select(col(JournalEntry.seq), col(JournalEntry.kind), col(JournalEntry.value_date),
               col(JournalPosting.value_date), col(LedgerAccount.code),
               col(LedgerAccount.name), col(LedgerAccount.name_zh),
               col(JournalPosting.amount_fen))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
        .join(LedgerAccount, col(LedgerAccount.id) == col(JournalPosting.account_id))
        .where(col(JournalPosting.loan_id) == loan_id)
        .order_by(col(JournalEntry.seq), col(JournalPosting.id))).all()
    groups: list[list[Any]] = []
    for row in rows:
        seq, kind = row[0], row[1]
        last = groups[-1] if groups else None
        same_entry = last is not None and last[-1][0] == seq
        accrual_run = (last is not None and kind == EntryKind.ACCRUAL.value
                       and last[-1][1] == EntryKind.ACCRUAL.value)
        if last is not None and (same_entry or accrual_run):
            last.append(row)
        else:
            groups.append([row])
    return [line for group in groups for line in _lines(group)]


def _lines(group: Iterable[Any]) -> list[JournalLine]:
    group = list(group)
    seqs = [r[0] for r in group]
    kind = group[0][1]
    summed: dict[tuple[Any, ...], list[Any]] = {}
    for _seq, _kind, entry_day, day, code, name, name_zh, amount in group:
        day = day or entry_day
        catch_up = kind != EntryKind.ACCRUAL.value and (
            (code in ACCRUAL_DEBITS and amount > 0) or (code in ACCRUAL_CREDITS and amount < 0))
        key = (code, amount > 0, catch_up)
        found = summed.setdefault(key, [name, name_zh, day, day, set(), 0])
        found[2], found[3] = min(found[2], day), max(found[3], day)
        found[4].add(day)
        found[5] += int(amount)
    return [JournalLine(seq_from=min(seqs), seq_to=max(seqs), kind=kind, code=code,
                        name=name, name_zh=name_zh, value_from=first, value_to=last,
                        days=len(days), amount_fen=total, entries=len(set(seqs)),
                        interest_to_date=catch_up)
            for (code, _debit, catch_up), (name, name_zh, first, last, days, total)
            in summed.items() if total]
