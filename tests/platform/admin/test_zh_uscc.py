"""Issue 15 (NOTES-zhreader5 F6): a bad USCC is explained in Chinese wherever a person
reads it: the admin's user form, the vendor forms, an import's problem list."""

from __future__ import annotations

import re

from tests.platform.conftest import csrf_token
from trellis.messages import Message
from trellis.platform.i18n import render
from trellis.trade import uscc

BAD = "91330211735010162X"   # check character should be T


def test_admin_user_form_explains_bad_check_character_in_chinese(client, logged_in):
    logged_in("admin")
    response = client.post("/admin/users", data={
        "csrf_token": csrf_token(client, "/admin/users"), "email": "new@example.cn",
        "role": "vendor", "firm_uscc": BAD, "password": "a-long-password-1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "统一社会信用代码校验位错误（应为 T）" in page
    assert "bad check character" not in page


def test_uscc_problems_render_in_chinese(app):
    cases = {BAD: "校验位错误（应为 T）", "9133021173501016": "应为 18 位，此处为 16 位",
             "91330211735010162I": "中不允许出现字符“I”"}
    with app.test_request_context("/"):
        for code, wanted in cases.items():
            problem = uscc.problem_message(code)
            assert problem is not None
            text = render(Message("USCC: %(problem)s", {"problem": problem}))
            assert text == "统一社会信用代码" + wanted
            assert not re.search(r"[A-Za-z]{3,}", text)


def test_admin_user_form_puts_each_error_on_its_own_box_in_words(client, logged_in):
    """Outside reader 10, R20: a vendor without a firm's code showed its error under the
    e-mail box; a short password and a short code read "字段长度必须…" (which field?)."""
    logged_in("admin")
    token = csrf_token(client, "/admin/users")
    no_firm = client.post("/admin/users", data={
        "csrf_token": token, "email": "v@example.cn", "role": "vendor", "firm_uscc": "",
        "password": "a-long-password-1"}).get_data(as_text=True)
    box = no_firm.split('name="firm_uscc"', 1)[1].split("</div>", 1)[0]
    assert "必须隶属于一家企业" in box
    assert "必须隶属于一家企业" not in no_firm.split('name="email"', 1)[1].split("</div>", 1)[0]
    short = client.post("/admin/users", data={
        "csrf_token": token, "email": "w@example.cn", "role": "vendor",
        "firm_uscc": "123456", "password": "short"}).get_data(as_text=True)
    assert "密码长度须为 10 至 200 个字符" in short and "统一社会信用代码应为 18 位" in short
    assert "字段长度" not in short
