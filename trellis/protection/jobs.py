"""Scheduled jobs of the protection area."""

from __future__ import annotations

from trellis.db import transaction
from trellis.messages import N_, line
from trellis.protection.bank import apply_due


def apply_bank_changes(*, session_factory, settings) -> str:
    """Apply bank-account changes whose waiting period has passed (and notify the firm)."""
    with transaction(session_factory) as session:
        count = apply_due(session=session)
    return line(N_("applied %(n)s bank-account change(s)"), n=count)
