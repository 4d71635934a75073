"""A holder's earlier voucher parts, one entry per voucher.

Every split closes a part and every transfer closes the part passed on, so a vendor that
splits a voucher ten times and passes some parts on has a dozen closed parts of one
voucher: listed one by one they filled the vouchers page's history on a phone and pushed
the rest down (reader Q12, tenth session). :func:`past_vouchers` gathers them per voucher,
with how many were passed on, split and paid, and keeps every part for a page to list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from trellis.vouchers.models import FragmentStatus, Voucher, VoucherFragment
from trellis.vouchers.services import LIVE


@dataclass(frozen=True)
class PastVoucher:
    """The closed parts one holder had of one voucher (newest first), and their tally."""

    voucher: Voucher
    parts: list[VoucherFragment]

    def _of(self, status: str) -> list[VoucherFragment]:
        return [p for p in self.parts if p.status == status]

    @property
    def passed_on(self) -> int:
        """How many parts the holder passed on to another firm."""
        return len(self._of(FragmentStatus.TRANSFERRED))

    @property
    def passed_on_fen(self) -> int:
        """What the parts passed on were worth, in fen."""
        return sum(p.amount_fen for p in self._of(FragmentStatus.TRANSFERRED))

    @property
    def split(self) -> int:
        """How many times the holder split a part of it."""
        return len(self._of(FragmentStatus.SPLIT))

    @property
    def settled_fen(self) -> int:
        """What the anchor paid the holder at maturity, in fen."""
        return sum(p.amount_fen for p in self._of(FragmentStatus.SETTLED))


def past_vouchers(*, session: Session, holder_id: int,
                  limit: int = 50) -> tuple[list[PastVoucher], int]:
    """The vouchers of which *holder_id* had parts now closed (split, passed on, paid),
    the latest closed first, at most *limit* (>= 1) of them, each with all its closed parts
    of this holder; and how many such vouchers there are in all."""
    closed = (col(VoucherFragment.holder_id) == holder_id,
              col(VoucherFragment.status).not_in(list(LIVE)))
    latest = (select(col(VoucherFragment.voucher_id), func.max(VoucherFragment.id))
              .where(*closed).group_by(col(VoucherFragment.voucher_id)))
    total = session.execute(select(func.count()).select_from(latest.subquery())).scalar_one()
    order = [vid for vid, _last in session.execute(
        latest.order_by(func.max(VoucherFragment.id).desc()).limit(max(1, limit)))]
    if not order:
        return [], int(total)
    parts: dict[int, list[VoucherFragment]] = {vid: [] for vid in order}
    for part in session.exec(select(VoucherFragment).where(
            *closed, col(VoucherFragment.voucher_id).in_(order))
            .order_by(col(VoucherFragment.id).desc())):
        parts[part.voucher_id].append(part)
    found = {v.id: v for v in session.exec(select(Voucher).where(col(Voucher.id).in_(order)))}
    return [PastVoucher(found[vid], parts[vid]) for vid in order], int(total)
