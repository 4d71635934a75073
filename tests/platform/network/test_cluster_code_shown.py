"""Outside reader 8, R29: "江北智能制造产业园 jiangbei-park" and "江北智能制造产业园
(jiangbei-park)": the cluster's code (its name in URLs and files) beside its Chinese name.
A relationship manager or auditor reads the name only; the administrator, who needs the
code, sees it marked as a code (translate="no") under the heading 代码."""

from __future__ import annotations

import re

import pytest

from tests.platform.network.test_pages import park  # noqa: F401


def _chinese(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


@pytest.mark.parametrize("role", ["rm", "auditor"])
def test_readers_see_the_name_only(client, session, logged_in, park, role):  # noqa: F811
    from trellis.trade.models import ClusterManager
    user = logged_in(role)
    if role == "rm":
        session.add(ClusterManager(cluster_id=park[0].id, user_id=user.id))
        session.flush()
    _chinese(client)
    page = client.get("/network/").get_data(as_text=True)
    assert "滨江园区" in page
    main = page.split("<main", 1)[1]
    # the code is in the links (URLs), never in the text the reader reads
    text = re.sub(r"<[^>]+>", " ", main)
    assert park[0].code not in text
    assert "<th>代码</th>" not in main


def test_the_administrator_sees_the_code_marked_and_labelled(client, logged_in, park):  # noqa: F811
    logged_in("admin")
    _chinese(client)
    page = client.get("/network/").get_data(as_text=True)
    assert "<th>代码</th>" in page
    assert f'translate="no" data-label="代码">{park[0].code}</td>' in page
    page = client.get("/admin/clusters").get_data(as_text=True)
    assert f'代码 <code class="mono" translate="no">{park[0].code}</code>' in page
    # the assignment form's list names the cluster; no "(code)" after the name
    assert f"滨江园区 ({park[0].code})" not in page
    assert re.search(r"<option[^>]*>滨江园区</option>", page)


def test_removing_a_parks_manager_says_what_it_does(client, session, logged_in, make_user,
                                                   park):  # noqa: F811
    """Outside reader 10, R26: a bare "×" after an e-mail took a manager off the park."""
    from trellis.trade.models import ClusterManager

    rm = make_user("rm")
    rm.name = "客户经理 周敏"
    session.add(ClusterManager(cluster_id=park[0].id, user_id=rm.id))
    session.flush()
    logged_in("admin")
    page = client.get("/admin/clusters").get_data(as_text=True)
    row = page.split("客户经理 周敏", 1)[1].split("</form>", 1)[0]
    assert "取消其园区负责权" in row and ">×<" not in row
    assert "客户经理 周敏 将不再负责滨江园区" in row
