"""In-app notifications to users (one row per user and message)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.protection.models import Notification


def notify_firm(*, session: Session, firm_id: int, kind: str, message_en: str, message_zh: str,
                exclude_user_id: int | None = None, link: str = "") -> list[Notification]:
    """Notify every active user of *firm_id* (except *exclude_user_id*); *link*: the path
    of the page the message is about (:func:`read_about` marks it read there)."""
    users = session.exec(select(User).where(User.firm_id == firm_id,
                                            col(User.is_active).is_(True))).all()
    out = []
    for user in users:
        if user.id == exclude_user_id:
            continue
        note = Notification(user_id=id_of(user), firm_id=firm_id, kind=kind,
                            message_en=message_en[:500], message_zh=message_zh[:300],
                            link=link[:200])
        session.add(note)
        out.append(note)
    session.flush()
    return out


def of_user(*, user_id: int):
    """The ``select`` of the user's notifications, newest first (for a paged list)."""
    return (select(Notification).where(Notification.user_id == user_id)
            .order_by(col(Notification.created_at).desc(), col(Notification.id).desc()))


def for_user(*, session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    """The user's notifications, newest first, at most *limit*."""
    return list(session.exec(of_user(user_id=user_id).limit(limit)))


def unread(*, session: Session, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return int(session.exec(select(func.count()).select_from(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))).one())


def mark_read(*, session: Session, user_id: int) -> int:
    """Mark all the user's notifications read; returns how many were unread. Flushes."""
    return _mark_unread(session, Notification.user_id == user_id)


def _mark_unread(session: Session, *where) -> int:
    """Mark read the unread notifications matching *where*; how many. Flushes."""
    rows = session.exec(select(Notification).where(
        *where, col(Notification.read_at).is_(None))).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
        session.add(row)
    session.flush()
    return len(rows)


def read_about(*, session: Session, user_id: int, link: str) -> int:
    """Mark read the user's unread messages about the page at *link* (a path): the user
    opened what they are about (reader 13: an offer's message stayed "new" after the
    vendor opened and signed the offer). Returns how many. Flushes."""
    if not link:
        return 0
    return _mark_unread(session, Notification.user_id == user_id, Notification.link == link)
