"""TOTP second factor: enrolment, codes used once, recovery codes, who may enrol."""

from __future__ import annotations

import pyotp
import pytest

from trellis.accounts import mfa
from trellis.errors import ValidationError

NOW = 1_800_000_000.0


def test_enrol_then_verify_codes_once(session, make_user):
    user = make_user("rm")
    secret = mfa.new_secret()
    totp = pyotp.TOTP(secret)
    codes = mfa.enrol(session=session, user=user, secret=secret, code=totp.at(NOW), now=NOW)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(c not in str(user.mfa_recovery) for c in codes)  # only digests stored
    assert not mfa.verify(session=session, user=user, code=totp.at(NOW), now=NOW)  # replay
    later = NOW + 30
    assert mfa.verify(session=session, user=user, code=totp.at(later), now=later)
    assert not mfa.verify(session=session, user=user, code=totp.at(later), now=later)
    far = NOW + 3600
    assert not mfa.verify(session=session, user=user, code=totp.at(NOW + 120), now=far)
    assert not mfa.verify(session=session, user=user, code="000000x", now=far)


def test_a_recovery_code_works_once(session, make_user):
    user = make_user("admin")
    secret = mfa.new_secret()
    codes = mfa.enrol(session=session, user=user, secret=secret,
                      code=pyotp.TOTP(secret).at(NOW), now=NOW)
    assert mfa.verify(session=session, user=user, code=codes[3].upper(), now=NOW)
    assert not mfa.verify(session=session, user=user, code=codes[3], now=NOW)
    assert len(user.mfa_recovery) == 9


@pytest.mark.parametrize("role, code_ok, message", [("vendor", True, "Only administrators"),
                                                    ("auditor", False, "not right")])
def test_enrolment_refusals(session, make_user, make_firm, role, code_ok, message):
    user = make_user(role, firm=make_firm() if role == "vendor" else None)
    secret = mfa.new_secret()
    code = pyotp.TOTP(secret).at(NOW) if code_ok else "123456"
    with pytest.raises(ValidationError, match=message):
        mfa.enrol(session=session, user=user, secret=secret, code=code, now=NOW + 300)
    assert not mfa.enrolled(user)
