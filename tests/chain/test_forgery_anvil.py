"""The forgery drill on a REAL anvil node (issue 10): a second ``TrellisRegistry`` deployed
by another key anchors a forged invoice's root; ``trellis verify`` (the executable, in a
directory with no Trellis settings), the upload-and-verify page and the API all refuse it,
naming the untrusted contract. And every field of a genuine bundle, flipped one at a
time, fails against the node."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date

import pytest
from eth_account import Account
from sqlalchemy import select

from tests.chain.conftest import ANVIL_KEYS, NODE_MODULES, ROOT, deploy_registry, make_settings
from tests.chain.forgery import forge_bundle, variants
from tests.conftest import need, next_uscc
from tests.platform.conftest import csrf_token, login
from trellis.chain import bundles, client, jobs, trust, verify
from trellis.chain.models import Document
from trellis.db import transaction
from trellis.platform.cli import main
from trellis.trade.models import Invoice

pytestmark = pytest.mark.chain_node
EXE = os.path.join(os.path.dirname(sys.executable), "trellis")
TOOL = ROOT / "tools" / "verify-bundle.cjs"


@pytest.fixture
def bank(anvil, app_settings, session_factory, make_firm):
    """A Trellis instance on anvil (anchoring key 0) with one anchored batch; returns
    (app, settings, a genuine bundle)."""
    from trellis.platform import create_app

    address = deploy_registry(anvil.url)
    settings = app_settings.__class__(**{**app_settings.__dict__, "chain_url": anvil.url,
                                         "chain_key": ANVIL_KEYS[0],
                                         "chain_contract": address})
    with transaction(session_factory) as s:
        seller, buyer = make_firm(), make_firm(role="anchor")
        s.add_all(Invoice(seller_id=seller.id, buyer_id=buyer.id, number=f"G-{i}",
                          amount_fen=70_000 + i, issue_date=date(2026, 7, 1),
                          due_date=date(2026, 9, 1)) for i in range(4))
    jobs.anchor_pending(session_factory=session_factory, settings=settings)
    with transaction(session_factory) as s:
        doc = s.scalars(select(Document).where(Document.batch_id.is_not(None))).first()
        genuine = bundles.make_bundle(session=s, document=doc)
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    yield app, settings, genuine
    client.reset_chains()


def forged(anvil) -> tuple[str, dict]:
    """The forger: anvil key 1 deploys its own registry and anchors a forged invoice."""
    forger = client.Chain.connect(make_settings(chain_url=anvil.url, chain_key=ANVIL_KEYS[1]))
    fake = forger.deploy()
    payload = {"seller_uscc": next_uscc(), "buyer_uscc": next_uscc(), "number": "FORGED-7",
               "amount_fen": 880_000_00, "issue_date": "2026-07-01",
               "due_date": "2026-10-01", "order_number": None}
    return fake, forge_bundle(forger, fake, payload)


def test_the_cli_refuses_a_forged_document_naming_the_contract(bank, anvil, tmp_path):
    app, settings, genuine = bank
    fake, bundle = forged(anvil)
    runner = app.test_cli_runner()
    listed = tmp_path / "trusted.json"
    out = runner.invoke(main, ["chain", "trusted", "--out", str(listed)],
                        catch_exceptions=False)
    assert out.exit_code == 0, out.output
    published = json.loads(listed.read_text())["registries"]
    assert published == [{"chain_id": 31337, "contract": settings.chain_contract.lower(),
                          "anchorers": [Account.from_key(ANVIL_KEYS[0]).address.lower()],
                          "name": "this instance"}]
    (tmp_path / "forged.json").write_text(bundles.dumps(bundle))
    (tmp_path / "genuine.json").write_text(bundles.dumps(genuine))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}

    def run(name, *extra):
        return subprocess.run([EXE, "verify", str(tmp_path / name), "--rpc", anvil.url,
                               *extra], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)

    refused = run("forged.json", "--trusted", str(listed))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "NOT VERIFIED" in refused.stdout
    assert f"FAIL  untrusted contract {fake}" in refused.stdout
    assert run("forged.json", "--contract", settings.chain_contract).returncode == 1
    assert run("forged.json").returncode == 1  # told to trust nothing: nothing verifies
    accepted = run("genuine.json", "--trusted", str(listed))
    assert accepted.returncode == 0, accepted.stdout
    assert accepted.stdout.strip().endswith("VERIFIED")


def test_the_page_and_the_api_refuse_a_forged_document(bank, anvil, make_user):
    app, settings, genuine = bank
    fake, bundle = forged(anvil)
    web = app.test_client()
    login(web, make_user("auditor"))
    page = web.post("/chain/check", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(web, "/chain/check"),
        "upload": (io.BytesIO(bundles.dumps(bundle).encode()), "forged.json")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-verdict="untrusted"' in text and f'data-contract="{fake}"' in text
    assert "不是本行信任的登记合约" in text and fake in text
    assert 'data-verdict="verified"' not in text
    token = csrf_token(web, "/chain/check")
    api = web.post("/api/v1/chain/verify", json={"bundle": bundle},
                   headers={"X-CSRFToken": token}).get_json()
    assert api["ok"] is False and api["untrusted_contract"] == fake
    assert fake in api["message"] and "不是本行信任的登记合约" in api["message"]
    good = web.post("/api/v1/chain/verify", json={
        "bundle": genuine, "document_base64": base64.b64encode(
            genuine["document"]["canonical"].encode()).decode()},
        headers={"X-CSRFToken": token}).get_json()
    assert good["ok"] is True and good["untrusted_contract"] is None
    assert web.get("/chain/trusted.json").get_json()["registries"][0]["contract"] == \
        settings.chain_contract.lower()


def test_every_field_flipped_fails_on_anvil(bank, anvil):
    _app, settings, genuine = bank
    trusted = trust.from_args([settings.chain_contract],
                              [Account.from_key(ANVIL_KEYS[0]).address], 31337)
    assert verify.verify_bundle(genuine, rpc_url=anvil.url, trust=trusted).ok
    count = 0
    for what, changed in variants(genuine):
        report = verify.verify_bundle(changed, rpc_url=anvil.url, trust=trusted)
        assert not report.ok and any(s.ok is False for s in report.steps), what
        count += 1
    assert count > 50


def test_openzeppelins_library_alone_verifies_a_bundle_and_refuses_flips(bank, anvil,
                                                                          tmp_path):
    """tools/verify-bundle.cjs (README: an outside auditor's check with
    @openzeppelin/merkle-tree and JSON-RPC only) on a real bundle, every flipped one,
    and the forged one."""
    node = shutil.which("node")
    need(node is not None and (NODE_MODULES / "@openzeppelin" / "merkle-tree").is_dir(),
         "node and @openzeppelin/merkle-tree are not installed (run `npm ci`)")
    _app, settings, genuine = bank
    listed = tmp_path / "trusted.json"
    listed.write_text(trust.from_args([settings.chain_contract],
                                      [Account.from_key(ANVIL_KEYS[0]).address], 31337).dumps())

    def run(bundle: dict, *extra) -> subprocess.CompletedProcess:
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle, ensure_ascii=False))
        return subprocess.run([node, str(TOOL), str(path), *extra], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)

    chain_args = ("--rpc", anvil.url, "--trusted", str(listed))
    ok = run(genuine, *chain_args)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("\nVERIFIED"), ok.stdout + ok.stderr
    assert ok.stdout.count("PASS") == 12  # with the scope step (reader 13, H12)
    assert "PASS  scope:" in ok.stdout
    offline = run(genuine)
    assert offline.returncode == 2 and "StandardMerkleTree.verify" in offline.stdout
    for what, changed in variants(genuine):
        out = run(changed, *chain_args)
        assert out.returncode == 1 and "NOT VERIFIED" in out.stdout, (what, out.stdout,
                                                                       out.stderr)
    fake, bundle = forged(anvil)
    refused = run(bundle, *chain_args)
    assert refused.returncode == 1
    assert f"contract {fake.lower()} is NOT a registry you trust" in refused.stdout
