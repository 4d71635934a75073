"""Password reset ("forgot password") for every role, with single-use expiring links.

Three steps, each a function here:

1. :func:`request` records that a reset was asked for an e-mail from an address, after
   the throttles (per e-mail and per address, whether or not the e-mail has an account).
   It does the same work for a known and an unknown e-mail (one insert, no user lookup),
   so neither the answer nor its timing tells whether an account exists. The web layer
   then queues :func:`issue` as a task.
2. :func:`issue` (in a task) looks the e-mail up; for an active account it makes a token
   of 256 random bits, stores only its SHA-256 with an expiry, expires the user's older
   unused links and hands the link to *send* (the notification outbox: an e-mail in the
   user's language). This package does not know the outbox: the caller passes *send*.
3. :func:`complete` takes the token and a new password: the token is used up with one
   conditional UPDATE (two submissions cannot both pass), the password is set through
   :func:`~trellis.accounts.services.change_password`, which ends every session of the
   user, and the user's other links are expired.

Requests, issued links and resets go to the audit trail. A reset does not skip the second
factor: staff with TOTP still give a code at their next login. Every function flushes;
the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, func, select

from trellis.accounts import services
from trellis.accounts.errors import BadResetToken, ResetThrottled
from trellis.accounts.models import PasswordReset, User
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.messages import N_, Message, msg

#: what *send* is given: ``send(session=, user=, key=, message=)``; key names the message
#: once (a retried task writes it once)
Send = Callable[..., object]
WINDOW_SECONDS = 3600
KIND = "password_reset"


def digest(token: str) -> str:
    """The SHA-256 of a reset *token* (64 hex characters): what is stored, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime, now: datetime) -> datetime:
    # SQLite hands datetimes back without a zone; they were written in UTC.
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


def request(*, session: Session, email: str, remote_addr: str = "",
            max_per_email: int = 3, max_per_address: int = 10,
            now: datetime | None = None) -> PasswordReset:
    """Record a reset request for *email* from *remote_addr*; return the row (queue
    :func:`issue` with its id). At most *max_per_email* requests an hour for one e-mail
    and *max_per_address* from one address (0: no limit); raises
    :class:`ResetThrottled` past either, for known and unknown e-mails alike."""
    now = now or utcnow()
    email = (email or "").strip().lower()[:254]
    since = now - timedelta(seconds=WINDOW_SECONDS)
    recent = PasswordReset.requested_at >= since
    if max_per_email:
        by_email = session.exec(select(func.count()).select_from(PasswordReset).where(
            PasswordReset.email == email, recent)).one()
        if by_email >= max_per_email:
            raise ResetThrottled()
    if max_per_address and remote_addr:
        by_addr = session.exec(select(func.count()).select_from(PasswordReset).where(
            PasswordReset.remote_addr == remote_addr, recent)).one()
        if by_addr >= max_per_address:
            raise ResetThrottled()
    row = PasswordReset(email=email, remote_addr=remote_addr[:64], requested_at=now)
    session.add(row)
    session.flush()
    services.record(session=session, action="password.reset_requested",
                    record_type="password_reset", record_id=row.id,
                    detail={"email": email}, remote_addr=remote_addr,
                    actor_label="anonymous")
    return row


def reset_message(*, link: str, minutes: int, email: str) -> Message:
    """The e-mail that carries the one-time *link* (valid *minutes* minutes) to *email*."""
    return msg(N_("Someone asked to reset the password of your Trellis account %(email)s. "
                  "To choose a new password, open this link within %(minutes)s minutes "
                  "(it works once): %(link)s If it was not you, ignore this message: your "
                  "password stays as it is."), email=email, minutes=minutes, link=link)


def issue(*, session: Session, reset_id: int, link_prefix: str, send: Send,
          minutes: int = 30, now: datetime | None = None) -> bool:
    """Give request *reset_id* its link if its e-mail has an active account; return
    whether a link was sent. *link_prefix* is the public address of the reset page up to
    the token (``https://host/password/reset/``). Does nothing for a request already
    processed (a retried task). Flushes."""
    now = now or utcnow()
    row = session.get(PasswordReset, reset_id)
    if row is None or row.processed_at is not None:
        return False
    row.processed_at = now
    session.add(row)
    user = session.exec(select(User).where(User.email == row.email)).first()
    if user is None or not user.is_active:
        session.flush()
        return False
    _expire_open(session, id_of(user), now)
    token = secrets.token_urlsafe(32)
    row.user_id, row.token_hash = user.id, digest(token)
    row.expires_at = now + timedelta(minutes=minutes)
    session.add(row)
    session.flush()
    send(session=session, user=user, key=f"{KIND}:{row.id}",
         message=reset_message(link=link_prefix + token, minutes=minutes, email=user.email))
    services.record(session=session, action="password.reset_sent", record_type="user",
                    record_id=user.id, detail={"reset": row.id}, actor_label="system")
    return True


def _expire_open(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(PasswordReset).where(
        col(PasswordReset.user_id) == user_id, col(PasswordReset.used_at).is_(None),
        col(PasswordReset.expires_at) > now).values(expires_at=now)
        .execution_options(synchronize_session=False))


def check(*, session: Session, token: str, now: datetime | None = None) -> PasswordReset:
    """The live request for *token*; raises :class:`BadResetToken` when the token is
    unknown, used or expired, or its account was deactivated."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise BadResetToken()
    row = session.exec(select(PasswordReset).where(
        PasswordReset.token_hash == digest(token))).first()
    if row is None or row.used_at is not None or row.expires_at is None \
            or _aware(row.expires_at, now) <= now:
        raise BadResetToken()
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise BadResetToken()
    return row


def complete(*, session: Session, token: str, password: str, remote_addr: str = "",
             now: datetime | None = None) -> User:
    """Set *password* for the account of *token* and use the token up; every session of
    the user ends. Raises :class:`BadResetToken`, or
    :class:`~trellis.errors.ValidationError` for a weak password (the token then still
    works). Flushes."""
    now = now or utcnow()
    row = check(session=session, token=token, now=now)
    user = session.get_one(User, row.user_id)  # check() found it
    services.check_password(password, email=user.email)
    used = cast(CursorResult[Any], session.execute(update(PasswordReset).where(
        col(PasswordReset.id) == row.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))).rowcount
    if used != 1:
        raise BadResetToken()   # another submission of the same link won
    _expire_open(session, id_of(user), now)
    services.change_password(session=session, user=user, password=password)
    services.record(session=session, action="password.reset", actor=user, record_type="user",
                    record_id=user.id, detail={"reset": row.id}, remote_addr=remote_addr)
    return user
