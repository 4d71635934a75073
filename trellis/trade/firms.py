"""Finding firms by their natural key."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from trellis.errors import Conflict, NotFound, ValidationError
from trellis.messages import N_, msg
from trellis.trade import uscc
from trellis.trade.models import Cluster, Firm

#: a malformed USCC, as people read it (the problem is :func:`uscc.problem_message`)
USCC_PROBLEM = N_("USCC: %(problem)s")

def by_uscc(*, session: Session, code: str, field: str = "uscc") -> Firm:
    """The firm whose USCC is *code* (spaces and case ignored).

    Raises :class:`ValidationError` naming *field* when the code is malformed (length,
    characters, check character) and :class:`NotFound` when no firm has it.
    """
    normalised = uscc.normalise(code or "")
    problem = uscc.problem_message(normalised)
    if problem is not None:
        raise ValidationError(msg(USCC_PROBLEM, problem=problem), field=field)
    firm = session.exec(select(Firm).where(Firm.uscc == normalised)).first()
    if firm is None:
        raise NotFound(msg(N_("No firm with USCC %(code)s."), code=normalised))
    return firm


def register_vendor(*, session: Session, uscc_code: str, name: str, industry: str,
                    cluster_id: int, legal_rep: str, phone: str | None,
                    founded_on: date) -> Firm:
    """Create the firm of a vendor registering itself (no invitation) in *cluster_id*.

    The firm's registration is ``pending`` until it is checked. Raises
    ``ValidationError`` (field ``cluster_id``) for a cluster that does not exist and
    ``Conflict`` for a USCC Trellis already knows (that firm joins by invitation, so no
    one can take over a known firm by registering it). Flushes.
    """
    if session.get(Cluster, cluster_id) is None:
        raise ValidationError(N_("Choose your park."), field="cluster_id")
    if session.exec(select(Firm).where(Firm.uscc == uscc_code)).first() is not None:
        raise Conflict(N_("Trellis already knows this firm. Ask your relationship manager or "
                          "your buyer for an invitation code."))
    firm = Firm(uscc=uscc_code, name=name.strip(), role="vendor", industry=industry,
                cluster_id=cluster_id, legal_rep=legal_rep.strip(), phone=phone,
                founded_on=founded_on, registration="pending")
    session.add(firm)
    session.flush()
    return firm
