"""A firm's declared tax: the one source the pages, the screens and the scorer read.

What a firm declared to the tax bureau arrives in two stores: rows of ``tax_filings`` (the
tax filings import: one filing, its period as dates) and the figures on the firm record
(``Firm.tax_vat_sales_fen``, ``tax_paid_fen``, ``tax_period`` as text such as "2025" or
"2025Q3": the firms import and the demo). Pages once read one store and the scorer the
other, so a firm showed "no tax data" on one page and its declared sales on the next.

:func:`declared` chooses once: the latest filing whose period ended before *as_of*, else
the firm record's figure. Each answer says which store it came from (``source``), so a
page can label it as what it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from trellis.trade.models import Firm, TaxFiling

IN_CHUNK = 900

FILING = "filing"  #: a row of ``tax_filings``
FIRM_RECORD = "firm_record"  #: the figures on the firm record (firms import, demo)


@dataclass(frozen=True)
class Declared:
    """One declared VAT figure of a firm.

    ``start`` is the period's first day and ``end`` the day after its last (None both when
    the firm record's period text cannot be read); ``period`` the period as written (a
    filing's as ``first~last`` day); money in fen."""

    firm_id: int
    source: str
    vat_sales_fen: int
    tax_paid_fen: int | None
    period: str
    start: date | None
    end: date | None

    def ended_by(self, as_of: date) -> bool:
        """Whether the period is known and over before *as_of* (its sales all dated before)."""
        return self.end is not None and self.end <= as_of

    @property
    def months(self) -> int | None:
        """Whole calendar months the period spans (its length for the filing periods, which
        start on a month's first day), None when unknown."""
        if self.start is None or self.end is None:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month


_MONTH = r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?"


def _add_months(d: date, months: int) -> date:
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


def period_bounds(text) -> tuple[date, date] | None:
    """The period a firm record's tax figure covers, as [start, end): a year ("2025",
    "2025年"), a quarter ("2025Q3", "2025-Q3", "2025年第3季度"), a month ("2025-06",
    "202506", "2025年6月") or a range of months ("2025-01~2025-06", "2025-01至2025-06").
    ``None`` when the text says none of these."""
    if text is None or not isinstance(text, str):
        return None
    t = text.strip().upper().replace("－", "-").replace("～", "~")
    m = re.fullmatch(r"(\d{4})\s*年?(?:度)?", t)
    if m:
        y = int(m.group(1))
        return date(y, 1, 1), date(y + 1, 1, 1)
    m = re.fullmatch(r"(\d{4})\s*(?:-?\s*Q|年第|年)\s*([1-4])\s*(?:季度)?", t)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        start = date(y, 3 * q - 2, 1)
        return start, _add_months(start, 3)
    m = re.fullmatch(_MONTH + r"\s*(?:~|至|到|TO|--|—)\s*" + _MONTH, t)
    if m:
        y1, m1, y2, m2 = (int(x) for x in m.groups())
        if 1 <= m1 <= 12 and 1 <= m2 <= 12 and (y1, m1) <= (y2, m2):
            return date(y1, m1, 1), _add_months(date(y2, m2, 1), 1)
        return None
    m = re.fullmatch(_MONTH, t)
    if m and 1 <= int(m.group(2)) <= 12:
        start = date(int(m.group(1)), int(m.group(2)), 1)
        return start, _add_months(start, 1)
    return None


def _chunks(ids: list[int]):
    for i in range(0, len(ids), IN_CHUNK):
        yield ids[i:i + IN_CHUNK]


def declared(*, session: Session, firm_ids, as_of: date | None = None,
             records: Mapping[int, tuple] | None = None) -> dict[int, Declared]:
    """Firm id -> its declared tax (firms with none absent).

    The latest filing whose period ended before *as_of* (any, without *as_of*) wins: a
    filing states its period as dates. A firm without one gives the figure on its record,
    whatever its period (read :meth:`Declared.ended_by` before comparing sales with it).
    Two queries per 900 firms; one when the caller read the firm records' tax columns
    already and passes them as *records* (firm id -> (``tax_vat_sales_fen``,
    ``tax_paid_fen``, ``tax_period``), each None when empty, for every firm of
    *firm_ids*)."""
    ids = sorted({int(f) for f in firm_ids})
    out: dict[int, Declared] = {}
    for chunk in _chunks(ids):
        q = select(TaxFiling).where(col(TaxFiling.firm_id).in_(chunk))
        if as_of is not None:
            q = q.where(col(TaxFiling.period_end) < as_of)
        for f in session.execute(q.order_by(col(TaxFiling.period_end),
                                            col(TaxFiling.id))).scalars():
            out[f.firm_id] = Declared(  # the latest wins
                f.firm_id, FILING, int(f.vat_sales_fen),
                None if f.tax_paid_fen is None else int(f.tax_paid_fen),
                f"{f.period_start.isoformat()}~{f.period_end.isoformat()}",
                f.period_start, f.period_end + timedelta(days=1))
        if records is None:
            rows: Iterable[tuple] = session.execute(
                select(col(Firm.id), col(Firm.tax_vat_sales_fen), col(Firm.tax_paid_fen),
                       col(Firm.tax_period))
                .where(col(Firm.id).in_([i for i in chunk if i not in out]),
                       col(Firm.tax_vat_sales_fen).is_not(None))).tuples()
        else:
            rows = [(i, *records[i]) for i in chunk
                    if i not in out and records[i][0] is not None]
        for fid, sales, paid, period in rows:
            bounds = period_bounds(period)
            out[int(fid)] = Declared(int(fid), FIRM_RECORD, int(sales),
                                     None if paid is None else int(paid), period or "",
                                     *(bounds or (None, None)))
    return out
