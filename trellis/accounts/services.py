"""Users, authentication, API tokens, consent and the audit trail.

Every function takes the session as the keyword argument ``session`` and flushes; the
caller commits.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from trellis.accounts import passwords
from trellis.accounts.errors import BadCredentials, BadToken, EmailTaken, LoginThrottled
from trellis.accounts.models import (
    FIRM_ROLES,
    ApiToken,
    AuditEvent,
    Consent,
    LoginAttempt,
    Role,
    User,
)
from trellis.clock import utcnow
from trellis.errors import ValidationError
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)

# argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
_hasher = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = passwords.MIN_PASSWORD
CONSENT_PURPOSES = ("trade_data", "credit_query", "bank_account")
CONSENT_VERSION = "2026-11"


def hash_password(password: str) -> str:
    """An argon2id hash of *password* (parameters from the hasher; lowered only in tests)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether *password* matches *password_hash*; False for a wrong
    password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(*, session: Session, email: str, password: str, role: str,
                firm_id: int | None = None, name: str = "", locale: str = "zh_CN",
                birth_year: int | None = None, phone: str | None = None,
                password_hash: str | None = None, created_by_id: int | None = None) -> User:
    """Create a user. Vendor and anchor users must belong to a firm; others must not.
    *password_hash*: :func:`hash_password` of *password*, made once by a caller creating
    many users with one password (the demo's logins), as argon2 is slow on purpose.
    *created_by_id*: the user creating this one (an administrator), recorded."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationError(N_("Enter a valid e-mail address."), field="email")
    try:
        role_enum = Role(role)
    except ValueError:
        raise ValidationError(msg(N_("Unknown role %(role)s."), role=role), field="role") from None
    check_password(password, email=email)
    if role_enum in FIRM_ROLES and firm_id is None:
        raise ValidationError(N_("A vendor or anchor user must belong to a firm."), field="firm")
    if role_enum not in FIRM_ROLES and firm_id is not None:
        raise ValidationError(N_("Only vendor and anchor users belong to a firm."), field="firm")
    if session.exec(select(User).where(User.email == email)).first():
        raise EmailTaken(msg(N_("A user with e-mail %(email)s already exists."), email=email))
    user = User(email=email, name=name, role=role_enum.value, firm_id=firm_id,
                password_hash=password_hash or hash_password(password), locale=locale,
                birth_year=birth_year, phone=phone, created_by_id=created_by_id)
    session.add(user)
    session.flush()
    if user.firm_id is not None:
        for hook in _joined_a_firm:
            hook(session, user)
    return user


#: Called with (session, user) when a user of a firm is created: the firm's messages are
#: the new user's too (``trellis.notifications`` registers itself; accounts sits below it
#: and does not import it).
_joined_a_firm: list[Callable[[Session, User], object]] = []


def on_joining_a_firm(hook: Callable[[Session, User], object]) -> None:
    """Register *hook*, called with (session, user) in :func:`create_user` for each new
    user of a firm, inside the same transaction. Registering the same hook twice keeps one."""
    if hook not in _joined_a_firm:
        _joined_a_firm.append(hook)


#: Longest wait (seconds) between attempts on one account from all addresses together.
MAX_ACCOUNT_DELAY = 30
_dummy_hash: str | None = None


def _dummy() -> str:
    # A real hash of a random password: an unknown e-mail costs the same argon2 work as
    # a known one, so the answer's timing does not tell whether an account exists.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def account_delay(failures: int, max_attempts: int) -> int:
    """Seconds to wait after the last failure before the next attempt on an account that
    has had *failures* recent failures from all addresses: 0 below *max_attempts*, then
    1, 2, 4, ... up to :data:`MAX_ACCOUNT_DELAY`."""
    if failures < max_attempts:
        return 0
    return min(2 ** min(failures - max_attempts, 10), MAX_ACCOUNT_DELAY)


def authenticate(*, session: Session, email: str, password: str, remote_addr: str = "",
                 max_attempts: int = 5, window_seconds: int = 900,
                 now: datetime | None = None) -> User:
    """Return the user for a correct e-mail and password.

    Throttling slows guessing without letting anyone lock an account out:

    - one address that failed *max_attempts* times for one e-mail within
      *window_seconds* is refused for that e-mail for the rest of the window (it locks
      out only itself);
    - one address that failed ``4 * max_attempts`` times (any e-mails) is refused;
    - an account that failed *max_attempts* times from all addresses together accepts
      the next attempt only :func:`account_delay` seconds (at most 30) after the last
      failure, so its owner can still log in from elsewhere.

    Raises :class:`LoginThrottled` (with the wait) or :class:`BadCredentials`. An unknown
    e-mail costs the same password-hash work as a known one. Failures are recorded; the
    caller must commit even when this raises.
    """
    now = now or utcnow()
    email = (email or "").strip().lower()
    since = now - timedelta(seconds=window_seconds)
    recent = (LoginAttempt.attempted_at >= since,)
    by_email, last = session.exec(select(func.count(), func.max(LoginAttempt.attempted_at))
                                  .select_from(LoginAttempt)
                                  .where(LoginAttempt.email == email, *recent)).one()
    by_pair = by_addr = 0
    if remote_addr:
        by_addr = session.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.remote_addr == remote_addr, *recent)).one()
    if by_email:
        by_pair = session.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.remote_addr == remote_addr,
            *recent)).one()
    if by_pair >= max_attempts or by_addr >= max_attempts * 4:
        raise LoginThrottled(N_("Too many failed logins. Wait 15 minutes and try again."))
    delay = account_delay(by_email, max_attempts)
    if delay and last is not None:
        if last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        wait = delay - (now - last).total_seconds()
        if wait > 0:
            raise LoginThrottled(N_("Too many failed logins for this account. Wait %(seconds)d "
                                    "seconds and try again."), seconds=int(wait) + 1)
    user = session.exec(select(User).where(User.email == email)).first()
    known = user is not None and user.is_active
    matches = verify_password(user.password_hash if user is not None and known else _dummy(),
                              password)
    if user is None or not (known and matches):
        session.add(LoginAttempt(email=email, remote_addr=remote_addr, attempted_at=now))
        session.flush()
        raise BadCredentials(N_("Wrong e-mail or password."))
    user.last_login_at = now
    session.add(user)
    session.flush()
    return user


def end_sessions(*, session: Session, user: User) -> None:
    """End every web session of *user* (logout, password change, sign out everywhere):
    cookies issued before carry an older generation and are refused. Flushes."""
    session.add(user)
    session.flush()
    # In SQL, so that two ends at once (or a stale copy of the row) still raise it.
    session.execute(update(User).where(col(User.id) == user.id)
                    .values(session_generation=User.session_generation + 1))
    session.refresh(user)


def check_password(password: str, *, email: str = "") -> None:
    """Raise :class:`ValidationError` (field ``password``) for a password the one rule
    (:mod:`trellis.accounts.passwords`) refuses: too short, repetitive, a run of keys,
    common, or containing the name part of *email*."""
    passwords.check(password, email=email)


def change_password(*, session: Session, user: User, password: str) -> None:
    """Set a new password for *user* and end all of the user's sessions. Flushes."""
    check_password(password, email=user.email)
    user.password_hash = hash_password(password)
    end_sessions(session=session, user=user)


def record(*, session: Session, action: str, actor: User | None = None,
           record_type: str = "", record_id: object = "", detail: dict | None = None,
           remote_addr: str = "", actor_label: str = "") -> AuditEvent:
    """Append an audit event: who (*actor*), what (*action*), on which record."""
    event = AuditEvent(actor_id=actor.id if actor else None,
                       actor_label=actor_label or (actor.email if actor else "system"),
                       action=action, record_type=record_type, record_id=str(record_id),
                       detail=detail or {}, remote_addr=remote_addr)
    session.add(event)
    session.flush()
    return event


# --- API tokens ----------------------------------------------------------------------

TOKEN_PREFIX = "trl_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_token(*, session: Session, firm_id: int, name: str,
                    created_by: User | None = None) -> tuple[ApiToken, str]:
    """Create a token for a firm; returns the row and the secret, shown only once."""
    if not name.strip():
        raise ValidationError(N_("Give the token a name."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(firm_id=firm_id, name=name.strip()[:80], prefix=secret[:12],
                     token_hash=_digest(secret),
                     created_by_id=created_by.id if created_by else None)
    session.add(token)
    session.flush()
    return token, secret


def verify_api_token(*, session: Session, secret: str) -> ApiToken:
    """The live token for *secret*; raises :class:`BadToken` otherwise."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        raise BadToken(N_("Missing or malformed API token."))
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).first()
    if token is None or token.revoked_at is not None:
        raise BadToken(N_("Unknown or revoked API token."))
    token.last_used_at = utcnow()
    session.add(token)
    session.flush()
    return token


def revoke_api_token(*, session: Session, token_id: int, firm_id: int | None = None) -> ApiToken:
    """Revoke API token *token_id* (of *firm_id* when given); raises BadToken when there is none.
    Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or (firm_id is not None and token.firm_id != firm_id):
        raise BadToken(N_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
    return token


# --- consent -------------------------------------------------------------------------

def grant_consent(*, session: Session, firm_id: int, purpose: str,
                  user: User | None = None, version: str = CONSENT_VERSION) -> Consent:
    """Record the firm's consent to *purpose* (one of CONSENT_PURPOSES) in the text of *version*; an
    active consent of the same version is returned as it is."""
    if purpose not in CONSENT_PURPOSES:
        raise ValidationError(msg(N_("Unknown consent purpose %(purpose)s."),
                                  purpose=purpose), field="purpose")
    current = active_consent(session=session, firm_id=firm_id, purpose=purpose)
    if current is not None and current.version == version:
        return current
    consent = Consent(firm_id=firm_id, purpose=purpose, version=version,
                      granted_by_id=user.id if user else None)
    session.add(consent)
    session.flush()
    return consent


def grant_consents(*, session: Session, firm_ids: list[int], purpose: str,
                   version: str = CONSENT_VERSION) -> int:
    """:func:`grant_consent` for many firms at once (one read, one flush); returns how
    many consents were added."""
    if purpose not in CONSENT_PURPOSES:
        raise ValidationError(msg(N_("Unknown consent purpose %(purpose)s."),
                                  purpose=purpose), field="purpose")
    current: dict[int, Consent] = {}
    for row in session.exec(select(Consent).where(
            col(Consent.firm_id).in_(firm_ids), col(Consent.purpose) == purpose,
            col(Consent.withdrawn_at).is_(None)).order_by(col(Consent.granted_at))):
        current[row.firm_id] = row  # the latest active one wins, as in active_consent
    new = [Consent(firm_id=f, purpose=purpose, version=version) for f in firm_ids
           if f not in current or current[f].version != version]
    session.add_all(new)
    session.flush()
    return len(new)


def withdraw_consent(*, session: Session, firm_id: int, purpose: str) -> int:
    """Withdraw every active consent for *purpose*; returns how many were withdrawn."""
    rows = session.exec(select(Consent).where(Consent.firm_id == firm_id,
                                              Consent.purpose == purpose,
                                              col(Consent.withdrawn_at).is_(None))).all()
    for row in rows:
        row.withdrawn_at = utcnow()
        session.add(row)
    session.flush()
    return len(rows)


def active_consent(*, session: Session, firm_id: int, purpose: str) -> Consent | None:
    """The firm's latest consent to *purpose* that is not withdrawn, or None."""
    return session.exec(select(Consent).where(
        Consent.firm_id == firm_id, Consent.purpose == purpose,
        col(Consent.withdrawn_at).is_(None)).order_by(col(Consent.granted_at).desc())).first()


def has_consent(*, session: Session, firm_id: int, purpose: str) -> bool:
    """Whether the firm has an active consent to *purpose*."""
    return active_consent(session=session, firm_id=firm_id, purpose=purpose) is not None
