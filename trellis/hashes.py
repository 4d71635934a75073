"""How a hash is abbreviated wherever a person reads one: one rule, in one place.

A content hash, a leaf, a Merkle root, a transaction hash: every page, job outcome and
message shows the first :data:`HEAD` and the last :data:`TAIL` characters around an
ellipsis (``0x3f9c2a1b…e41d07``), always the same length; the full value stays one
click or hover away. The web layer's ``short_hash`` filter wraps :func:`parts` in HTML
that copies the whole hash; plain text (logs, job outcomes) uses :func:`abbreviate`.

No Flask here: the cores import this module.
"""

from __future__ import annotations

HEAD = 10  # characters shown first (a 0x prefix counts)
TAIL = 6  # characters shown last
ELLIPSIS = "…"


def parts(value: str | None) -> tuple[str, str, str] | None:
    """(head, middle, tail) of *value* as abbreviated, or None when it is short enough
    (at most ``HEAD + TAIL + 2`` characters) to be shown whole; None for an empty value
    is the caller's to say (``—``)."""
    if not value or len(value) <= HEAD + TAIL + 2:
        return None
    return value[:HEAD], value[HEAD:-TAIL], value[-TAIL:]


def abbreviate(value: str | None) -> str:
    """*value* as plain text: ``0x3f9c2a1b…e41d07`` (17 characters), a short value whole,
    ``—`` for none."""
    if not value:
        return "—"
    found = parts(value)
    return value if found is None else f"{found[0]}{ELLIPSIS}{found[2]}"
