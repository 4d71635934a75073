"""The figure check: every number in an answer must be one of its facts' numbers.

Numbers are compared as values (``12,345.60`` = ``12345.6``); a date's parts count as
numbers too, so a date is grounded only if the same date is a fact.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"\d[\d,，]*(?:\.\d+)?")


def numbers(text: str) -> set[Decimal]:
    """Every number written in *text* (thousands separators removed)."""
    out = set()
    for raw in _NUMBER.findall(text or ""):
        try:
            out.add(Decimal(raw.replace(",", "").replace("，", "").rstrip(".")).normalize())
        except InvalidOperation:  # pragma: no cover - the regex admits only digits
            continue
    return out


def ungrounded(text: str, facts: dict) -> set[Decimal]:
    """The numbers in *text* that none of *facts*' values contains (empty: grounded)."""
    allowed: set[Decimal] = set()
    for value in facts.values():
        allowed |= numbers(str(value))
    return numbers(text) - allowed
