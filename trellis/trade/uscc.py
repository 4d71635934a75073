"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from the alphabet ``0-9 A-H J-N P-R T-U W-Y`` (no I, O, Z, S, V); the last is
a check character: ``31 - (sum(value_i * weight_i) mod 31)``, mod 31, over the first 17.
"""

from __future__ import annotations

from trellis.messages import N_, Message, msg

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def normalise(raw: str) -> str:
    """Upper-case and strip spaces; no other change."""
    return "".join(str(raw).split()).upper()


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem_message(raw: str) -> Message | None:
    """Why *raw* is not a valid USCC as a :class:`~trellis.messages.Message`, or ``None``."""
    code = normalise(raw)
    if len(code) != 18:
        return msg(N_("a USCC has 18 characters, this has %(n)s"), n=len(code))
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        return msg(N_("character '%(ch)s' is not allowed in a USCC"), ch=bad[0])
    expected = check_character(code[:17])
    if code[17] != expected:
        return msg(N_("bad check character: expected %(expected)s, found %(found)s"),
                   expected=expected, found=code[17])
    return None


def problem(raw: str) -> str | None:
    """Why *raw* is not a valid USCC, in plain English words, or ``None`` when it is valid."""
    found = problem_message(raw)
    return None if found is None else str(found)


def is_valid(raw: str) -> bool:
    """Whether *raw* is a valid unified social credit code (18 characters, right check digit)."""
    return problem(raw) is None


def make(body17: str) -> str:
    """Append the check character to a 17-character body (demo data and tests)."""
    return body17 + check_character(body17)
