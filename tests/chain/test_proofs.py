"""Proof bundles, their verification without a database, and the full audit."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from trellis import clock
from trellis.chain import audit, bundles, client, commitments, jobs, trust, verify
from trellis.chain.errors import ProofNotReady
from trellis.chain.models import AuditRun, Document
from trellis.db import transaction
from trellis.trade.models import Invoice

TODAY = clock.today()


@pytest.fixture
def anchored(session_factory, make_firm, embedded, chain_settings):
    """Six invoices and two ledger entries, committed and anchored; returns their docs."""
    with transaction(session_factory) as s:
        seller, buyer = make_firm(), make_firm(role="anchor")
        for i in range(6):
            s.add(Invoice(seller_id=seller.id, buyer_id=buyer.id, number=f"P-{i}",
                          amount_fen=10_000 * (i + 1), issue_date=date(2026, 3, 1),
                          due_date=date(2026, 4, 1)))
        s.flush()
        for i in range(2):
            commitments.enqueue(session=s, doc_type="ledger_entry", doc_id=f"J-{i}",
                                payload={"amount_fen": 5 + i, "account": "1122"})
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    with transaction(session_factory) as s:
        return list(s.scalars(select(Document).order_by(Document.id)))


def bundle_of(session_factory, doc):
    with transaction(session_factory) as s:
        return bundles.make_bundle(session=s, document=s.get(Document, doc.id))


def test_every_bundle_verifies_against_the_chain(session_factory, anchored, embedded):
    assert len(anchored) == 8 and {d.status for d in anchored} == {"batched"}
    for doc in anchored:
        report = verify.verify_bundle(bundle_of(session_factory, doc), chain=embedded,
                                      trust=trust.of_instance(embedded))
        assert report.ok, report.as_dict()


@pytest.mark.parametrize("tamper, failing", [
    (lambda b: b["document"].update(canonical=b["document"]["canonical"].replace("P-", "Q-")),
     {"content_hash", "leaf"}),
    (lambda b: b["document"].update(salt="00" * 32), {"leaf"}),
    (lambda b: b["merkle"]["proof"].reverse() or b["merkle"]["proof"].append("0x" + "00" * 32),
     {"merkle_path"}),
    (lambda b: b["anchor"].update(chain_id=1), {"chain_id", "trusted", "anchorer"}),
    (lambda b: b["anchor"].update(block_number=b["anchor"]["block_number"] + 1),
     {"anchored", "transaction", "anchorer", "canonical_block"}),
    (lambda b: b["anchor"].update(block_hash="0x" + "ab" * 32),
     {"transaction", "anchorer", "canonical_block"}),
])
def test_a_tampered_bundle_fails_at_the_right_step(session_factory, anchored, embedded,
                                                   tamper, failing):
    bundle = bundle_of(session_factory, next(d for d in anchored if d.doc_type == "invoice"))
    tamper(bundle)
    report = verify.verify_bundle(bundle, chain=embedded, trust=trust.of_instance(embedded))
    assert not report.ok
    assert {s.name for s in report.steps if s.ok is False} == failing


def test_a_bundle_against_another_chain_is_not_verified(session_factory, anchored):
    bundle = bundle_of(session_factory, anchored[0])
    other = client.Chain.embedded()  # same chain id and address, but never anchored it
    report = verify.verify_bundle(bundle, chain=other, trust=trust.of_instance(other))
    assert [s.name for s in report.steps if s.ok is False] == [
        "anchored", "transaction", "anchorer", "canonical_block"]


def test_without_a_node_the_verdict_is_withheld(session_factory, anchored, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(bundles.dumps(bundle_of(session_factory, anchored[1])), encoding="utf-8")
    lines = []
    assert verify.run_cli(str(path), None, None, echo=lines.append) == 2
    # the first line says which chain the bundle is on (api13), then the steps
    assert lines[0].startswith("chain: ") and lines[1].startswith("PASS")
    assert lines[-1] == "NOT VERIFIED"
    bad = tmp_path / "other.json"
    bad.write_bytes(b'{"doc_type":"invoice"}')
    assert verify.run_cli(str(path), str(bad), None, echo=lines.append) == 1


def test_no_bundle_before_inclusion(session_factory, embedded):
    with transaction(session_factory) as s:
        doc = commitments.enqueue(session=s, doc_type="voucher_event", doc_id="V-1",
                                  payload={"kind": "split"})
        with pytest.raises(ProofNotReady, match="not anchored yet"):
            bundles.make_bundle(session=s, document=doc)
        assert bundles.find_document(session=s, ref="voucher_event/V-1").id == doc.id
        assert bundles.find_document(session=s, ref=str(doc.id)).id == doc.id


def test_bundles_verify_with_the_npm_library_and_sha256sum(session_factory, anchored, oz,
                                                          tmp_path):
    items = []
    for doc in anchored:
        b = bundle_of(session_factory, doc)
        items.append({"root": b["merkle"]["root"], "encoding": b["leaf"]["encoding"],
                      "value": b["leaf"]["value"], "proof": b["merkle"]["proof"]})
        if shutil.which("sha256sum"):
            path = tmp_path / f"{doc.id}.json"
            path.write_text(b["document"]["canonical"], encoding="utf-8")
            out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                                 check=True).stdout.split()[0]
            assert out == b["document"]["content_hash"]
    assert oz({"op": "verify", "items": items})["ok"] == [True] * len(items)


def test_the_audit_catches_rows_edited_after_anchoring(session_factory, anchored, embedded):
    with transaction(session_factory) as s:
        clean = audit.run_audit(session=s, date_from=TODAY, date_to=TODAY, chain=embedded)
    assert clean.ok and clean.documents == 8
    assert (clean.from_source, clean.record_only) == (6, 2)
    invoice_doc = next(d for d in anchored if d.doc_type == "invoice")
    ledger_doc = next(d for d in anchored if d.doc_type == "ledger_entry")
    with transaction(session_factory) as s:
        s.execute(update(Invoice).where(Invoice.id == invoice_doc.source_id)
                  .values(amount_fen=999_999_99))
        s.execute(update(Document).where(Document.id == ledger_doc.id)
                  .values(canonical=ledger_doc.canonical.replace('"amount_fen":5',
                                                                 '"amount_fen":6')))
    with transaction(session_factory) as s:
        report = audit.run_audit(session=s, date_from=TODAY, date_to=TODAY, chain=embedded)
    found = {(d["kind"], d["document_id"]) for d in report.discrepancies}
    assert found == {("source_changed", invoice_doc.id), ("record_changed", ledger_doc.id)}
    assert "99999999" in report.to_csv() and report.as_dict()["discrepancy_count"] == 2
    with transaction(session_factory) as s:
        earlier = audit.run_audit(session=s, date_from=TODAY - timedelta(days=9),
                                  date_to=TODAY - timedelta(days=1), chain=embedded)
    assert earlier.documents == 0 and earlier.ok


def test_the_audit_notices_a_chain_without_the_roots(session_factory, anchored):
    with transaction(session_factory) as s:
        report = audit.run_audit(session=s, date_from=TODAY, date_to=TODAY,
                                 chain=client.Chain.embedded())
    assert {d["kind"] for d in report.discrepancies} == {"not_anchored"}


def test_a_background_audit_records_progress_and_its_report(session_factory, anchored,
                                                            chain_settings):
    with transaction(session_factory) as s:
        run_id = audit.queue_run(session=s, date_from=TODAY, date_to=TODAY).id
    audit.execute_run(run_id, session_factory=session_factory, settings=chain_settings)
    with transaction(session_factory) as s:
        run = s.get(AuditRun, run_id)
        assert (run.state, run.checked, run.total, run.discrepancy_count) == ("done", 8, 8, 0)
        assert json.loads(json.dumps(run.report))["documents"] == 8
