"""The registry contract: the committed artifact is what the pinned compiler produces,
and the contract behaves the same on the embedded chain and on anvil."""

from __future__ import annotations

import pytest
from eth_account import Account

from tests.chain.conftest import ANVIL_KEYS, deploy_registry, make_settings
from trellis.chain import client, contract
from trellis.chain.errors import TransactionReverted

CLAIM = b"\xc1" * 32  # any non-empty claim: an instance and its financing


def test_committed_artifact_matches_a_fresh_compile():
    fresh = contract.compile_source()
    assert contract.render_artifact(fresh) == contract.ARTIFACT.read_text(encoding="utf-8")
    assert fresh["evmVersion"] == "cancun"


def test_source_pins_the_compiler_and_evm_version():
    head = contract.SOURCE.read_text(encoding="utf-8").splitlines()[:2]
    assert head == ["# pragma version 0.4.3", "# pragma evm-version cancun"]


@pytest.fixture(params=["embedded", "anvil"])
def backend(request):
    """(owner chain, stranger chain) on the embedded chain or on a real anvil node."""
    if request.param == "embedded":
        owner = client.Chain.embedded()
        key = owner.w3.provider.ethereum_tester.backend.account_keys[1].to_bytes()
        stranger = client.Chain(owner.w3, account=Account.from_key(key), kind="embedded",
                                contract_address=owner.contract_address)
        return owner, stranger
    node = request.getfixturevalue("anvil")
    address = deploy_registry(node.url)
    owner = client.Chain.connect(make_settings(chain_url=node.url, chain_key=ANVIL_KEYS[0],
                                               chain_contract=address))
    stranger = client.Chain.connect(make_settings(chain_url=node.url,
                                                  chain_key=ANVIL_KEYS[1],
                                                  chain_contract=address))
    return owner, stranger


def send(chain, fn):
    signed = chain.sign(fn)
    chain.send_raw(signed.raw)
    return chain.wait(signed.tx_hash)


ROOT = "0x" + "5a" * 32


@pytest.mark.parametrize("root, leaves, reason", [
    ("0x" + "00" * 32, 3, "empty root"),
    (ROOT, 0, "no leaves"),
])
def test_anchor_refuses_bad_input(backend, root, leaves, reason):
    owner, _ = backend
    with pytest.raises(TransactionReverted) as err:
        owner.sign(owner.contract.functions.anchor(bytes.fromhex(root[2:]), leaves,
                                                   b"\0" * 32))
    assert err.value.reason == reason


def test_anchor_records_the_block_once_and_emits_an_event(backend):
    owner, stranger = backend
    fn = owner.contract.functions.anchor(bytes.fromhex(ROOT[2:]), 7, b"\x01" * 32)
    receipt = send(owner, fn)
    assert receipt.status == 1 and owner.anchored_at(ROOT) == receipt.block_number
    assert owner.anchoring_event(ROOT, receipt.block_number) == (owner.address,
                                                                 receipt.tx_hash)
    (event,) = owner.contract.events.Anchored.get_logs(from_block=receipt.block_number,
                                                       to_block=receipt.block_number)
    assert (event["args"]["leafCount"], event["args"]["manifestHash"]) == (7, b"\x01" * 32)
    with pytest.raises(TransactionReverted, match="root already anchored"):
        owner.sign(fn)
    with pytest.raises(TransactionReverted, match="not a submitter"):
        stranger.sign(stranger.contract.functions.anchor(b"\x77" * 32, 1, b"\0" * 32))


def test_submitters_are_managed_by_the_owner_only(backend):
    owner, stranger = backend
    with pytest.raises(TransactionReverted, match="not the owner"):
        stranger.sign(stranger.contract.functions.addSubmitter(stranger.address))
    send(owner, owner.contract.functions.addSubmitter(stranger.address))
    fp = b"\x42" * 32
    receipt = send(stranger, stranger.contract.functions.register([fp], CLAIM))
    assert receipt.status == 1 and owner.registrant_of("0x" + fp.hex()) == stranger.address
    send(owner, owner.contract.functions.removeSubmitter(stranger.address))
    assert not owner.contract.functions.isSubmitter(stranger.address).call()
    with pytest.raises(TransactionReverted, match="not a submitter"):
        stranger.sign(stranger.contract.functions.register([b"\x43" * 32], CLAIM))


def test_register_refuses_repeats_within_and_across_calls(backend):
    owner, _ = backend
    a, b = b"\x0a" * 32, b"\x0b" * 32
    with pytest.raises(TransactionReverted, match="already registered"):
        owner.sign(owner.contract.functions.register([a, a], CLAIM))
    with pytest.raises(TransactionReverted, match="no fingerprints"):
        owner.sign(owner.contract.functions.register([], CLAIM))
    send(owner, owner.contract.functions.register([a], CLAIM))
    with pytest.raises(TransactionReverted, match="already registered"):
        owner.sign(owner.contract.functions.register([b, a], CLAIM))
    assert owner.registrant_of("0x" + b.hex()) is None


def test_a_mined_revert_is_reported_on_both_backends(backend):
    """Sent with a fixed gas limit (no estimate), the duplicate is mined and fails."""
    owner, _ = backend
    fn = owner.contract.functions.register([b"\x0c" * 32], CLAIM)
    send(owner, fn)
    signed = owner.sign(fn, gas=100_000)
    try:
        owner.send_raw(signed.raw)
    except TransactionReverted as exc:  # eth-tester runs it at once
        assert "already registered" in exc.reason
        return
    assert owner.wait(signed.tx_hash).status == 0
