"""Password reset in the accounts core: requests, one-time tokens hashed at rest, expiry,
throttling, and the end of every session (issue 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from trellis.accounts import reset, services
from trellis.accounts.errors import BadResetToken, ResetThrottled
from trellis.accounts.models import AuditEvent, PasswordReset
from trellis.clock import utcnow
from trellis.errors import ValidationError

PREFIX = "https://trellis.example/login/reset/"


@pytest.fixture
def outbox():
    """A *send* that keeps what it was given (the notifications area is tested apart)."""
    sent = []

    def send(*, session, user, key, message):
        sent.append((user.email, key, message))

    send.sent = sent
    return send


def _token(outbox) -> str:
    (_email, _key, message), = outbox.sent[-1:]
    link = message.params["link"]
    assert link.startswith(PREFIX)
    return link[len(PREFIX):]


def _ask(session, outbox, email, now=None, addr="198.51.100.7"):
    row = reset.request(session=session, email=email, remote_addr=addr, now=now)
    return reset.issue(session=session, reset_id=row.id, link_prefix=PREFIX, send=outbox,
                       minutes=30, now=now), row


def test_a_known_email_gets_a_one_time_link_stored_only_as_a_digest(session, make_user,
                                                                    make_firm, outbox):
    user = make_user("vendor", email="v@firm.cn", firm=make_firm())
    sent, row = _ask(session, outbox, " V@Firm.cn ")
    assert sent and outbox.sent[0][0] == "v@firm.cn"
    token = _token(outbox)
    assert len(token) >= 40
    assert row.token_hash == reset.digest(token) and token not in row.token_hash
    assert row.user_id == user.id
    assert outbox.sent[0][2].params["minutes"] == 30
    assert reset.complete(session=session, token=token,
                          password="a brand new passphrase").id == user.id
    assert services.authenticate(session=session, email="v@firm.cn",
                                 password="a brand new passphrase").id == user.id
    with pytest.raises(BadResetToken):           # used once
        reset.complete(session=session, token=token, password="another new passphrase")
    actions = session.exec(select(AuditEvent.action).where(
        AuditEvent.action.like("password.%"))).all()
    assert sorted(actions) == ["password.reset", "password.reset_requested",
                               "password.reset_sent"]


def test_an_unknown_email_is_recorded_alike_and_sends_nothing(session, outbox):
    sent, row = _ask(session, outbox, "nobody@nowhere.cn")
    assert not sent and outbox.sent == []
    assert row.processed_at is not None and row.token_hash is None


def test_a_deactivated_account_gets_no_link(session, make_user, outbox):
    user = make_user("rm", email="gone@bank.cn")
    user.is_active = False
    session.add(user)
    assert _ask(session, outbox, "gone@bank.cn")[0] is False


def test_issue_twice_sends_once(session, make_user, outbox):
    make_user("auditor", email="a@bank.cn")
    sent, row = _ask(session, outbox, "a@bank.cn")
    assert sent
    assert reset.issue(session=session, reset_id=row.id, link_prefix=PREFIX,
                       send=outbox) is False
    assert len(outbox.sent) == 1


def test_an_expired_link_is_refused(session, make_user, outbox):
    make_user("admin", email="ad@bank.cn")
    then = utcnow() - timedelta(minutes=31)
    _ask(session, outbox, "ad@bank.cn", now=then)
    with pytest.raises(BadResetToken):
        reset.check(session=session, token=_token(outbox))
    # within the half hour it worked
    assert reset.check(session=session, token=_token(outbox),
                       now=then + timedelta(minutes=29)).used_at is None


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 500])
def test_a_wrong_token_is_refused(session, token):
    with pytest.raises(BadResetToken):
        reset.complete(session=session, token=token, password="a brand new passphrase")


def test_a_newer_link_expires_the_older_one(session, make_user, outbox):
    make_user("rm", email="rm@bank.cn")
    _ask(session, outbox, "rm@bank.cn")
    first = _token(outbox)
    _ask(session, outbox, "rm@bank.cn")
    second = _token(outbox)
    with pytest.raises(BadResetToken):
        reset.check(session=session, token=first)
    assert reset.check(session=session, token=second)


def test_a_weak_password_leaves_the_link_usable(session, make_user, outbox):
    make_user("rm", email="w@bank.cn")
    _ask(session, outbox, "w@bank.cn")
    token = _token(outbox)
    with pytest.raises(ValidationError):
        reset.complete(session=session, token=token, password="short")
    assert reset.complete(session=session, token=token, password="long enough now")


def test_reset_ends_every_session(session, make_user, outbox):
    user = make_user("rm", email="s@bank.cn")
    before = user.session_generation
    _ask(session, outbox, "s@bank.cn")
    reset.complete(session=session, token=_token(outbox), password="long enough now")
    assert user.session_generation == before + 1


def test_requests_are_throttled_per_email_and_per_address(session, make_user, outbox):
    make_user("rm", email="t@bank.cn")
    now = utcnow()
    for _ in range(3):
        reset.request(session=session, email="t@bank.cn", remote_addr="10.0.0.1", now=now)
    with pytest.raises(ResetThrottled) as caught:      # the same for a known e-mail ...
        reset.request(session=session, email="t@bank.cn", remote_addr="10.0.0.2", now=now)
    assert caught.value.status == 429
    for _ in range(3):
        reset.request(session=session, email="u@bank.cn", remote_addr="10.0.0.3", now=now)
    with pytest.raises(ResetThrottled):                # ... and an unknown one
        reset.request(session=session, email="u@bank.cn", remote_addr="10.0.0.4", now=now)
    for n in range(10):
        reset.request(session=session, email=f"x{n}@bank.cn", remote_addr="10.0.0.9",
                      now=now)
    with pytest.raises(ResetThrottled):                # one address, many e-mails
        reset.request(session=session, email="y@bank.cn", remote_addr="10.0.0.9", now=now)
    # an hour later the e-mail may ask again
    reset.request(session=session, email="t@bank.cn", remote_addr="10.0.0.1",
                  now=now + timedelta(seconds=3601))


def test_a_request_does_the_same_work_for_known_and_unknown_emails(session, make_user):
    """No user lookup in the request itself (the same statements either way), so its
    timing cannot tell whether an account exists: the lookup is in the task."""
    from sqlalchemy import event

    make_user("rm", email="known@bank.cn")
    statements = {}
    for email in ("known@bank.cn", "unknown@bank.cn"):
        seen = []

        def note(conn, cursor, statement, *args, _seen=seen):
            _seen.append(statement.split(" WHERE")[0])

        bind = session.get_bind()
        event.listen(bind, "before_cursor_execute", note)
        try:
            reset.request(session=session, email=email, remote_addr="10.1.1.1")
        finally:
            event.remove(bind, "before_cursor_execute", note)
        statements[email] = seen
    assert statements["known@bank.cn"] == statements["unknown@bank.cn"]
    assert not any("FROM users" in s for s in statements["known@bank.cn"])
    assert session.exec(select(PasswordReset)).all()


@pytest.mark.parametrize("weak, why", [("1111111111", "repeats"),
                                       ("wangfang2026", "e-mail name")])
def test_a_reset_keeps_to_the_one_password_rule(session, make_user, outbox, weak, why):
    """Reader 12, G11: the reset refuses what the admin's form refuses, by one rule."""
    make_user("rm", email="wangfang@bank.cn")
    _ask(session, outbox, "wangfang@bank.cn")
    token = _token(outbox)
    with pytest.raises(ValidationError, match=why):
        reset.complete(session=session, token=token, password=weak)
    assert reset.complete(session=session, token=token, password="long enough now")
