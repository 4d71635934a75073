"""Finding firms by their natural key."""

from __future__ import annotations

from sqlmodel import Session, select

from trellis.errors import NotFound, ValidationError
from trellis.trade import uscc
from trellis.trade.models import Firm


def by_uscc(*, session: Session, code: str, field: str = "uscc") -> Firm:
    """The firm whose USCC is *code* (spaces and case ignored).

    Raises :class:`ValidationError` naming *field* when the code is malformed (length,
    characters, check character) and :class:`NotFound` when no firm has it.
    """
    normalised = uscc.normalise(code or "")
    problem = uscc.problem(normalised)
    if problem:
        raise ValidationError(f"USCC: {problem}", field=field)
    firm = session.exec(select(Firm).where(Firm.uscc == normalised)).first()
    if firm is None:
        raise NotFound(f"No firm with USCC {normalised}.")
    return firm
