"""Clusters (industrial parks, startup bases) as first-class records: create, edit, archive.

A cluster's ``code`` is its permanent handle (commands, URLs, the API): 2-40 characters,
upper-case letters, digits, ``-`` and ``_``, unique, never changed. An archived cluster
keeps its firms and history but is no longer listed by default and takes no imports; it
can be restored. Every change is audited by the caller (the web layer or the command).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from trellis.clock import utcnow
from trellis.db import id_of
from trellis.errors import Conflict, ValidationError
from trellis.messages import N_, msg
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster, ClusterManager, Firm

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
KINDS = ("industrial_park", "startup_base")


def normalise_code(code: str) -> str:
    """A cluster code as typed, trimmed and upper-case."""
    return (code or "").strip().upper()


def _check(*, name: str, region: str, kind: str) -> tuple[str, str]:
    name, region = (name or "").strip(), (region or "").strip()
    if not name:
        raise ValidationError(N_("Enter the cluster's name."), field="name", zh="请填写园区名称。")
    if len(name) > 200:
        raise ValidationError(N_("The name is longer than 200 characters."), field="name",
                              zh="名称超过200个字符。")
    if len(region) > 120:
        raise ValidationError(N_("The region is longer than 120 characters."), field="region",
                              zh="地区超过120个字符。")
    if kind not in KINDS:
        raise ValidationError(msg(N_("Unknown kind %(kind)s: use %(choices)s."),
                                  kind=kind, choices=list(KINDS)),
                              field="kind", zh=f"未知的园区类型 {kind!r}。")
    return name, region


def get(*, session: Session, code: str) -> Cluster:
    """The cluster with *code* (case ignored). Raises :class:`ClusterNotFound`."""
    found = session.execute(select(Cluster).where(col(Cluster.code) == normalise_code(code))
                            ).scalar_one_or_none()
    if found is None:
        raise ClusterNotFound(msg(N_("There is no cluster %(code)s."),
                                  code=code), zh=f"没有园区 {code!r}。")
    return found


def create(*, session: Session, code: str, name: str, region: str = "",
           kind: str = "industrial_park", manager_id: int | None = None) -> Cluster:
    """Create a cluster; *manager_id* (the RM who created it) is assigned to it. Flushes.

    Raises :class:`ValidationError` for a bad code, name, region or kind and
    :class:`Conflict` when the code is taken.
    """
    code = normalise_code(code)
    if not CODE_RE.match(code):
        raise ValidationError(
            N_("The code must be 2-40 characters: letters, digits, '-' or '_' (e.g. HZ-YUHANG)."),
            field="code", zh="代码须为2至40个字符：字母、数字、“-”或“_”（如 HZ-YUHANG）。")
    name, region = _check(name=name, region=region, kind=kind)
    if session.execute(select(col(Cluster.id)).where(col(Cluster.code) == code)).first():
        raise Conflict(msg(N_("A cluster with code %(code)s already exists."), code=code),
                       zh=f"代码为 {code} 的园区已存在。")
    cluster = Cluster(code=code, name=name, region=region, kind=kind)
    session.add(cluster)
    session.flush()
    if manager_id is not None:
        session.add(ClusterManager(cluster_id=id_of(cluster), user_id=manager_id))
        session.flush()
    return cluster


def edit(*, session: Session, cluster: Cluster, name: str | None = None,
         region: str | None = None, kind: str | None = None) -> dict:
    """Change name, region or kind (None: keep); returns {field: [old, new]}. Flushes."""
    new_name, new_region = _check(name=cluster.name if name is None else name,
                                  region=cluster.region if region is None else region,
                                  kind=cluster.kind if kind is None else kind)
    new_kind = cluster.kind if kind is None else kind
    changes = {}
    for field, value in (("name", new_name), ("region", new_region), ("kind", new_kind)):
        if getattr(cluster, field) != value:
            changes[field] = [getattr(cluster, field), value]
            setattr(cluster, field, value)
    session.add(cluster)
    session.flush()
    return changes


def archive(*, session: Session, cluster: Cluster, now: datetime | None = None) -> None:
    """Archive *cluster* (kept, not listed, no imports). Raises Conflict if archived."""
    if cluster.archived_at is not None:
        raise Conflict(msg(N_("Cluster %(code)s is already archived."), code=cluster.code),
                       zh=f"园区 {cluster.code} 已归档。")
    cluster.archived_at = now or utcnow()
    session.add(cluster)
    session.flush()


def restore(*, session: Session, cluster: Cluster) -> None:
    """Bring an archived cluster back. Raises Conflict if it is not archived."""
    if cluster.archived_at is None:
        raise Conflict(msg(N_("Cluster %(code)s is not archived."), code=cluster.code),
                       zh=f"园区 {cluster.code} 未归档。")
    cluster.archived_at = None
    session.add(cluster)
    session.flush()


def ensure_open(cluster: Cluster) -> None:
    """Raise :class:`Conflict` when *cluster* is archived (imports are refused)."""
    if cluster.archived_at is not None:
        raise Conflict(msg(N_("Cluster %(code)s is archived: restore it before importing."),
                           code=cluster.code),
                       zh=f"园区 {cluster.code} 已归档：请先恢复再导入。")


def listing(*, session: Session, ids: list[int] | None = None,
            archived: bool = False) -> list[dict]:
    """Clusters (only *ids* if given; archived ones only with *archived*) with firm counts."""
    q = (select(Cluster, func.count(col(Firm.id)))
         .join(Firm, col(Firm.cluster_id) == col(Cluster.id), isouter=True)
         .group_by(col(Cluster.id)).order_by(col(Cluster.code)))
    if ids is not None:
        q = q.where(col(Cluster.id).in_(ids or [-1]))
    if not archived:
        q = q.where(col(Cluster.archived_at).is_(None))
    return [as_dict(c, n) for c, n in session.execute(q).all()]


def as_dict(c: Cluster, firms: int | None = None) -> dict:
    """The cluster as JSON data (archived_at as ISO text; *firms*, its firm count, when given)."""
    out = {"id": c.id, "code": c.code, "name": c.name, "region": c.region, "kind": c.kind,
           "data_version": c.data_version,
           "archived_at": c.archived_at.isoformat() if c.archived_at else None}
    if firms is not None:
        out["firms"] = firms
    return out
