"""URL converters: ``<int:...>`` accepts only ids the database can hold.

Werkzeug's integer converter takes any number of digits; a 20-digit id then fails in the
database driver (SQLite: OverflowError) with a 500. This converter refuses values above
the largest 64-bit signed integer, so such a URL simply matches no route: 404.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
