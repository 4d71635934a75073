"""The onboarding journey in a real browser: an RM creates a cluster, records the data
basis, uploads a park's files whose headers are not Trellis's own and maps their columns,
watches the import, and, after the pre-assessment, sees the whitelist with indicative
limits. Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import DESKTOP, log_in, shot
from tests.onboarding import park as park_files
from trellis import clock

pytestmark = pytest.mark.browser
CODE = "WEB-PARK"


def _upload(page, live, kind: str, path, source: str = "苏州银行导出") -> None:
    page.goto(f"{live.url}/network/{CODE}/import")
    page.select_option("#kind", kind)
    page.fill("#source", source)
    page.set_input_files("#file", str(path))
    page.click("form[enctype] button.primary")
    page.wait_for_load_state()


def _confirm_mapping(page, fixes: dict[str, str] | None = None) -> None:
    assert "/mapping" in page.url, page.url
    for header, field in (fixes or {}).items():
        page.select_option(f"select[aria-label='{header}']", field)
    page.click("[data-testid=mapping-form] button.primary")
    page.wait_for_load_state()


def _finished(page) -> str:
    """The run's final status (its CSS class: succeeded, refused, failed)."""
    page.wait_for_function("document.querySelector('#run-status') && "
                           "!['queued', 'running'].some(s => document.querySelector("
                           "'#run-status').className.includes(s))")
    return page.get_attribute("#run-status", "class").removeprefix("status-")


def test_rm_onboards_a_park_in_the_browser(live, new_page, tmp_path):
    from trellis.db import transaction
    from trellis.scoring import service
    from trellis.trade.models import Cluster

    files = park_files.write(tmp_path, vendors=12, months=14)
    page = new_page(viewport=DESKTOP)
    log_in(page, live, "rm@trellis.demo")
    # --- create the cluster
    page.goto(f"{live.url}/network/clusters/new")
    page.fill("#code", CODE)
    page.fill("#name", "苏州工业园区配套园")
    page.fill("#region", "苏州市")
    shot(page, "20-rm-new-cluster")
    page.click("form button.primary")
    page.wait_for_url(re.compile(rf".*/network/{CODE}/settings"))
    # --- the data basis for pre-assessment
    page.fill("#basis-party", "苏州示范核心企业1有限公司")
    page.fill("#basis-reference", "DSA-2026-017")
    page.fill("#basis-scope", "供应商的订单、发票、确权和付款数据")
    page.fill("#basis-expires_on", (clock.today() + timedelta(days=365)).isoformat())
    page.click("form:has(#basis-party) button.primary")
    page.wait_for_load_state()
    assert page.locator("[data-testid=basis-valid]").count() == 1
    shot(page, "21-rm-data-basis")
    # --- firms: Trellis proposes a mapping; the RM corrects one column and confirms
    _upload(page, live, "firms", tmp_path / "firms.csv")
    # the USCC column's name is only similar to a known one: proposed, for the RM to check
    assert page.eval_on_selector("select[aria-label='社会信用代码']", "e => e.value") == "uscc"
    page.select_option("select[aria-label='注册地']", "region")
    shot(page, "22-rm-map-columns")
    _confirm_mapping(page)
    assert _finished(page) == "succeeded"
    shot(page, "23-rm-import-progress")
    # --- the other files: relationships need the RM's eye, the rest go straight through
    _upload(page, live, "relationships", tmp_path / "relationships.csv")
    _confirm_mapping(page)
    _finished(page)
    for kind, name in (("orders", "orders"), ("invoices", "invoices"),
                       ("confirmations", "confirmations"), ("payments", "payments")):
        _upload(page, live, kind, tmp_path / f"{name}.csv")
        if "/mapping" in page.url:
            _confirm_mapping(page)
        assert _finished(page) == "succeeded", page.content()[:3000]
        if kind == "invoices":
            assert "备注" in page.content()  # the column the bank added is listed, not lost
            shot(page, "24-rm-invoices-imported-unmapped-listed")
    # --- the pre-assessment (the scheduled rescore, run here) and the whitelist
    with transaction(live.sessions) as s:
        cluster_id = s.query(Cluster).filter(Cluster.code == CODE).one().id
        results, run = service.score_portfolio(session=s, cluster_id=cluster_id)
        assert run.n_scored >= len(files.vendors) and run.n_flagged == 0
    page.goto(f"{live.url}/network/{CODE}/settings")
    shot(page, "25-rm-cluster-coverage")
    page.goto(f"{live.url}/network/{CODE}/invitations?limits=1")
    body = page.content()
    assert "苏州配套供应商1号" in body and "¥" in body
    shot(page, "26-rm-whitelist-with-limits")
