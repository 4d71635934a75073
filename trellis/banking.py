"""How a bank account is shown to people: the one masking every package uses.

Pages, notices, audit entries and JSON answers show an account as ``招商银行 ····1234``:
the bank and the last four digits after four dots, never more. It lives here, beside
:mod:`trellis.clock`, and imports nothing of Trellis, so that :mod:`trellis.protection`
(payout accounts) and :mod:`trellis.network` (the RM's neighbourhood) both use it:
``network`` cannot import ``protection``, which imports it. A second masking once drifted
(attack 13: the neighbourhood API showed ``6222 **** 2222``, the first four digits too).
"""

from __future__ import annotations

import re


def masked(number: str | None) -> str:
    """An account number as people are shown it: the last four digits after four dots
    (``····1234``); only the dots for a number of fewer than 8 digits, "—" for none. The
    one masking of a bank account on every page, notice and audit entry (reader 13, H11:
    the profile showed ``6222 **** 1234`` where the offer and loan pages showed
    ``招商银行 ····1234``)."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return "—"
    return "····" if len(digits) < 8 else f"····{digits[-4:]}"


def shown(bank_name: str | None, number: str | None) -> str:
    """A bank and an account number as people are shown them: ``招商银行 ····1234``
    (:func:`masked`; the number alone without a bank name, "—" without a number)."""
    tail = masked(number)
    return tail if tail == "—" else f"{(bank_name or '').strip()} {tail}".strip()


__all__ = ["masked", "shown"]
