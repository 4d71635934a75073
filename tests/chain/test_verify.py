"""Verification nobody can forge (issue 10, defects 1 and 2) on the embedded chain:
every field of a bundle is checked (flipped one at a time, each fails), and a look-alike
registry deployed by another key is refused by name. The same drills on anvil are in
``test_forgery_anvil.py``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from eth_account import Account
from sqlalchemy import select

from tests.chain.forgery import forge_bundle, variants
from tests.conftest import next_uscc
from trellis import clock
from trellis.chain import bundles, client, jobs, onchain, trust, verify
from trellis.chain.errors import BundleError
from trellis.chain.models import Document
from trellis.db import transaction
from trellis.trade.models import Invoice


@pytest.fixture
def anchored_bundle(session_factory, make_firm, embedded, chain_settings):
    with transaction(session_factory) as s:
        seller, buyer = make_firm(), make_firm(role="anchor")
        for i in range(4):  # one full batch (batch_max_documents is 4)
            s.add(Invoice(seller_id=seller.id, buyer_id=buyer.id, number=f"V-{i}",
                          amount_fen=50_000 + i, issue_date=date(2026, 5, 1),
                          due_date=date(2026, 6, 1)))
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    with transaction(session_factory) as s:
        doc = s.scalars(select(Document).order_by(Document.id)).first()
        return bundles.make_bundle(session=s, document=doc)


def forger_of(chain: client.Chain, index: int = 1) -> client.Chain:
    """Another account of the same embedded chain (anyone can deploy a registry)."""
    key = chain.w3.provider.ethereum_tester.backend.account_keys[index]
    return client.Chain(chain.w3, account=Account.from_key(key.to_bytes()), kind="embedded",
                        contract_address=None)


def forged_invoice() -> dict:
    return {"seller_uscc": next_uscc(), "buyer_uscc": next_uscc(), "number": "FAKE-1",
            "amount_fen": 99_000_000, "issue_date": "2026-05-01", "due_date": "2026-08-01",
            "order_number": None}


def test_a_genuine_bundle_verifies_with_every_step(anchored_bundle, embedded):
    report = verify.verify_bundle(anchored_bundle, chain=embedded,
                                  trust=trust.of_instance(embedded))
    assert report.ok, report.as_dict()
    assert [s.name for s in report.steps] == list(verify.REQUIRED)


def test_every_field_flipped_removed_or_added_fails(anchored_bundle, embedded):
    trusted = trust.of_instance(embedded)
    tried = []
    for what, changed in variants(anchored_bundle):
        report = verify.verify_bundle(changed, chain=embedded, trust=trusted)
        assert not report.ok, f"{what} still verifies: {report.as_dict()}"
        assert any(s.ok is False for s in report.steps), what
        tried.append(what)
    # The walk is generic; make sure it saw the fields the issue names.
    for name in ("leaf.value.0", "leaf.value.1", "leaf.value.2", "anchor.tx_hash",
                 "anchor.contract_code_hash", "anchor.manifest_hash", "merkle.leaf_count"):
        assert f"flip {name}" in tried
    assert len(tried) > 50


@pytest.mark.parametrize("name", ["tree_index", "value_index", "id", "doc_id", "issued_at",
                                  "batch_id", "state", "confirmations"])
def test_fields_nobody_can_check_are_not_in_a_bundle(anchored_bundle, name):
    keys = {key for section in anchored_bundle.values() if isinstance(section, dict)
            for key in section} | set(anchored_bundle)
    assert name not in keys


def test_a_v1_bundle_is_refused_with_what_to_do():
    with pytest.raises(BundleError, match="download a fresh proof"):
        verify.load_bundle(json.dumps({"format": "trellis-proof-v1"}))


def test_a_forged_document_in_a_look_alike_registry_is_refused_by_name(embedded):
    forger = forger_of(embedded)
    fake_registry = forger.deploy()
    bundle = forge_bundle(forger, fake_registry, forged_invoice())
    # Everything the forger controls is consistent...
    consistent = verify.verify_bundle(bundle, chain=embedded,
                                      trust=trust.from_args([fake_registry]))
    assert consistent.ok, consistent.as_dict()
    # ...but the verifier trusts the bank's registry, not the forger's.
    report = verify.verify_bundle(bundle, chain=embedded, trust=trust.of_instance(embedded))
    assert not report.ok
    assert report.untrusted_contract.lower() == fake_registry.lower()
    failed = {s.name: s.detail for s in report.steps if s.ok is False}
    assert set(failed) == {"trusted", "anchorer"}
    assert fake_registry in failed["trusted"] and "NOT a registry" in failed["trusted"]
    # No trust given at all: nothing verifies.
    assert verify.verify_bundle(bundle, chain=embedded).untrusted_contract


def test_a_submitter_the_verifier_does_not_trust_is_refused(embedded):
    """The bank's registry, but anchored by an account the bank's owner authorised
    (say a second office) that the auditor was not told to trust."""
    other = forger_of(embedded, 2)
    other.contract_address = embedded.contract_address
    embedded.wait(embedded.send_raw(embedded.sign(
        embedded.contract.functions.addSubmitter(other.address)).raw))
    bundle = forge_bundle(other, embedded.contract_address, forged_invoice())
    report = verify.verify_bundle(bundle, chain=embedded, trust=trust.of_instance(embedded))
    assert [s.name for s in report.steps if s.ok is False] == ["anchorer"]
    assert other.address in report.step("anchorer").detail
    # Told only the contract (no --anchorer): any submitter the registry authorised.
    loose = verify.verify_bundle(bundle, chain=embedded,
                                 trust=trust.from_args([embedded.contract_address]))
    assert loose.ok, loose.as_dict()


def test_a_trusted_list_file_round_trips_and_bad_ones_are_named(tmp_path, embedded):
    listed = trust.of_instance(embedded)
    path = tmp_path / "trusted.json"
    path.write_text(listed.dumps())
    again = trust.load(str(path))
    assert again == listed
    entry = again.find(embedded.chain_id, embedded.contract_address.upper().replace("0X", "0x"))
    assert entry is not None and embedded.address.lower() in entry.anchorers
    assert again.find(embedded.chain_id + 1, embedded.contract_address) is None
    for text, match in ((b"[]", "not a list of trusted"),
                        (json.dumps({"format": trust.FORMAT, "registries": [
                            {"contract": "0x12", "chain_id": 1}]}), "registry 1: contract"),
                        (b"{", "not JSON")):
        with pytest.raises(trust.TrustError, match=match):
            trust.loads(text)
    with pytest.raises(trust.TrustError, match="--anchorer needs --contract"):
        trust.from_args([], [embedded.address])
    # the JSON parser's and the file system's English is the detail, not what people read
    for call in (lambda: trust.loads(b"{"), lambda: trust.load(str(path) + ".missing")):
        with pytest.raises(trust.TrustError) as bad:
            call()
        assert bad.value.params["detail"] and bad.value.params["detail"] in bad.value.message
        assert bad.value.params["detail"] not in bad.value.template
        assert bad.value.template.endswith(".")


def test_the_manifest_is_checked_when_given(session_factory, anchored_bundle, embedded):
    from trellis.chain.anchoring import batch_tree
    from trellis.chain.models import Batch

    with transaction(session_factory) as s:
        batch = s.scalars(select(Batch).where(Batch.root == anchored_bundle["merkle"]["root"])
                          ).one()
        manifest = batch_tree(session=s, batch_id=batch.id).dump_json().encode()
    trusted = trust.of_instance(embedded)
    good = verify.verify_bundle(anchored_bundle, chain=embedded, trust=trusted,
                                manifest=manifest)
    assert good.ok and good.step("manifest").ok
    bad = verify.verify_bundle(anchored_bundle, chain=embedded, trust=trusted,
                               manifest=manifest.replace(b'"0x', b'"0X', 1))
    assert not bad.ok and bad.step("manifest").ok is False


def test_cli_with_trust_options(tmp_path, anchored_bundle, embedded, monkeypatch):
    path = tmp_path / "bundle.json"
    path.write_text(bundles.dumps(anchored_bundle))
    monkeypatch.setattr(onchain, "reader", lambda rpc, chain: onchain._Reader(embedded.w3))
    lines: list[str] = []
    code = verify.run_cli(str(path), None, "embedded", echo=lines.append,
                          contracts=[embedded.contract_address], anchorers=[embedded.address])
    assert code == 0 and lines[-1] == "VERIFIED", lines
    lines.clear()
    assert verify.run_cli(str(path), None, "embedded", echo=lines.append) == 1
    assert any(line.startswith("FAIL  untrusted contract") for line in lines)
    lines.clear()
    assert verify.run_cli(str(path), None, "embedded", echo=lines.append,
                          contracts=["not-an-address"]) == 2
    assert "--contract is not an Ethereum address" in lines[0]


@pytest.mark.parametrize("column, value, kind", [
    ("tx_hash", "0x" + "12" * 32, "tx_mismatch"),
    ("contract_address", "0x" + "34" * 20, "other_contract"),
])
def test_the_audit_notices_a_batch_whose_proofs_would_not_verify(
        session_factory, anchored_bundle, embedded, column, value, kind):
    from sqlalchemy import update

    from trellis.chain import audit
    from trellis.chain.models import Batch

    today = clock.today()
    with transaction(session_factory) as s:
        assert audit.run_audit(session=s, date_from=today, date_to=today, chain=embedded).ok
        s.execute(update(Batch).values({column: value}))
    with transaction(session_factory) as s:
        report = audit.run_audit(session=s, date_from=today, date_to=today, chain=embedded)
        assert {d["kind"] for d in report.discrepancies} == {kind}
        doc = s.scalars(select(Document).where(Document.batch_id.is_not(None))).first()
        bundle = bundles.make_bundle(session=s, document=doc)
    assert not verify.verify_bundle(bundle, chain=embedded,
                                    trust=trust.of_instance(embedded)).ok


def test_a_changed_document_names_the_differing_hash_not_a_list(anchored_bundle, embedded):
    """「叶值 ['confirmation', '0x1918…', '0xb445…'] 与根据文件算出的 [...]」: the proof check
    dumped a Python list with the English document type. It names the part that differs."""
    import copy
    from pathlib import Path

    from babel.messages.pofile import read_po

    import trellis.platform

    changed = copy.deepcopy(anchored_bundle)
    changed["document"]["canonical"] = changed["document"]["canonical"].replace("1", "2", 1)
    report = verify.verify_bundle(changed, chain=embedded, trust=trust.of_instance(embedded))
    leaf = report.step("leaf")
    assert leaf is not None and leaf.ok is False
    found = list(leaf.message.params["problems"])
    hashes = [m for m in found if m.template.startswith("the leaf records the content hash")]
    assert len(hashes) == 1 and all(str(v).startswith("0x") for v in hashes[0].params.values())
    assert not any("[" in str(v) for m in found for v in m.params.values()), found
    po = Path(trellis.platform.__file__).parent / "chain/translations/zh_CN/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        zh = {m.id: m.string for m in read_po(fh)}
    assert "文件被改动" in zh[hashes[0].template]
    assert all(zh.get(m.template) for m in found)
