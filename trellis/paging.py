"""One way to page, search and sort a list, for every list a person reads.

:func:`paginate` takes a SQLAlchemy ``select`` and what the reader asked (page, search
text, sort key, direction) and returns a :class:`Page`: the rows of that page, the total
count (of the whole filtered list, so a page can say "1-50 of 512"), and what it used.
Sort keys are names mapped to columns by the caller, so a request can only sort by what
the caller allows. The web layer renders a :class:`Page` with one Jinja macro
(``templates/_paging.html``). No Flask here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass
class Page:
    items: list
    total: int
    page: int = 1
    per_page: int = PER_PAGE
    q: str = ""
    sort: str = ""
    desc: bool = False
    sorts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """1-based position of the first row on this page (0 when empty)."""
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        """The 1-based position of the last row on this page."""
        return min(self.total, self.page * self.per_page)

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def clean(*, page=1, per_page=PER_PAGE, q="", sort="", desc=False,
          sorts: Sequence[str] = ()) -> dict:
    """Reader input made safe: whole numbers in range, a known sort key, short search."""
    try:
        page = max(1, int(page))
    except (TypeError, ValueError):
        page = 1
    try:
        per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
    except (TypeError, ValueError):
        per_page = PER_PAGE
    sort = sort if sort in sorts else (sorts[0] if sorts else "")
    desc = str(desc).lower() in ("1", "true", "desc", "yes")
    return {"page": page, "per_page": per_page, "q": str(q or "").strip()[:100],
            "sort": sort, "desc": desc}


def search_condition(q: str, columns: Sequence):
    """Any of *columns* holds *q* (case-insensitive substring; ``%``, ``_`` and ``\\`` in
    *q* are plain characters), as :func:`paginate` searches."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = "%" + escaped + "%"
    return or_(*[col.ilike(pattern, escape="\\") for col in columns])


def paginate(session, query, *, sort_columns: Mapping[str, Any],
             search_columns: Sequence = (), page=1, per_page=PER_PAGE, q="", sort="",
             desc=False, tiebreak=None, count_query=None, total: int | None = None) -> Page:
    """One page of *query* (a ``select``), searched (case-insensitive substring over
    *search_columns*), sorted by ``sort_columns[sort]`` (the first key by default) and
    *tiebreak*, with the total count of the searched list. A sort key maps to a column,
    or to a tuple of ``(column, descending)`` pairs (several columns, each in its own
    direction; the tiebreak follows the last one's).

    *count_query* (a ``select`` of one count) counts the unsearched list when the caller
    has a cheaper way than counting *query* (a count by an index of the base table where
    *query* joins names only for showing and searching); it must count the same rows.
    *total*: the count of the searched list when the caller has it already (read with
    other figures of the same rows in one aggregate): no count is read then."""
    args = clean(page=page, per_page=per_page, q=q, sort=sort, desc=desc,
                 sorts=tuple(sort_columns))
    if args["q"] and search_columns:
        query = query.where(search_condition(args["q"], search_columns))
    if total is None and count_query is not None and not (args["q"] and search_columns):
        total = int(session.execute(count_query).scalar_one())
    elif total is None:
        total = int(session.execute(select(func.count()).select_from(
            query.order_by(None).subquery())).scalar_one())
    pages = max(1, math.ceil(total / args["per_page"]))
    args["page"] = min(args["page"], pages)
    order = []
    last_desc = args["desc"]
    if args["sort"]:
        spec = sort_columns[args["sort"]]
        # a key may name several columns, each with its own direction: ((column,
        # descending), ...), all reversed when the reader asks for the reverse order
        for col, descending in (spec if isinstance(spec, tuple) else ((spec, False),)):
            last_desc = args["desc"] != descending
            order.append(col.desc() if last_desc else col.asc())
    if tiebreak is not None:   # rows that tie keep a stable order, in the same direction
        order.append(tiebreak.desc() if last_desc else tiebreak.asc())
    query = query.order_by(None).order_by(*order) if order else query
    rows = session.execute(query.offset((args["page"] - 1) * args["per_page"])
                           .limit(args["per_page"])).all()
    return Page(list(rows), total, args["page"], args["per_page"], args["q"], args["sort"],
                args["desc"], tuple(sort_columns))


def page_of(items: Sequence, *, page=1, per_page=PER_PAGE, q="", sort="", desc=False,
            sorts: Sequence[str] = ()) -> Page:
    """One page of a list already in memory (already searched and sorted by the caller
    with the cleaned *q*, *sort* and *desc* of :func:`clean`), with its total count."""
    args = clean(page=page, per_page=per_page, q=q, sort=sort, desc=desc, sorts=sorts)
    total = len(items)
    pages = max(1, math.ceil(total / args["per_page"]))
    args["page"] = min(args["page"], pages)
    start = (args["page"] - 1) * args["per_page"]
    return Page(list(items[start:start + args["per_page"]]), total, args["page"],
                args["per_page"], args["q"], args["sort"], args["desc"], tuple(sorts))
