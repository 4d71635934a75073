from datetime import timedelta

import pytest

from trellis.accounts import services
from trellis.accounts.errors import BadCredentials, BadToken, EmailTaken, LoginThrottled
from trellis.clock import utcnow
from trellis.errors import ValidationError


def test_password_is_hashed_with_argon2id(make_user):
    user = make_user("admin", password="a long enough secret")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash


def test_authenticate_accepts_right_password_and_refuses_wrong(session, make_user):
    make_user("auditor", email="a@bank.cn", password="right password 1")
    assert services.authenticate(session=session, email="A@bank.cn",
                                 password="right password 1").email == "a@bank.cn"
    with pytest.raises(BadCredentials):
        services.authenticate(session=session, email="a@bank.cn", password="wrong")


def test_login_is_throttled_after_repeated_failures(session, make_user):
    make_user("rm", email="rm@bank.cn", password="right password 1")
    now = utcnow()
    for _ in range(5):
        with pytest.raises(BadCredentials):
            services.authenticate(session=session, email="rm@bank.cn", password="x", now=now)
    with pytest.raises(LoginThrottled):
        services.authenticate(session=session, email="rm@bank.cn",
                              password="right password 1", now=now)
    later = now + timedelta(minutes=16)
    assert services.authenticate(session=session, email="rm@bank.cn",
                                 password="right password 1", now=later)


@pytest.mark.parametrize("role, with_firm, message", [
    ("vendor", False, "must belong to a firm"),
    ("admin", True, "Only vendor and anchor"),
    ("pirate", False, "Unknown role"),
])
def test_role_and_firm_must_agree(make_user, make_firm, role, with_firm, message):
    firm = make_firm() if with_firm else None
    with pytest.raises(ValidationError, match=message):
        make_user(role, firm=firm)


def test_email_is_unique(make_user):
    make_user("admin", email="x@bank.cn")
    with pytest.raises(EmailTaken):
        make_user("rm", email="X@bank.cn")


def test_api_token_stored_hashed_and_revocable(session, make_firm):
    firm = make_firm(role="anchor")
    token, secret = services.issue_api_token(session=session, firm_id=firm.id, name="ERP")
    assert secret not in token.token_hash
    assert services.verify_api_token(session=session, secret=secret).firm_id == firm.id
    services.revoke_api_token(session=session, token_id=token.id)
    with pytest.raises(BadToken):
        services.verify_api_token(session=session, secret=secret)


def test_consent_withdrawal_stops_use(session, make_firm):
    firm = make_firm()
    services.grant_consent(session=session, firm_id=firm.id, purpose="trade_data")
    assert services.has_consent(session=session, firm_id=firm.id, purpose="trade_data")
    assert services.withdraw_consent(session=session, firm_id=firm.id, purpose="trade_data") == 1
    assert not services.has_consent(session=session, firm_id=firm.id, purpose="trade_data")


def test_an_unknown_email_costs_the_same_hash_work(session, make_user, monkeypatch):
    import time

    make_user("rm", email="known@bank.cn", password="right password 1")
    calls = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password",
                        lambda h, p: calls.append(h) or real(h, p))

    def timed(email):
        started = time.perf_counter()
        with pytest.raises(BadCredentials):
            services.authenticate(session=session, email=email, password="wrong guess")
        return time.perf_counter() - started

    services._dummy()  # made once per process, like the first login after start
    known = sorted(timed("known@bank.cn") for _ in range(3))[1]
    unknown = sorted(timed(f"nobody{i}@bank.cn") for i in range(3))[1]
    assert len(calls) == 6 and all(h.startswith("$argon2id$") for h in calls)
    # The same work: every hash verified, the dummy's too, has the same argon2 parameters
    # (memory, passes, lanes). Not timed: with the cheap parameters of the tests, database
    # noise is as large as the hash (the audit saw 9 ms against 416-625 ms in production).
    assert len({h.split("$")[3] for h in calls}) == 1
    assert known > 0 and unknown > 0


def test_one_attacker_cannot_lock_an_account_out(session, make_user):
    make_user("rm", email="rm2@bank.cn", password="right password 1")
    now = utcnow()
    for i in range(8):
        with pytest.raises((BadCredentials, LoginThrottled)):
            services.authenticate(session=session, email="rm2@bank.cn", password="x",
                                  remote_addr="203.0.113.9",
                                  now=now + timedelta(seconds=40 * i))
    # The attacker's address is refused for this account...
    with pytest.raises(LoginThrottled, match="15 minutes"):
        services.authenticate(session=session, email="rm2@bank.cn", password="x",
                              remote_addr="203.0.113.9", now=now + timedelta(seconds=400))
    # ...the owner, elsewhere, waits a second after the last recorded failure (the fifth,
    # at 160 s), then logs in.
    last = now + timedelta(seconds=160)
    with pytest.raises(LoginThrottled, match="seconds"):
        services.authenticate(session=session, email="rm2@bank.cn",
                              password="right password 1", remote_addr="198.51.100.7",
                              now=last + timedelta(seconds=0.5))
    assert services.authenticate(session=session, email="rm2@bank.cn",
                                 password="right password 1", remote_addr="198.51.100.7",
                                 now=last + timedelta(seconds=2)).email == "rm2@bank.cn"


@pytest.mark.parametrize("failures, delay", [(0, 0), (4, 0), (5, 1), (6, 2), (8, 8),
                                             (10, 30), (400, 30)])
def test_account_delay_grows_and_is_capped(failures, delay):
    assert services.account_delay(failures, 5) == delay
