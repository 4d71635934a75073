"""A firm's own figures for its page: monthly sales and purchases from its invoices."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlmodel import Session, col

from trellis import clock
from trellis.messages import N_, msg
from trellis.network.errors import FirmNotFound
from trellis.trade.models import DocStatus, Firm, Invoice


def _month_start(d: date, back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def monthly_flows(*, session: Session, firm_id: int, as_of: date | None = None,
                  months: int = 18) -> list[dict]:
    """Invoiced sales and purchases (int fen) per calendar month, oldest first, for the
    *months* months ending with *as_of*'s month. Rejected invoices are left out.

    Returns ``[{"month": "2026-01", "sales_fen": ..., "purchases_fen": ...}, ...]``.
    Raises :class:`FirmNotFound`.
    """
    if session.get(Firm, firm_id) is None:
        raise FirmNotFound(msg(N_("There is no firm with id %(firm_id)s."), firm_id=firm_id))
    as_of = as_of or clock.today()
    start = _month_start(as_of, months - 1)
    rows = session.execute(
        select(col(Invoice.seller_id), col(Invoice.amount_fen), col(Invoice.issue_date))
        .where(or_(col(Invoice.seller_id) == firm_id, col(Invoice.buyer_id) == firm_id),
               col(Invoice.issue_date) >= start, col(Invoice.issue_date) <= as_of,
               col(Invoice.status) != DocStatus.REJECTED.value)).all()
    keys = [_month_start(as_of, back).strftime("%Y-%m") for back in range(months - 1, -1, -1)]
    table = {k: {"month": k, "sales_fen": 0, "purchases_fen": 0} for k in keys}
    for seller_id, amount, issued in rows:
        entry = table[issued.strftime("%Y-%m")]
        entry["sales_fen" if seller_id == firm_id else "purchases_fen"] += amount
    return [table[k] for k in keys]
