"""An error Trellis did not foresee (a core's internal invariant, a library's) reaches a
person as the generic page with a reference, in their language; the developer's English
message stays in the log (issue 15)."""

from __future__ import annotations

import logging
import re

from trellis.ledger.apr import NoSolution
from trellis.platform.errors import handle_unexpected

DEVELOPER = "entry loan-7: wrote 1 of 2 postings"


def _app_with_a_bug(app):
    app.register_error_handler(Exception, handle_unexpected)   # as outside tests

    @app.get("/bug")
    def bug():
        raise RuntimeError(DEVELOPER)

    @app.get("/api/bug")
    def api_bug():
        raise NoSolution("IRR did not converge")

    return app


def test_an_internal_error_is_the_generic_page_with_a_reference(app, client, caplog):
    _app_with_a_bug(app)
    with caplog.at_level(logging.ERROR):
        response = client.get("/bug", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert DEVELOPER not in page and "RuntimeError" not in page
    found = re.search(r"系统出错（参考编号 (E-[0-9A-F]{8})），未保存任何内容。", page)
    assert found, page
    assert found.group(1) in caplog.text and DEVELOPER in caplog.text


def test_an_internal_error_in_the_api_carries_the_reference(app, client):
    _app_with_a_bug(app)
    response = client.get("/api/bug")
    assert response.status_code == 500
    body = response.get_json()["error"]
    assert body["code"] == "internal_error"
    assert re.fullmatch(r"E-[0-9A-F]{8}", body["reference"])
    assert body["reference"] in body["message"] and "IRR" not in body["message"]
