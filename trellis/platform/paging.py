"""The reader's paging, search and sort arguments from the query string."""

from __future__ import annotations

from flask import request

from trellis import paging


def args() -> dict:
    """page, per_page, q, sort, desc from the URL (cleaned again by ``paging.paginate``)."""
    a = request.args
    return {"page": a.get("page", 1), "per_page": a.get("per_page", paging.PER_PAGE),
            "q": a.get("q", ""), "sort": a.get("sort", ""), "desc": a.get("desc", "")}
