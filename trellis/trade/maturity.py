"""When an invoice can still be financed, by its due date: the one rule.

A receivable is financed until it is due: an advance against an invoice the buyer should
already have paid has nothing left to wait for (the ledger refuses it as "already due",
the apply page leaves it out). Trade entry still records such an invoice, since it is
trade history that scoring reads, and says plainly that it cannot be financed (reader 11,
F1: it was saved under a green "saved" banner). The vendor's invoice list marks an invoice
past due in words (reader 13, H10: the list did not, while the entry page warned).
"""

from __future__ import annotations

from datetime import date

from trellis.messages import N_, Message, msg


def is_due(due_date: date, on: date) -> bool:
    """Whether an invoice due on *due_date* is due on *on* (that day or later): it can no
    longer be financed."""
    return due_date <= on


def unfinanceable_because_due(due_date: date, on: date) -> Message | None:
    """Why an invoice due on *due_date* cannot be financed on *on* (past due, or due that
    very day), or None while it still can be."""
    if not is_due(due_date, on):
        return None
    if due_date == on:
        return msg(N_("It is due today, so it cannot be financed."))
    return msg(N_("It was due on %(due)s: it is past due and cannot be financed."),
               due=due_date)


def is_past_due(due_date: date, on: date, open_fen: int) -> bool:
    """Whether an invoice due on *due_date* with *open_fen* (fen) still unpaid is past due
    on *on*: its due date has gone by (the day after it, see :func:`is_due`) and it is not
    fully paid."""
    return open_fen > 0 and due_date < on
