"""Issue 15: the API and the commands say on which chain an anchoring is, as the pages do
(trellis.chain.scope): a ``chain_scope`` object (kind, chain id, node, the claim in the
request's language) wherever an answer claims anchoring, a ``chain:`` line in the
commands."""

from __future__ import annotations

import json

import pytest

from tests.platform.chain.test_cli import invoke
from tests.platform.chain.test_pages import anchor_invoices
from tests.platform.conftest import csrf_token, login
from trellis.accounts import services as accounts
from trellis.chain import scope
from trellis.chain.verify import run_cli

ZH_CLAIM = "发票、订单与确权记录登记在本服务器内置的测试链上"
EN_CLAIM = "anchored on a test chain inside this server: only this platform can read it"
ZH_BUNDLE = "该证明包登记在签发它的服务器内置的测试链上"


@pytest.fixture
def client(chain_app):
    return chain_app.test_client()


@pytest.fixture
def anchored(chain_app, session_factory, make_firm, app_settings):
    return anchor_invoices(session_factory, make_firm, app_settings)


def _embedded(found: dict) -> None:
    assert found["kind"] == "embedded" and found["independent"] is False
    assert found["chain_id"] == scope.EMBEDDED_CHAIN_ID and found["node"] == ""


def test_every_chain_answer_names_the_embedded_chain(client, anchored, make_user):
    doc = next(d for d in anchored["docs"] if d.batch_id)
    login(client, make_user("auditor"))
    footer = client.get("/chain/").get_data(as_text=True)
    answers = {
        "scope": client.get("/api/v1/chain/scope").get_json(),
        "status": client.get("/api/v1/chain/status").get_json()["chain_scope"],
        "batches": client.get("/api/v1/chain/batches").get_json()["chain_scope"]}
    proof = client.get(f"/api/v1/chain/documents/invoice/{doc.doc_id}/proof")
    bundle = proof.get_json()
    assert "chain_scope" not in bundle   # the bundle's format is fixed: its headers say it
    assert proof.headers["Trellis-Chain-Scope"] == f"embedded; chain-id={scope.EMBEDDED_CHAIN_ID}"
    assert proof.headers["Link"] == '</api/v1/chain/scope>; rel="describedby"'
    answers["verify"] = client.post(
        "/api/v1/chain/verify", json={"bundle": bundle},
        headers={"X-CSRFToken": csrf_token(client, "/chain/check")}).get_json()["chain_scope"]
    for name, found in answers.items():
        _embedded(found)
        assert found["claim"].startswith(ZH_CLAIM), name
        assert found["claim"] in footer, name   # the pages' words, once
        assert found["chain_name"] == "内置测试链（不连接真实网络）"


def test_the_vendor_api_says_the_scope_in_the_requests_language(client, anchored, session):
    _row, secret = accounts.issue_api_token(session=session, firm_id=anchored["seller"].id,
                                            name="books")
    session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    zh = client.get("/api/v1/vendor/invoices", headers=bearer).get_json()
    assert any(i["chain"]["state"] == "included" for i in zh["items"])
    _embedded(zh["chain_scope"])
    assert zh["chain_scope"]["claim"].startswith(ZH_CLAIM)
    en = client.get("/api/v1/vendor/orders",
                    headers=bearer | {"Accept-Language": "en-GB,en;q=0.9"}).get_json()
    assert EN_CLAIM in en["chain_scope"]["claim"]
    assert en["chain_scope"]["chain_name"] == "embedded test chain (no real network)"


@pytest.mark.parametrize("url, chain_id, kind, words", [
    ("https://user:key@rpc.sepolia.example/v3/SECRET", 11155111, scope.NETWORK,
     "anyone can check it against any node of that network"),
    ("http://127.0.0.1:8545", 31337, scope.LOCAL, "only those who can reach its node"),
    (None, scope.EMBEDDED_CHAIN_ID, scope.EMBEDDED, "not evidence anyone else can check"),
])
def test_a_bundle_names_its_chain(url, chain_id, kind, words):
    found = scope.of_node(url, chain_id)
    assert found.kind == kind and found.independent is (kind == scope.NETWORK)
    assert words in str(scope.bundle_claim(found))
    assert "SECRET" not in json.dumps(scope.as_dict(found)) and "key@" not in found.host


def test_the_openapi_document_describes_the_scope(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    def body(path, method="get"):
        return paths[path][method]["responses"]["200"]
    for path, method in [("/api/v1/chain/status", "get"), ("/api/v1/chain/batches", "get"),
                         ("/api/v1/chain/verify", "post"), ("/api/v1/vendor/invoices", "get"),
                         ("/api/v1/vendor/orders", "get")]:
        schema = body(path, method)["content"]["application/json"]["schema"]
        assert schema["properties"]["chain_scope"]["properties"]["kind"]["enum"] == [
            "embedded", "local", "network"], path
    assert "Trellis-Chain-Scope" in body("/api/v1/chain/documents/{ref}/proof")["headers"]
    assert body("/api/v1/chain/scope")["content"]["application/json"]["schema"][
        "required"][-1] == "claim"


def test_the_commands_name_the_chain(chain_app, anchored, tmp_path):
    runner = chain_app.test_cli_runner()
    doc = next(d for d in anchored["docs"] if d.batch_id)
    bundle = tmp_path / "b.json"
    out = invoke(runner, "proof", f"invoice/{doc.doc_id}", "--out", str(bundle))
    assert f"chain: {ZH_CLAIM}" in out.output, out.output
    assert f"chain: {ZH_CLAIM}" in invoke(runner, "chain", "status").output
    assert f"chain: {ZH_CLAIM}" in invoke(runner, "chain", "anchor-now").output
    status = json.loads(invoke(runner, "chain", "status", "--json").output)
    _embedded(status["chain_scope"])
    assert status["chain_scope"]["claim"].startswith(ZH_CLAIM)
    verified = invoke(runner, "verify", str(bundle))
    assert f"chain: {ZH_BUNDLE}" in verified.output, verified.output
    lines: list[str] = []
    run_cli(str(bundle), None, None, as_json=True, echo=lines.append)
    report = json.loads(lines[-1])
    _embedded(report["chain_scope"])
    assert "not evidence anyone else can check" in report["chain_scope"]["claim"]
