"""Times read in Beijing time (issue 15): a clerk saw 「2026-12-06 11:12 · 已批准」 at 19:12
Beijing time, and a raw 「2026-12-02T06:00:00Z」 on the proof pages. Stored times stay UTC;
the one date filter (``trellis.platform.i18n.day``) shows them in the app's
``BABEL_DEFAULT_TIMEZONE`` (Asia/Shanghai), and templates format no time themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import trellis.platform

TEMPLATES = Path(trellis.platform.__file__).parent / "templates"


def test_times_show_in_beijing_time(app):
    from trellis.platform.i18n import day

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert day(datetime(2026, 12, 6, 11, 12)) == "2026-12-06 19:12"   # stored naive UTC
        assert day(datetime(2026, 12, 6, 20, 5, 9, tzinfo=UTC), seconds=True) == \
            "2026-12-07 04:05:09"
        assert day(date(2026, 12, 6)) == "2026-12-06"        # a date is a date anywhere
        assert day("2026-12-02T06:00:00Z") == "2026-12-02 14:00"
        assert day("2026-12-02") == "2026-12-02"


def test_a_committed_decision_time_is_not_raw_iso(app):
    from trellis.platform.chain.words import field_rows

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        rows = dict(field_rows({"decision": "confirmed", "confirmed_at": "2026-12-02T06:00:00Z"}))
    assert "2026-12-02 14:00" in rows.values() and "T06:00:00Z" not in str(rows)


def test_templates_format_no_time_themselves():
    found = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
             if ".strftime(" in p.read_text(encoding="utf-8")]
    assert not found, f"format times with |day (Beijing time): {found}"


def test_a_page_with_times_says_they_are_beijing_time(client, session, make_firm, make_user):
    """Times carried no zone: a page that shows a time says once, at its foot, that its
    times are Beijing time; a page without one does not. The bank-account change said
    「（UTC）」 beside a time the page shows in Beijing time, and its message gave UTC."""
    from sqlmodel import select

    from tests.platform.conftest import PASSWORD, login
    from trellis.accounts import services as accounts
    from trellis.platform.i18n import day
    from trellis.protection import bank
    from trellis.protection.models import Notification

    firm = make_firm(bank_account="6222020000000000001")
    accounts.grant_consent(session=session, firm_id=firm.id, purpose="bank_account")
    alice, bob = make_user("vendor", firm=firm), make_user("vendor", firm=firm)
    login(client, alice)
    assert "北京时间" not in client.get("/vendor/messages").get_data(as_text=True)  # none yet
    change = bank.request_change(session=session, firm_id=firm.id, user=bob,
                                 password=PASSWORD, new_account="6222020000000000999")
    when = day(change.effective_at)   # the filter's text: Beijing time
    page = client.get("/vendor/bank-account").get_data(as_text=True)
    assert f"{when}（北京时间）" in page and "UTC）" not in page
    assert 'id="time-zone">时间均为北京时间。' in page
    note = session.exec(select(Notification).where(Notification.user_id == alice.id)).one()
    assert f"{when}（北京时间）" in note.message_zh and "UTC" not in note.message_zh
    messages = client.get("/vendor/messages").get_data(as_text=True)
    assert 'id="time-zone"' in messages
    assert 'id="time-zone"' not in client.get("/vendor/apply").get_data(as_text=True)


def test_beijing_text_outside_a_request():
    from trellis.clock import beijing_text

    assert beijing_text(datetime(2026, 12, 6, 20, 5)) == "2026-12-07 04:05"
    assert beijing_text(datetime(2026, 12, 6, 20, 5, tzinfo=UTC)) == "2026-12-07 04:05"
