"""Multi-factor login: TOTP (RFC 6238, 30-second steps, 6 digits) with recovery codes.

Administrators, relationship managers and auditors may enrol; with the setting
``TRELLIS_MFA_REQUIRED`` (on by default in production) they must, at their next login.
The secret is stored per user; a code is accepted once (the step it belongs to is
recorded, so a code seen over a shoulder cannot be replayed) and one step of clock drift
either way is allowed. Ten recovery codes are shown once at enrolment and stored as
SHA-256 digests (they are random, 50 bits each, so a fast digest is enough); each works
once.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from sqlmodel import Session

from trellis.accounts.models import Role, User
from trellis.errors import ValidationError
from trellis.messages import N_

MFA_ROLES = (Role.ADMIN.value, Role.RM.value, Role.AUDITOR.value)
RECOVERY_CODES = 10
ISSUER = "Trellis"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (i/l/1, o/0)


def eligible(user: User) -> bool:
    """Whether the user's role may (and must) use two-factor login."""
    return user.role in MFA_ROLES


def enrolled(user: User) -> bool:
    """Whether the user has a TOTP secret set up."""
    return bool(user.totp_secret)


def new_secret() -> str:
    """A new random TOTP secret (base32, 32 characters)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str, *, title: str = "QR") -> str:
    """*uri* as a QR code in an inline ``<svg>`` element (segno; error correction M,
    4 px a module, the quiet zone included). Drawn with a path and presentation
    attributes only (no ``style``, no ``data:`` URI), so the page's CSP allows it. Only
    the shapes carry the URI: the secret is not in any attribute or text of the SVG."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True,
                                     title=title, nl=False, svgclass="qr", lineclass=None,
                                     omitsize=True, light="#fff")
    return out.getvalue().decode("utf-8")


def _step(secret: str, code: str, now: float) -> int | None:
    """The time step *code* belongs to (within one step of *now*), or None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enrol(*, session: Session, user: User, secret: str, code: str,
          now: float | None = None) -> list[str]:
    """Turn on TOTP for *user* with *secret* once *code* proves the app has it; return the
    recovery codes (shown once). Raises :class:`ValidationError`. Flushes."""
    if not eligible(user):
        raise ValidationError(N_("Only administrators, relationship managers and auditors use "
                                 "a second factor."), field="code")
    step = _step(secret, code, time.time() if now is None else now)
    if step is None:
        raise ValidationError(N_("That code is not right. Enter the 6 digits your "
                                 "authenticator app shows now."), field="code")
    codes = _recovery_codes()
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_recovery = [_digest(c) for c in codes]
    session.add(user)
    session.flush()
    return codes


def verify(*, session: Session, user: User, code: str, now: float | None = None) -> bool:
    """Whether *code* (a current TOTP code not used before, or an unused recovery code) is
    right for *user*; uses it up. Flushes."""
    if not enrolled(user):
        return False
    step = _step(user.totp_secret or "", code, time.time() if now is None else now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed
        user.totp_last_step = step
        session.add(user)
        session.flush()
        return True
    digest = _digest(code)
    remaining = list(user.mfa_recovery or [])
    for stored in remaining:
        if hmac.compare_digest(stored, digest):
            remaining.remove(stored)
            user.mfa_recovery = remaining
            session.add(user)
            session.flush()
            return True
    return False


def disable(*, session: Session, user: User) -> None:
    """Turn TOTP off for *user* (an administrator's reset for a lost phone). Flushes."""
    user.totp_secret = None
    user.totp_last_step = None
    user.mfa_recovery = []
    session.add(user)
    session.flush()
