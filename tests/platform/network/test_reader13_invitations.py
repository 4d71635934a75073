"""Reader 13 (issue 15), G29: the RM's invitation pages list firms without an account
and did not say on what basis Trellis holds and uses their data. The list and each batch
now say it in words: the firm's own consent, the park's data-sharing agreement (named,
pre-assessment only), or none (kept, not scored)."""

from __future__ import annotations

from datetime import timedelta

from tests.platform.conftest import csrf_token
from tests.platform.network.test_pages import TODAY, park, rm  # noqa: F401
from trellis.accounts.services import grant_consent
from trellis.onboarding import basis


def _zh(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def _said(page: str) -> str:
    return page.split('id="data-basis"')[1].split("</p>")[0]


def _row(page: str, name: str) -> str:
    return next(r for r in page.split("<tr") if name in r)


def test_the_invitation_pages_say_on_what_basis_the_data_is_held(client, session, rm, park):  # noqa: F811
    cluster, anchor, vendor, far = park
    _zh(client)
    url = f"/network/{cluster.code}/invitations"
    page = client.get(url + "?limits=1").get_data(as_text=True)
    said = _said(page)
    assert 'data-basis="none"' in said and "未登记数据共享协议" in said and "不评分" in said
    assert "无使用依据：未评分" in _row(page, "小河五金")
    basis.record(session=session, cluster_id=cluster.id, party="示范核心企业",
                 reference="DSA-2026-001", scope="供应商订单、发票、确权和付款",
                 expires_on=TODAY + timedelta(days=365))
    session.flush()
    page = client.get(url + "?limits=1").get_data(as_text=True)
    said = _said(page)
    assert 'data-basis="park"' in said and "DSA-2026-001" in said and "示范核心企业" in said
    assert "仅限预评估" in said and "供应商订单、发票、确权和付款" in said
    assert (TODAY + timedelta(days=365)).isoformat() in said
    assert "依据：园区数据共享协议 DSA-2026-001，仅限预评估" in _row(page, "小河五金")
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    page = client.get(url + "?limits=1").get_data(as_text=True)
    assert "依据：企业本人授权" in _row(page, "小河五金")
    # the batch page says the same of the firms it invites
    response = client.post(url + "?limits=0", data={"csrf_token": csrf_token(client, url),
                                                    "firm_id": [str(vendor.id)],
                                                    "valid_days": "7"})
    assert response.status_code == 303
    batch = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "DSA-2026-001" in _said(batch) and "仅限预评估" in _said(batch)
