"""Outside reader 11 on the RM's pages. F25: the invitation list's consent column said
企业本人授权 or 无 (never when, never a withdrawal), and put "—" beside "¥0.00"; it says
已同意 / 未同意 / 已撤回 with the day now, and one convention: a figure is a figure, no
figure says why in words. F16: the import page says the Chinese templates use Chinese
words and either form imports."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.platform.network.test_pages import park, rm  # noqa: F401
from trellis.accounts.models import Consent
from trellis.accounts.services import grant_consent, withdraw_consent
from trellis.onboarding import invitations


def _zh(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def _row(page: str, name: str) -> str:
    return next(r for r in page.split("<tr") if name in r)


def test_consent_states_in_the_core(session, park):  # noqa: F811
    cluster, anchor, vendor, far = park
    assert invitations.consent_states(session=session, firm_ids=[vendor.id])[
        vendor.id
    ] == invitations.ConsentState("none")
    given = grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    state = invitations.consent_states(session=session, firm_ids=[vendor.id])[vendor.id]
    assert (state.state, state.at) == ("given", given.granted_at)
    withdraw_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    state = invitations.consent_states(session=session, firm_ids=[vendor.id])[vendor.id]
    withdrawn = session.exec(select(Consent).where(Consent.firm_id == vendor.id)).one()
    assert (state.state, state.at) == ("withdrawn", withdrawn.withdrawn_at)
    # another purpose is not this consent
    grant_consent(session=session, firm_id=vendor.id, purpose="credit_query")
    session.flush()
    assert (
        invitations.consent_states(session=session, firm_ids=[vendor.id])[vendor.id].state
        == "withdrawn"
    )


def test_the_invitation_list_says_consent_in_words_and_when(client, session, rm, park):  # noqa: F811
    cluster, anchor, vendor, far = park
    url = f"/network/{cluster.code}/invitations?limits=1"
    _zh(client)
    row = _row(client.get(url).get_data(as_text=True), "小河五金")
    assert 'data-consent="none"' in row and "未同意" in row
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    row = _row(client.get(url).get_data(as_text=True), "小河五金")
    assert 'data-consent="given"' in row and re.search(r"已同意（\d{4}-\d\d-\d\d", row)
    withdraw_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    session.flush()
    row = _row(client.get(url).get_data(as_text=True), "小河五金")
    assert 'data-consent="withdrawn"' in row and re.search(r"已撤回（\d{4}-\d\d-\d\d", row)


def test_no_figure_says_why_and_never_a_bare_dash(client, session, rm, park):  # noqa: F811
    cluster, anchor, vendor, far = park
    vendor.phone = None
    session.add(vendor)
    session.flush()
    _zh(client)
    base = f"/network/{cluster.code}/invitations"
    row = _row(client.get(base + "?limits=0").get_data(as_text=True), "小河五金")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert not any(re.sub(r"<[^>]+>", "", c).strip() == "—" for c in cells), cells
    assert "未测算" in row and "未登记" in row  # limits not asked for; no phone
    row = _row(client.get(base + "?limits=1").get_data(as_text=True), "小河五金")
    assert "未评分" in row.split("data-limit")[1].split("</td>")[0]  # no basis: no figure


def test_the_import_page_says_the_chinese_templates_use_chinese_words(client, rm, park):  # noqa: F811
    cluster = park[0]
    _zh(client)
    page = client.get(f"/network/{cluster.code}/import").get_data(as_text=True)
    assert "中文模板用中文填写（如 供应商、已确权、退货）" in page
    body = client.get("/network/templates/confirmations.csv").get_data()
    assert "已确权" in body.decode("utf-8-sig") and "confirmed" not in body.decode("utf-8-sig")
    english = client.get("/network/templates/confirmations.csv?lang=en").get_data()
    assert "confirmed" in english.decode("utf-8-sig")
