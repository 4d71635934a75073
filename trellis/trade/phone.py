"""A firm's telephone number as Chinese firms write it: a mobile or a landline.

- Mobile: 11 digits starting ``1[3-9]``; a ``+86`` / ``0086`` prefix is dropped.
- Landline (固定电话): a trunk ``0``, the area code and the local number. 010 and 02x are
  three-digit area codes with 8-digit local numbers (Beijing, Shanghai, Guangzhou...);
  every other area code is four digits (0571 Hangzhou, 0574 Ningbo) with a 7- or 8-digit
  local number. The prefix alone fixes where the area code ends, so ``057188886666``
  reads as well as ``0571-88886666`` or ``(0571) 8888 6666``. A local number never starts
  with 0 or 1. An extension (分机) of 1-6 digits follows ``转``, ``-``, ``#``, ``ext`` or
  ``x``, after a written area code.
- 400 / 800 service numbers (10 digits).

:func:`normalise` gives the stored form (``13800001111``, ``0571-88886666``,
``0571-88886666-801``, ``400-820-8820``); :func:`problem_message` says why a text is none
of these, in words a person can act on.
"""

from __future__ import annotations

import re
import unicodedata

from trellis.messages import N_, Message, msg

_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
_EXTENSION = re.compile(r"^(?P<main>.*?\d)\s*(?:转|分机|ext\.?|x|#|-)\s*(?P<ext>\d{1,6})$",
                        re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-()]")

EXAMPLES = "13800001111, 0571-88886666"


def _landline(digits: str) -> tuple[str, str] | None:
    """(area code, local number) of *digits*, or None when they are not a landline."""
    if not digits.startswith("0") or len(digits) < 10:
        return None
    area = digits[:3] if digits[1] in "12" else digits[:4]
    local = digits[len(area):]
    sizes = (8,) if len(area) == 3 else (7, 8)
    if len(local) in sizes and local[0] not in "01":
        return area, local
    return None


def _split(raw: str) -> tuple[str, str, str]:
    """(the text without its country prefix, its main digits, its extension digits)."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()   # full-width digits and （）
    text = re.sub(r"^(?:\+|00)\s*86[\s\-]*", "", text)
    main, ext = text, ""
    found = _EXTENSION.match(text)
    # "0571-88886666-801": the last group is an extension only when what precedes it is a
    # whole landline; "0571-8888-6666" is a number written in groups.
    if found and _landline(_SEPARATORS.sub("", found["main"])):
        main, ext = found["main"], found["ext"]
    return text, _SEPARATORS.sub("", main), ext


def normalise(raw: str) -> str | None:
    """The stored form of the phone number *raw*, or None when it is not one (see the
    module docstring)."""
    _text, digits, ext = _split(raw)
    if not digits.isdigit():
        return None
    if not ext and _MOBILE.fullmatch(digits):
        return digits
    if not ext and _SERVICE.fullmatch(digits):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    line = _landline(digits)
    if line is None:
        return None
    return "-".join((*line, ext) if ext else line)


def problem_message(raw: str) -> Message | None:
    """Why *raw* is not a mobile or landline number, or None when it is one."""
    if normalise(raw) is not None:
        return None
    _text, digits, _ext = _split(raw)
    if not digits.isdigit():
        return msg(N_("Use digits only, e.g. %(examples)s; write an extension after a hyphen."),
                   examples=EXAMPLES)
    if digits[0] == "1" and len(digits) != 11:
        return msg(N_("A mobile number has 11 digits; this has %(n)s."), n=len(digits))
    if digits[0] == "1":
        return msg(N_("A mobile number starts with 13 to 19."))
    if digits[0] != "0" and len(digits) in (7, 8):
        return msg(N_("Add the area code to the landline number, e.g. 0571-88886666."))
    return msg(N_("Enter a mobile number or a landline number with its area code, e.g. "
                  "%(examples)s."), examples=EXAMPLES)
