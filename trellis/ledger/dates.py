"""Business dates the ledger accepts: strictly ``YYYY-MM-DD``, never in the future.

Python's :meth:`date.fromisoformat` also reads ``20261201`` and ``2026-W48-2``;
:func:`parse_date` accepts only the calendar form people and ERPs mean. A value date after
today would book interest and penalty in advance (and the daily job would book days that
have not happened), so :func:`check_not_future` refuses it. Both raise
:class:`~trellis.ledger.errors.BadDate` naming the field.
"""

from __future__ import annotations

import re
from datetime import date

from trellis import clock
from trellis.ledger.errors import BadDate
from trellis.messages import N_, msg

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(raw: object, *, field: str) -> date:
    """*raw* as a date: a ``date`` or a string ``YYYY-MM-DD``; anything else raises."""
    if type(raw) is date:
        return raw
    if isinstance(raw, str) and ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise BadDate(msg(N_("%(field)s must be a date written YYYY-MM-DD."), field=field), field=field)


def check_not_future(value: date, *, today: date | None = None, field: str) -> date:
    """*value* unless it is after *today* (default: the date today)."""
    if type(value) is not date:
        raise BadDate(msg(N_("%(field)s must be a date written YYYY-MM-DD."),
                          field=field), field=field)
    today = today or clock.today()
    if value > today:
        raise BadDate(msg(N_("%(field)s cannot be in the future (after %(day)s)."),
                          field=field, day=today),
                      field=field, future=True)
    return value
