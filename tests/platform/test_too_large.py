"""A file over the upload limit is answered in words with the limit, on the upload page it
came from (reader 12, G9: a bare "413" heading, then only a link to the home page)."""

from __future__ import annotations

import io

import pytest

from tests.platform.conftest import csrf_token
from tests.vouchers.factories import supply_chain
from trellis.trade.models import Cluster, ClusterManager

LIMIT = 2 * 1_048_576


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)


def _vendor(client, logged_in, session, chain) -> str:
    logged_in("vendor", firm=chain.tier1)
    return "/vendor/trade/upload"


def _rm(client, logged_in, session, chain) -> str:
    user = logged_in("rm")
    session.add(ClusterManager(cluster_id=chain.anchor.cluster_id, user_id=user.id))
    session.flush()
    return f"/network/{session.get(Cluster, chain.anchor.cluster_id).code}/import"


@pytest.mark.parametrize("page", [_vendor, _rm], ids=["vendor", "rm"])
def test_a_file_over_the_limit_returns_to_its_upload_page_with_the_limit(
        client, logged_in, session, chain, page):
    client.application.config["MAX_CONTENT_LENGTH"] = LIMIT
    url = page(client, logged_in, session, chain)
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "kind": "invoices",
                                      "file": (io.BytesIO(b"x" * (LIMIT + 1)), "big.csv")},
                           content_type="multipart/form-data",
                           headers={"Referer": f"http://localhost{url}"})
    assert response.status_code == 303
    assert response.location.endswith(url)
    body = client.get(response.location).get_data(as_text=True)
    assert "文件太大：上传的文件最大 2 MB。未保存任何内容" in body
    assert "<h1>413" not in body


def test_without_a_page_to_return_to_the_heading_is_words(client, logged_in, session, chain):
    client.application.config["MAX_CONTENT_LENGTH"] = LIMIT
    url = _vendor(client, logged_in, session, chain)
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "kind": "invoices",
                                      "file": (io.BytesIO(b"x" * (LIMIT + 1)), "big.csv")},
                           content_type="multipart/form-data",
                           headers={"Referer": "http://elsewhere.example/x"})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "<h1>文件太大（413）</h1>" in body and "最大 2 MB" in body


def test_the_vendor_upload_page_states_its_limit(client, logged_in, session, chain):
    body = client.get(_vendor(client, logged_in, session, chain)).get_data(as_text=True)
    assert "文件最大 5 MB。" in body


def test_the_vendor_upload_page_is_told_its_own_smaller_limit(client, logged_in, session,
                                                              chain):
    """Reader 12b, H5: the vendor's upload page says 最大 5 MB, and a 21 MB file was told
    最大 20 MB (the server's limit): the message back on that page names the page's own."""
    from trellis.onboarding import trade_entry

    client.application.config["MAX_CONTENT_LENGTH"] = trade_entry.MAX_UPLOAD * 4
    url = _vendor(client, logged_in, session, chain)
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "kind": "invoices",
                                      "file": (io.BytesIO(b"x" * (trade_entry.MAX_UPLOAD * 4
                                                                   + 1)), "big.csv")},
                           content_type="multipart/form-data",
                           headers={"Referer": f"http://localhost{url}"})
    assert response.status_code == 303
    body = client.get(response.location).get_data(as_text=True)
    mb = trade_entry.MAX_UPLOAD // 1_048_576
    assert f"文件太大：上传的文件最大 {mb} MB。" in body
    assert f"最大 {mb * 4} MB" not in body
