"""JSON from outside (request bodies, uploaded files), parsed without letting its nesting
crash the process.

py_ecc (imported with web3 for the chain) raises the interpreter's recursion limit to
100,000 at import, so the C JSON decoder no longer stops deep input with a
``RecursionError``: a body of 200,000 ``[`` overflows the C stack and the worker dies
with a segmentation fault (found by the hostile-upload table, issue 12). :func:`loads`
measures the nesting first and refuses anything deeper than :data:`MAX_DEPTH` with
:class:`TooDeep`, a ``ValueError`` like every other malformed JSON, so callers that
already turn ``ValueError`` into a clear message need no change.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

#: Deepest nesting accepted. Trellis's own documents (proof bundles, scorecards,
#: manifests, API bodies) nest fewer than 10 levels.
MAX_DEPTH = 100
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_CHUNK = 1 << 16


class TooDeep(ValueError):
    """Raised for JSON nested deeper than the limit."""


def check_depth(text: str | bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` when *text* (JSON, maybe malformed) nests deeper than
    *limit*. Linear in the size (about 1 s for 10 MB of brackets); deep input is
    refused within its first 64 K brackets."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= limit:
        return   # cannot nest deeper than its number of openers
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for start in range(0, len(brackets), _CHUNK):   # a deep start is refused at once
        levels = list(accumulate(map(_STEP.__getitem__, brackets[start:start + _CHUNK]),
                                 initial=depth))
        if max(levels) > limit:
            raise TooDeep(f"the JSON nests deeper than {limit} levels")
        depth = levels[-1]


def loads(text: str | bytes, **kwargs):
    """:func:`json.loads` after :func:`check_depth`; raises ``ValueError`` (including
    :class:`TooDeep` and ``json.JSONDecodeError``) for anything that is not JSON."""
    check_depth(text)
    return json.loads(text, **kwargs)
