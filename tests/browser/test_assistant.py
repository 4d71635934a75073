"""The AI customer manager in a real browser: a vendor asks three questions in the chat
panel (JavaScript path), gets answers with source links, asks for a person; the RM sees
the ticket in the inbox and answers; the vendor sees the answer in the conversation."""

from __future__ import annotations

from tests.browser.conftest import log_in, shot


def test_vendor_asks_rm_answers_vendor_sees(live, new_page):
    vendor = new_page()
    log_in(vendor, live, "vendor@trellis.demo")
    vendor.goto(f"{live.url}/vendor/")
    vendor.click("#assistant-panel summary")
    panel = vendor.locator("#assistant-panel")
    questions = ["利率是多少", "有没有手续费，逾期罚息怎么算", "冷静期是什么"]
    for n, question in enumerate(questions, start=1):
        panel.locator("input[name=text]").fill(question)
        panel.locator("button[type=submit]").click()
        bot = panel.locator("li[data-sender=assistant]")
        bot.nth(n - 1).wait_for()
        answer = bot.nth(n - 1)
        assert answer.locator("a[data-source]").count() >= 1, answer.inner_text()
        assert answer.locator("a[data-source]").first.get_attribute("href").startswith("/vendor/")
        assert any(ch.isdigit() for ch in answer.inner_text())
    panel.locator("input[name=text]").fill("我要找客户经理")
    panel.locator("button[type=submit]").click()
    panel.locator("li[data-sender=assistant]").nth(3).wait_for()
    assert "客户经理" in panel.locator("li[data-sender=assistant]").nth(3).inner_text()
    shot(vendor, "assistant-vendor-panel")

    rm = new_page()
    log_in(rm, live, "rm@trellis.demo")
    rm.goto(f"{live.url}/assistant/inbox")
    row = rm.locator("#tickets tbody tr[data-ticket]").first
    row.locator("a").click()
    rm.wait_for_load_state()
    assert "我要找客户经理" in rm.content() and "利率是多少" in rm.content()
    rm.fill("#rm-text", "您好，我是周敏，今天下午给您回电。")
    rm.click("form.assistant-form button:not([name=close])")
    rm.wait_for_load_state()
    shot(rm, "assistant-rm-ticket")

    vendor.goto(f"{live.url}/assistant/")
    rm_msg = vendor.locator("li[data-sender=rm]")
    rm_msg.first.wait_for()
    assert "今天下午给您回电" in rm_msg.first.inner_text()
    shot(vendor, "assistant-vendor-sees-answer")


def test_vendor_confirms_an_action_in_the_chat(live, new_page):
    """The assistant proposes withdrawing a consent; "no" does nothing, "yes" withdraws it
    through the same service as the consent page (credit queries: no other test needs it)."""
    from sqlmodel import select

    from trellis.accounts import services as accounts
    from trellis.accounts.models import User

    vendor = new_page()
    log_in(vendor, live, "vendor@trellis.demo")
    vendor.goto(f"{live.url}/vendor/consent")
    vendor.check("#credit_query")
    vendor.locator("form:has(#credit_query) button.primary").first.click()
    vendor.wait_for_load_state()
    with live.session() as s:
        firm_id = s.exec(select(User.firm_id).where(
            User.email == "vendor@trellis.demo")).one()
        assert accounts.has_consent(session=s, firm_id=firm_id, purpose="credit_query")

    vendor.goto(f"{live.url}/vendor/")
    vendor.click("#assistant-panel summary")
    panel = vendor.locator("#assistant-panel")
    bot = panel.locator("li[data-sender=assistant]")
    for n, (button, expect) in enumerate((("[data-cancel]", "已取消"),
                                          ("[data-confirm]", "已撤回"))):
        panel.locator("input[name=text]").fill("我想撤回征信查询的授权")
        panel.locator("button[type=submit]").click()
        proposal = bot.nth(2 * n)
        proposal.locator("[data-action=withdraw_consent]").wait_for()
        assert "征信查询" in proposal.inner_text()
        with live.session() as s:   # proposed only: nothing changed yet
            assert accounts.has_consent(session=s, firm_id=firm_id, purpose="credit_query")
        proposal.locator(button).click()
        bot.nth(2 * n + 1).wait_for()
        assert expect in bot.nth(2 * n + 1).inner_text()
        if n == 0:
            with live.session() as s:
                assert accounts.has_consent(session=s, firm_id=firm_id,
                                            purpose="credit_query")
    shot(vendor, "assistant-vendor-confirms")
    with live.session() as s:
        assert not accounts.has_consent(session=s, firm_id=firm_id, purpose="credit_query")
