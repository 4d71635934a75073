"""The reader's paging, search and sort arguments from the query string."""

from __future__ import annotations

from flask import abort, request

from trellis import paging

#: The largest page number a list can have (a signed 64-bit offset).
MAX_PAGE = 2**63 - 1


def args() -> dict:
    """page, per_page, q, sort, desc from the URL (cleaned again by ``paging.paginate``)."""
    a = request.args
    page = a.get("page", "1")
    if page.strip().lstrip("+").isdigit() and int(page) > MAX_PAGE:
        abort(404)   # past any database's range: nothing is there (as for ids)
    return {"page": a.get("page", 1), "per_page": a.get("per_page", paging.PER_PAGE),
            "q": a.get("q", ""), "sort": a.get("sort", ""), "desc": a.get("desc", "")}


def kept() -> dict:
    """The reader's list state (search, sort, page) as given in the URL, to carry through a
    form's POST and its redirect so that an action or an error does not lose the list the
    reader was looking at. Only the arguments given (none is added as a default)."""
    return {k: v for k in ("q", "sort", "desc", "page", "per_page")
            if (v := request.args.get(k, "").strip())}
