"""How people name a voucher part: one rule and one set of words, on every page.

Two functions once named a part: one for refusals and tooltips ("the part of voucher V...
worth ¥x held by <firm>"), one for tables ("V... 第 7 号", 7 being the database id), so the
reader met two names for one thing and numbers that jumped (第 4127 号 beside 第 4131 号).

A part's *number* is its place in its voucher: 1 for the whole the anchor issued, then
each part in the order a split or a passing-on made it. Parts are never deleted nor
renumbered (:mod:`trellis.vouchers.models`), so the number is stable and the same for the
vendor, the anchor and the bank. :func:`part_numbers` gives it; :func:`part_names` gives
the name, short ("V2612070015881 No. 3", for a table or a link) or, with ``detail``, with
the part's amount and holder (for a refusal or a tooltip). Both read many parts in a
fixed number of statements.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.messages import N_, Ident, Message, Money, msg
from trellis.trade.models import Firm
from trellis.vouchers.models import Voucher, VoucherFragment


def part_numbers(session: Session, fragment_ids: Iterable[int]) -> dict[int, int]:
    """Fragment id -> its place in its voucher (1 for the issued whole), for each of
    *fragment_ids* that exists; one statement."""
    ids = sorted({int(i) for i in fragment_ids})
    if not ids:
        return {}
    place = (select(col(VoucherFragment.id).label("id"),
                    func.row_number().over(partition_by=col(VoucherFragment.voucher_id),
                                           order_by=col(VoucherFragment.id)).label("n"))
             .where(col(VoucherFragment.voucher_id).in_(
                 select(col(VoucherFragment.voucher_id))
                 .where(col(VoucherFragment.id).in_(ids))))
             .subquery())
    return {int(i): int(n) for i, n in session.execute(
        select(place.c.id, place.c.n).where(place.c.id.in_(ids)))}


def part_names(session: Session, fragment_ids: Iterable[int], *,
               detail: bool = False) -> dict[int, Message]:
    """Fragment id -> the part's name for people: its voucher's code and its number
    ("V2612070015881 No. 3"); with *detail*, also its amount in yuan and its holder
    ("V2612070015881 No. 3 (¥40,000.00, held by <firm>)"). A fragment that does not
    exist is named by what was asked for ("voucher part 12"), never invented."""
    ids = list(dict.fromkeys(int(i) for i in fragment_ids))
    numbers = part_numbers(session, ids)
    rows = {f.id: (f, code, holder) for f, code, holder in session.execute(
        select(VoucherFragment, col(Voucher.code), col(Firm.name))
        .join(Voucher, col(Voucher.id) == VoucherFragment.voucher_id)
        .outerjoin(Firm, col(Firm.id) == VoucherFragment.holder_id)
        .where(col(VoucherFragment.id).in_(ids)))} if ids else {}
    out: dict[int, Message] = {}
    for ident in ids:
        if ident not in rows:
            out[ident] = msg(N_("voucher part %(part)s"), part=Ident(ident))
            continue
        frag, code, holder = rows[ident]
        short = msg(N_("%(code)s No. %(n)s"), code=code, n=Ident(numbers[ident]))
        out[ident] = msg(N_("%(name)s (%(amount)s, held by %(holder)s)"), name=short,
                         amount=Money(frag.amount_fen),
                         holder=holder or frag.holder_id) if detail else short
    return out


def part_name(session: Session, ident: int, *, detail: bool = True) -> Message:
    """:func:`part_names` of one part (detailed unless told otherwise)."""
    return part_names(session, [ident], detail=detail)[ident]
