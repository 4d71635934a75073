"""The chain commands: proof, verify (with no database), status, audit, anchor-now."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from eth_account import Account
from sqlalchemy import select, update

from tests.chain.conftest import ANVIL_KEYS, deploy_registry
from trellis import clock
from trellis.chain import client, commitments
from trellis.chain.models import Document
from trellis.chain.verify import REQUIRED
from trellis.db import transaction
from trellis.platform.cli import main
from trellis.trade.models import Invoice

TODAY = clock.today().isoformat()


@pytest.fixture
def runner(chain_app):
    return chain_app.test_cli_runner()


@pytest.fixture
def invoices(session_factory, make_firm):
    with transaction(session_factory) as s:
        seller, buyer = make_firm(), make_firm(role="anchor")
        rows = [Invoice(seller_id=seller.id, buyer_id=buyer.id, number=f"C-{i}",
                        amount_fen=1000 + i, issue_date=date(2026, 1, 5),
                        due_date=date(2026, 3, 5)) for i in range(3)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def invoke(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_anchor_now_status_and_proof(runner, invoices, tmp_path):
    out = invoke(runner, "chain", "anchor-now")
    assert out.exit_code == 0 and "collected 3 documents, cut 1 batches, sent 1" in out.output
    status = json.loads(invoke(runner, "chain", "status", "--json").output)
    assert status["health"]["ok"] and status["health"]["queue_length"] == 0
    (batch,) = status["batches"]
    assert batch["state"] == "included" and len(batch["documents"]) == 3
    bundle, doc = tmp_path / "b.json", tmp_path / "d.json"
    out = invoke(runner, "proof", f"invoice/{invoices[1]}", "--out", str(bundle),
                 "--document-out", str(doc))
    assert out.exit_code == 0, out.output
    data = json.loads(bundle.read_text(encoding="utf-8"))
    assert hashlib.sha256(doc.read_bytes()).hexdigest() == data["document"]["content_hash"]
    assert json.loads(doc.read_bytes())["number"] == "C-1"


def test_proof_of_a_queued_document_is_refused(runner, session_factory, tmp_path):
    with transaction(session_factory) as s:
        doc = commitments.enqueue(session=s, doc_type="ledger_entry", doc_id="Q-1",
                                  payload={"amount_fen": 1})
    out = invoke(runner, "proof", str(doc.id), "--out", str(tmp_path / "x.json"))
    assert out.exit_code == 1 and "尚未上链" in out.output, out.output
    assert not (tmp_path / "x.json").exists()


def test_audit_exit_status_follows_the_discrepancies(runner, invoices, session_factory,
                                                     tmp_path):
    invoke(runner, "chain", "anchor-now")
    clean = invoke(runner, "audit", "--from", TODAY, "--to", TODAY, "--json")
    assert clean.exit_code == 0 and json.loads(clean.output)["documents"] == 3
    with transaction(session_factory) as s:
        s.execute(update(Invoice).where(Invoice.id == invoices[0]).values(number="C-0X"))
    csv_path = tmp_path / "report.csv"
    dirty = invoke(runner, "audit", "--from", TODAY, "--to", TODAY, "--json", "--csv",
                   str(csv_path))
    report = json.loads(dirty.output)
    assert dirty.exit_code == 1 and report["discrepancy_count"] == 1
    assert report["discrepancies"][0]["kind"] == "source_changed"
    assert "C-0X" in csv_path.read_text(encoding="utf-8")


def test_deploy_needs_a_node(runner):
    out = invoke(runner, "chain", "deploy")
    assert out.exit_code == 1 and "TRELLIS_CHAIN_URL" in out.output


@pytest.mark.chain_node
def test_trellis_verify_runs_with_no_database(anvil, session_factory, invoices, tmp_path,
                                              app_settings):
    """The bundle made by Trellis verifies with the `trellis` executable, in a directory
    with no database and no TRELLIS_* settings but --rpc; a changed document fails."""
    from trellis.platform import create_app

    address = deploy_registry(anvil.url)
    settings = app_settings.__class__(**{**app_settings.__dict__, "chain_url": anvil.url,
                                         "chain_key": ANVIL_KEYS[0],
                                         "chain_contract": address})
    app = create_app({"TESTING": True}, settings=settings, session_factory=session_factory)
    runner = app.test_cli_runner()
    try:
        assert invoke(runner, "chain", "anchor-now").exit_code == 0
        bundle, doc, tree = tmp_path / "b.json", tmp_path / "d.json", tmp_path / "t.json"
        assert invoke(runner, "proof", f"invoice/{invoices[2]}", "--out", str(bundle),
                      "--document-out", str(doc), "--manifest-out", str(tree)).exit_code == 0
    finally:
        client.reset_chains()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    exe = os.path.join(os.path.dirname(sys.executable), "trellis")
    ok = subprocess.run([exe, "verify", str(bundle), "--document", str(doc), "--rpc",
                         anvil.url, "--contract", address, "--anchorer",
                         Account.from_key(ANVIL_KEYS[0]).address, "--manifest", str(tree)],
                        cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().endswith("VERIFIED")
    assert ok.stdout.count("PASS") == len(REQUIRED) + 1  # and the manifest
    doc.write_bytes(doc.read_bytes().replace(b"C-2", b"C-9"))
    lines: list[str] = []
    from trellis.chain.verify import run_cli

    assert run_cli(str(bundle), str(doc), anvil.url, as_json=True, echo=lines.append,
                   contracts=[address]) == 1
    report = json.loads(lines[0])
    assert [s["name"] for s in report["steps"] if not s["ok"]] == ["content_hash"]
    assert not (work / "instance").exists()
    with transaction(session_factory) as s:
        assert s.scalars(select(Document).where(Document.content_hash == json.loads(
            bundle.read_text())["document"]["content_hash"])).first() is not None
