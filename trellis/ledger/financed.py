"""What a loan finances besides invoices and orders: parts of claims owned elsewhere.

A receivable loan may finance *parts* (today: voucher parts, ``voucher_fragments.id``,
kept in ``loan_applications.fragment_ids`` and ``loan_fragments``). The ledger does not
know what a part is; the package that owns them (``trellis.vouchers``, above the ledger)
implements :class:`Parts` and hands it over with :func:`provide` when it is imported.
Dependencies then point one way: vouchers import the ledger, never the reverse.

Amounts are integer fen; dates are calendar days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlmodel import Session

from trellis.errors import TrellisError
from trellis.ledger.models import Loan
from trellis.messages import N_, Message, msg


class NoPartsProvider(TrellisError):
    """Raised when parts are financed in a process where no package provided them."""


class Parts(Protocol):
    """The ledger's questions about financed parts, answered by their owner."""

    def eligible(self, session: Session, *, firm_id: int, ids: Sequence[int],
                 as_of: date) -> tuple[int, date]:
        """Check the parts can be financed by *firm_id* on *as_of*; return (their sum in
        fen, the latest day they are paid). Raises
        :class:`~trellis.ledger.errors.IneligibleDocument` naming the part otherwise."""

    def due(self, session: Session, ids: Sequence[int]) -> tuple[int, date]:
        """(Sum in fen, latest day paid) of parts already accepted for financing."""

    def name(self, session: Session, ident: int) -> Message:
        """Part *ident* as people name it in a message (its voucher, holder and amount)."""

    def covers_invoice(self, session: Session, invoice_id: int) -> bool:
        """Whether the invoice was turned into parts (then only its parts are financed)."""

    def covered_invoices(self, session: Session, invoice_ids: Sequence[int]) -> set[int]:
        """Those of *invoice_ids* turned into parts (one read, however many)."""

    def pledge(self, session: Session, *, loan: Loan, ids: Sequence[int],
               user_id: int | None) -> None:
        """Mark the parts financed by the newly accepted *loan* (flushes)."""

    def release(self, session: Session, *, loan: Loan) -> None:
        """Detach the parts of a *loan* cancelled before pay-out (flushes)."""


_provider: Parts | None = None


def provide(parts: Parts) -> None:
    """Hand the ledger the implementation of :class:`Parts` (the owner's import does)."""
    global _provider
    _provider = parts


def parts() -> Parts:
    """The provided :class:`Parts`; raises :class:`NoPartsProvider` when none was."""
    if _provider is None:
        raise NoPartsProvider(msg(N_("Voucher parts are not available in this process: import "
                                     "%(module)s."),
                                  module="trellis.vouchers"))
    return _provider
