"""The data basis of a cluster's imported data: where it came from and on what terms.

An RM who imports a park's data records the agreement it came under (the anchor's or the
park's data-sharing agreement): the party, its reference, the scope and the expiry. While
a basis is valid (recorded, not revoked, today between its start and its expiry) Trellis
may *pre-assess* the cluster's firms that have not consented themselves: scores and
indicative limits for the invitation whitelist, flags for the RM. A pre-assessment is
never a credit decision: deciding credit still needs the vendor's own consent (see
``trellis.scoring.service.score_firm``, which checks consent only).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from trellis import clock
from trellis.clock import utcnow
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.messages import N_, msg
from trellis.onboarding.models import SCOPE_PRE_ASSESSMENT, DataBasis

MAX_YEARS = 5  # an agreement longer than this is a typing mistake


def record(*, session: Session, cluster_id: int, party: str, reference: str,
           expires_on: date, valid_from: date | None = None, scope: str = "",
           recorded_by_id: int | None = None, today: date | None = None) -> DataBasis:
    """Record a data-sharing agreement for *cluster_id*. Flushes.

    *scope* describes what the agreement covers in the party's words (e.g. "orders,
    invoices and payments of the anchor's suppliers, 2024-2026"); it always allows
    pre-assessment only. Raises :class:`ValidationError` naming the field when the party
    or reference is empty, the expiry is before the start or already past, or the
    agreement runs more than five years.
    """
    today = today or clock.today()
    valid_from = valid_from or today
    party, reference, scope = ((party or "").strip(), (reference or "").strip(),
                               (scope or "").strip())
    if not party:
        raise ValidationError(N_("Name the party that shared the data (the anchor or the park)."),
                              field="party", zh="请填写提供数据的一方（核心企业或园区）。")
    if not reference:
        raise ValidationError(N_("Enter the agreement's reference (its number or title)."),
                              field="reference", zh="请填写数据共享协议的编号或名称。")
    if len(party) > 200 or len(reference) > 120 or len(scope) > 250:
        raise ValidationError(N_("Party at most 200, reference 120, scope 250 characters."),
                              field="party", zh="提供方最多200字，编号最多120字，范围最多250字。")
    if expires_on < valid_from:
        raise ValidationError(N_("The expiry date is before the start date."), field="expires_on",
                              zh="到期日早于生效日。")
    if expires_on < today:
        raise ValidationError(N_("The agreement has already expired."), field="expires_on",
                              zh="该协议已经过期。")
    if (expires_on - valid_from).days > MAX_YEARS * 366:
        raise ValidationError(N_("An agreement of more than five years: check the dates."),
                              field="expires_on", zh="协议期限超过五年：请核对日期。")
    full_scope = SCOPE_PRE_ASSESSMENT + (f": {scope}" if scope else "")
    basis = DataBasis(cluster_id=cluster_id, party=party, reference=reference,
                      scope=full_scope, valid_from=valid_from, expires_on=expires_on,
                      recorded_by_id=recorded_by_id)
    session.add(basis)
    session.flush()
    return basis


def revoke(*, session: Session, basis_id: int, cluster_id: int,
           now: datetime | None = None) -> DataBasis:
    """Revoke a basis of *cluster_id*: pre-assessment under it stops. Flushes."""
    basis = session.get(DataBasis, basis_id)
    if basis is None or basis.cluster_id != cluster_id:
        raise NotFound(msg(N_("There is no data basis %(basis_id)s for this cluster."),
                           basis_id=basis_id),
                       zh=f"该园区没有编号为 {basis_id} 的数据依据。")
    if basis.revoked_at is not None:
        raise Conflict(N_("That data basis is already revoked."), zh="该数据依据已撤销。")
    basis.revoked_at = now or utcnow()
    session.add(basis)
    session.flush()
    return basis


def is_valid(basis: DataBasis, on: date) -> bool:
    """Whether the data basis is in force on day *on* (from valid_from to expires_on inclusive, not
    revoked)."""
    return basis.revoked_at is None and basis.valid_from <= on <= basis.expires_on


def listing(*, session: Session, cluster_id: int) -> list[DataBasis]:
    """The cluster's data bases, newest first."""
    return list(session.execute(select(DataBasis).where(col(DataBasis.cluster_id) == cluster_id)
                                .order_by(col(DataBasis.id).desc())).scalars())


def current(*, session: Session, cluster_id: int, on: date | None = None) -> DataBasis | None:
    """The valid basis of *cluster_id* on *on* (default today) that runs longest, or None."""
    on = on or clock.today()
    valid = [b for b in listing(session=session, cluster_id=cluster_id) if is_valid(b, on)]
    return max(valid, key=lambda b: (b.expires_on, b.id), default=None)


def clusters_with_basis(*, session: Session, cluster_ids: list[int] | None = None,
                        on: date | None = None) -> set[int]:
    """Ids of clusters (of *cluster_ids*, or all) with a valid basis on *on* (today)."""
    on = on or clock.today()
    q = select(col(DataBasis.cluster_id)).where(col(DataBasis.revoked_at).is_(None),
                                           col(DataBasis.valid_from) <= on,
                                           col(DataBasis.expires_on) >= on)
    if cluster_ids is not None:
        q = q.where(col(DataBasis.cluster_id).in_(cluster_ids or [-1]))
    return set(session.execute(q).scalars())
