"""Links to the rows of a list: ``url_for`` once, then each row's id written in its place.

A list of fifty rows that links each row to its page called ``url_for`` fifty times, and
Werkzeug builds every link anew through the routing map (a tenth of the anchor's queue
page). :func:`row_links` builds the URL once with a marker where the id goes and returns a
function that writes a row's id there: the same text ``url_for`` gives.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for

# Where the row's id goes; a number no id and no other part of a URL holds.
_MARK = "9007199254740993"


def row_links(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """A function of a row's id (a whole number) giving ``url_for(endpoint, **values,
    <key>=id)``. *key* names the rule's ``<int:...>`` part; when the marker cannot be
    found once in the built URL, each link is built by ``url_for``."""
    probe = url_for(endpoint, **values, **{key: int(_MARK)})
    before, found, after = probe.partition(_MARK)
    if not found or _MARK in after:
        return lambda row_id: url_for(endpoint, **values, **{key: row_id})
    return lambda row_id: f"{before}{int(row_id)}{after}"


def install(app) -> None:
    """Give every template ``row_links``."""
    app.jinja_env.globals["row_links"] = row_links
