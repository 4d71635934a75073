"""The connection to an Ethereum chain: the embedded in-process chain, or a JSON-RPC node.

:func:`get_chain` returns the process-wide :class:`Chain` for the settings:

- no ``TRELLIS_CHAIN_URL``: an embedded chain (web3's ``EthereumTesterProvider`` on
  py-evm) that deploys the registry itself. Its state is saved in the instance folder
  after each anchoring pass and loaded at start (:mod:`embedded_state`), so a restart
  finds every root; what a crash lost since the last save, the tracking sweep notices
  and re-anchors.
- ``TRELLIS_CHAIN_URL``: any JSON-RPC node (anvil locally, a public testnet in
  production). Transactions are signed locally with ``TRELLIS_CHAIN_KEY`` or the keystore
  file ``TRELLIS_CHAIN_KEYSTORE`` (password ``TRELLIS_CHAIN_KEYSTORE_PASSWORD``); the
  registry is at ``TRELLIS_CHAIN_CONTRACT`` (``trellis chain deploy`` prints it).

Every call translates failures: the node not answering -> :class:`ChainUnavailable`; a
wrong chain id, a missing or foreign contract, a bad key -> :class:`ChainMisconfigured`;
a revert (``eth_tester``'s ``TransactionFailed`` on the embedded chain, web3's
``ContractLogicError`` on a node) -> :class:`TransactionReverted` with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from eth_account import Account
from eth_tester.exceptions import ValidationError as TesterValidation
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils import ValidationError as EthValidation
from eth_utils import keccak, to_checksum_address
from web3 import EthereumTesterProvider, Web3
from web3 import exceptions as w3exc
from web3.types import RPCEndpoint

from trellis.chain import contract as contract_mod
from trellis.chain import embedded_state
from trellis.chain.errors import (
    ChainError,
    ChainMisconfigured,
    ChainUnavailable,
    FeeCeilingReached,
    TransactionReverted,
    TxRefused,
)
from trellis.chain.rpc import node_errors
from trellis.chain.transactions import Receipt, SignedTx
from trellis.messages import N_, msg

if TYPE_CHECKING:
    from web3.providers import JSONBaseProvider
    from web3.types import RPCResponse

    from trellis.config import Settings


logger = logging.getLogger(__name__)

GWEI = 10**9
DEFAULT_TIP = 1 * GWEI
RPC_TIMEOUT_SECONDS = 10
CHECK_CACHE_SECONDS = 60
FEES_CACHE_SECONDS = 3.0
BATCH_CALLS = 500  # calls in one JSON-RPC batch request
RESERVE_SECONDS = 60  # a nonce handed out and never recorded nor released is free again
FEE_BUMP = 1.25  # a replacement must pay at least 10% more (geth, anvil); take 25%


def _hex(value: str | bytes) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


class Chain:
    """A web3 connection, the registry contract and the signing account.

    Thread-safe: every use takes :attr:`lock` (the embedded chain is not thread-safe, and
    nonces must be handed out one at a time).
    """

    def __init__(self, w3: Web3, *, account: Any, kind: str, contract_address: str | None,
                 expected_chain_id: int = 0, url: str = "") -> None:
        self.w3 = w3
        self.account = account
        self.kind = kind  # "embedded" or "rpc"
        self.url = url
        self.expected_chain_id = expected_chain_id
        self.contract_address: str | None = (to_checksum_address(contract_address)
                                 if contract_address else None)
        self.lock = threading.RLock()
        self.fresh = False  # embedded chain deployed by this process
        self.healed = False  # start-up reconciliation done (see anchoring.heal)
        self.last_error: str | None = None
        self._checked_at = 0.0
        self._chain_id: int | None = None
        self._reserved: dict[int, float] = {}  # nonce -> when handed out (monotonic)
        self.max_fee_wei: int | None = None  # TRELLIS_CHAIN_MAX_FEE_GWEI, in wei
        self.state_path: Path | None = None  # where the embedded chain is saved
        self._contract: Any = None
        self._fees: tuple[float, tuple[int, int]] | None = None  # (when, fees)
        self._persisted_head: int | None = None
        self._batches = True  # the node takes JSON-RPC batch requests (until it refuses)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def embedded(cls, state_path: Path | None = None) -> Chain:
        """An in-process chain with the registry deployed by its first account. With
        *state_path*, the chain saved there (:meth:`persist`) is loaded if there is one,
        so a restarted Trellis finds its roots; otherwise the chain is new."""
        provider = EthereumTesterProvider()
        backend: Any = provider.ethereum_tester.backend  # type: ignore[union-attr]
        key = backend.account_keys[0]
        account = Account.from_key(key.to_bytes())
        chain = cls(Web3(provider), account=account, kind="embedded", contract_address=None)
        chain.state_path = state_path
        saved = embedded_state.load(state_path, backend) if state_path else None
        if saved is not None and bytes(chain.w3.eth.get_code(
                to_checksum_address(saved["contract"]))):
            chain.contract_address = to_checksum_address(saved["contract"])
            chain._persisted_head = chain.head()
            logger.info("embedded chain loaded from %s at block %s; registry at %s",
                        state_path, chain._persisted_head, chain.contract_address)
            return chain
        if saved is not None:  # a store without our registry: start afresh
            provider = EthereumTesterProvider()
            chain = cls(Web3(provider), account=account, kind="embedded",
                        contract_address=None)
            chain.state_path = state_path
        chain.contract_address = chain.deploy()
        chain.fresh = True
        logger.info("embedded chain started; registry deployed at %s",
                    chain.contract_address)
        chain.persist()
        return chain

    def persist(self) -> None:
        """Save the embedded chain's state (when it has a state path and new blocks
        since the last save); a node keeps its own."""
        if self.kind != "embedded" or self.state_path is None:
            return

        with self.lock:
            head = int(self.w3.eth.block_number)
            if head == self._persisted_head:
                return
            try:
                tester: Any = self.w3.provider
                embedded_state.save(self.state_path, tester.ethereum_tester.backend,
                                    contract=self.contract_address or "", head=head)
            except OSError as exc:
                logger.warning("could not save the embedded chain to %s: %s",
                               self.state_path, exc)
                return
            self._persisted_head = head

    @classmethod
    def connect(cls, settings: Settings) -> Chain:
        """A node connection for *settings*; makes no network call yet."""
        provider = Web3.HTTPProvider(settings.chain_url,
                                     request_kwargs={"timeout": RPC_TIMEOUT_SECONDS},
                                     exception_retry_configuration=None)
        return cls(Web3(provider), account=load_account(settings), kind="rpc",
                   contract_address=settings.chain_contract or None,
                   expected_chain_id=settings.chain_id, url=settings.chain_url)

    # --- reads ----------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The signing account's address (checksummed ``0x`` hex)."""
        return str(self.account.address)

    @property
    def contract(self) -> Any:
        """The registry contract (a web3 contract object); raises ChainMisconfigured when
        no address is set."""
        if not self.contract_address:
            raise ChainMisconfigured(
                msg(N_("%(setting)s is not set: deploy the registry with %(command)s and set "
                       "the address it prints"), setting="TRELLIS_CHAIN_CONTRACT",
                    command="trellis chain deploy"))
        # Built once per address: building a web3 contract parses the whole ABI, which
        # cost more than the call itself when done for every call.
        if self._contract is None or self._contract.address != self.contract_address:
            address = ChecksumAddress(HexAddress(HexStr(self.contract_address)))
            self._contract = self.w3.eth.contract(address=address, abi=contract_mod.abi())
        return self._contract

    @property
    def chain_id(self) -> int:
        """The node's chain id (asked once, then kept)."""
        if self._chain_id is None:
            with self.lock, node_errors("reading the chain id"):
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def check(self, *, force: bool = False) -> None:
        """Refuse a wrong chain id, or an address without Trellis's registry code.

        Cached for a minute after success. Raises ChainMisconfigured or ChainUnavailable.
        """
        if not force and time.monotonic() - self._checked_at < CHECK_CACHE_SECONDS:
            return
        self.check_chain_id()
        with self.lock, node_errors("checking the chain"):
            address = self.contract.address
            code = bytes(self.w3.eth.get_code(address))
            if not code:
                raise ChainMisconfigured(
                    msg(N_("no contract at %(setting)s=%(address)s on chain %(chain_id)s: "
                           "deploy one with %(command)s"), setting="TRELLIS_CHAIN_CONTRACT",
                        command="trellis chain deploy",
                        address=address, chain_id=self._chain_id))
            if "0x" + keccak(code).hex() != contract_mod.runtime_code_hash():
                raise ChainMisconfigured(
                    msg(N_("the contract at %(address)s is not Trellis's registry (its code "
                           "differs)"),
                        address=address))
        self._checked_at = time.monotonic()

    def head(self) -> int:
        """The number of the node's latest block."""
        with self.lock, node_errors("reading the head block"):
            return int(self.w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        """The canonical block hash at *number*, or None past the head."""
        with self.lock, node_errors(f"reading block {number}"):
            try:
                block = self.w3.eth.get_block(number)
            except w3exc.BlockNotFound:
                return None
            return _hex(block["hash"])

    def code_hash(self, address: str) -> str:
        """Keccak-256 of the code deployed at *address*, as ``0x`` hex."""
        with self.lock, node_errors("reading contract code"):
            return "0x" + keccak(bytes(self.w3.eth.get_code(
                to_checksum_address(address)))).hex()

    def anchored_at(self, root: str) -> int:
        """Block number at which *root* was anchored, 0 if never (on this chain)."""
        with self.lock, node_errors("reading an anchored root"):
            return int(self.contract.functions.anchoredAt(bytes.fromhex(root[2:])).call())

    def anchored_at_many(self, roots: list[str]) -> list[int]:
        """``anchoredAt`` of every root, in order (0: not anchored), in JSON-RPC batch
        requests of BATCH_CALLS calls on a node; one call after another on the embedded
        chain, which has no batch requests."""
        out: list[int] = []
        with self.lock, node_errors("reading anchored roots"):
            fn = self.contract.functions.anchoredAt
            if self.kind != "rpc":
                return [int(fn(bytes.fromhex(r[2:])).call()) for r in roots]
            for start in range(0, len(roots), BATCH_CALLS):
                with self.w3.batch_requests() as batch:
                    for root in roots[start:start + BATCH_CALLS]:
                        batch.add(fn(bytes.fromhex(root[2:])))
                    replies = batch.execute()
                for reply in replies:
                    if isinstance(reply, Exception) or not isinstance(reply, int):
                        raise ChainError(N_(
                            "The Ethereum node could not read an anchored root. The check is "
                            "tried again; if this lasts, an administrator checks the node."),
                            detail=str(reply))
                    out.append(int(reply))
        return out

    def rpc_many(self, calls: list[tuple[str, list[Any]]], what: str) -> list[dict[str, Any]]:
        """The raw JSON-RPC replies of *calls* ((method, params) pairs), in order, each
        ``{"result": ...}`` or ``{"error": {...}}``: in batch requests of BATCH_CALLS
        calls on a node, one call after another on a node that refuses batch requests
        (it answers one error object, not a list). Node only (the embedded chain raises
        instead of answering errors)."""
        out: list[dict[str, Any]] = []
        # Node only: the provider is an HTTPProvider, a JSONBaseProvider (Web3 declares
        # its provider as the BaseProvider, which has no batch request).
        provider = cast("JSONBaseProvider", self.w3.provider)
        with self.lock, node_errors(what):
            for start in range(0, len(calls), BATCH_CALLS):
                part = [(RPCEndpoint(method), params)
                        for method, params in calls[start:start + BATCH_CALLS]]
                replies: list[RPCResponse] | RPCResponse | None = (
                    provider.make_batch_request(part) if self._batches else None)
                if replies is not None and (not isinstance(replies, list)
                                            or len(replies) != len(part)):
                    logger.info("the node refuses JSON-RPC batch requests (%s): one call "
                                "at a time", str(replies)[:200])
                    self._batches, replies = False, None
                if not isinstance(replies, list):
                    replies = [provider.make_request(method, params)
                               for method, params in part]
                out.extend(dict(r) for r in replies)
        return out

    def estimate_many(self, datas: list[str]) -> list[int | str]:
        """Gas for calls of the registry with calldata *datas* (estimate + 20% + 10,000,
        as :meth:`sign`), in batch requests; the node's error text where it refuses one
        (a revert: the caller goes through :meth:`sign` for that one)."""
        calls = [("eth_estimateGas", [{"from": self.address, "to": self.contract.address,
                                       "data": d}]) for d in datas]
        out: list[int | str] = []
        for reply in self.rpc_many(calls, "estimating gas"):
            if reply.get("error") is not None or reply.get("result") is None:
                out.append(str(reply.get("error") or "no estimate"))
            else:
                out.append(int(int(reply["result"], 16) * 1.2) + 10_000)
        return out

    def receipts_many(self, tx_hashes: list[str]) -> list[Receipt | None]:
        """:meth:`receipt` of every hash, in batch requests (None: not mined, unknown, or
        an error the next look repeats)."""
        out: list[Receipt | None] = []
        calls = [("eth_getTransactionReceipt", [h]) for h in tx_hashes]
        for reply in self.rpc_many(calls, "reading receipts"):
            r = reply.get("result")
            if not r or r.get("blockNumber") is None:
                out.append(None)
                continue
            out.append(Receipt(
                tx_hash=_hex(r["transactionHash"]), status=int(r["status"], 16),
                block_number=int(r["blockNumber"], 16), block_hash=_hex(r["blockHash"]),
                gas_used=int(r["gasUsed"], 16),
                effective_gas_price=int(r.get("effectiveGasPrice") or "0x0", 16),
                contract_address=r.get("contractAddress")))
        return out

    def send_many(self, raws: list[str]) -> list[str | None]:
        """Send signed transactions in batch requests; per transaction None when the node
        took it (or already had it), else its error text (the caller sends that one again
        with :meth:`send_raw`, which sorts a used nonce from a refusal)."""
        out: list[str | None] = []
        calls = [("eth_sendRawTransaction", [raw]) for raw in raws]
        for reply in self.rpc_many(calls, "sending transactions"):
            error = reply.get("error")
            if error is None:
                out.append(None)
                continue
            text = str(error.get("message") if isinstance(error, dict) else error)
            low = text.lower()
            out.append(None if "already known" in low or "already imported" in low
                       else text)
        return out

    def finality(self) -> tuple[int | None, int | None]:
        """The node's ``safe`` and ``finalized`` block numbers, or None where it has no
        such tag. The embedded chain has none worth the name (every block is final the
        moment it is mined, and the chain dies with the process)."""
        if self.kind != "rpc":
            return None, None
        out: list[int | None] = []
        for tag in ("safe", "finalized"):
            try:
                with self.lock, node_errors(f"reading the {tag} block"):
                    out.append(int(self.w3.eth.get_block(tag)["number"]))
            except ChainUnavailable:
                raise
            except (ChainError, w3exc.Web3Exception, ValueError, KeyError):
                out.append(None)
        return out[0], out[1]

    def anchoring_event(self, root: str, block: int) -> tuple[str, str] | None:
        """(submitter, transaction hash) of the Anchored event of *root* in *block*."""
        with self.lock, node_errors("reading the anchoring event"):
            try:
                logs = self.contract.events.Anchored.get_logs(
                    argument_filters={"root": bytes.fromhex(root[2:])}, from_block=block,
                    to_block=block)
            except (w3exc.Web3RPCError, w3exc.Web3ValueError, ValueError) as exc:
                raise ChainError(N_(
                    "The Ethereum node refused to look up the anchoring in block %(block)s. "
                    "The check is tried again; if this lasts, an administrator checks that "
                    "the node keeps old logs."), params={"block": str(block)},
                    detail=str(exc)) from exc
        for log in logs:
            return (to_checksum_address(log["args"]["submitter"]),
                    _hex(log["transactionHash"]))
        return None

    def registration_of(self, fingerprint: str) -> tuple[str, str] | None:
        """(registrant, claim as 0x hex) of a registered fingerprint, or None."""
        key = bytes.fromhex(fingerprint[2:])
        with self.lock, node_errors("reading a fingerprint"):
            who = self.contract.functions.registrantOf(key).call()
            if int(who, 16) == 0:
                return None
            claim = self.contract.functions.claimOf(key).call()
        return to_checksum_address(who), _hex(claim)

    def registrant_of(self, fingerprint: str) -> str | None:
        """The account that registered *fingerprint* (``0x`` hex) for financing, or None."""
        with self.lock, node_errors("reading a fingerprint"):
            who = self.contract.functions.registrantOf(bytes.fromhex(fingerprint[2:])).call()
        who = to_checksum_address(who)
        return None if int(who, 16) == 0 else who

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt of *tx_hash* (``0x`` hex), or None while it is not mined."""
        with self.lock, node_errors("reading a receipt"):
            try:
                r = self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
            except w3exc.TransactionNotFound:
                return None
        if r is None or r.get("blockNumber") is None:
            return None
        return Receipt(tx_hash=_hex(r["transactionHash"]), status=int(r["status"]),
                       block_number=int(r["blockNumber"]), block_hash=_hex(r["blockHash"]),
                       gas_used=int(r["gasUsed"]),
                       effective_gas_price=int(r.get("effectiveGasPrice") or 0),
                       contract_address=r.get("contractAddress"))

    def is_pending(self, tx_hash: str) -> bool:
        """Is the transaction known to the node but not mined?"""
        with self.lock, node_errors("reading a transaction"):
            try:
                tx = self.w3.eth.get_transaction(HexStr(tx_hash))
            except w3exc.TransactionNotFound:
                return False
        return tx is not None and tx.get("blockNumber") is None

    # --- fees, nonces, signing ----------------------------------------------------------

    def fees(self) -> tuple[int, int]:
        """EIP-1559 (max fee, priority fee): twice the latest base fee plus the tip, held
        to the ceiling."""
        with self.lock:
            if self._fees is not None and time.monotonic() - self._fees[0] < FEES_CACHE_SECONDS:
                return self.capped(self._fees[1])
            with node_errors("reading fees"):
                base = int(self.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
                try:
                    tip = int(self.w3.eth.max_priority_fee)
                except (w3exc.MethodUnavailable, w3exc.Web3RPCError, ValueError):
                    tip = DEFAULT_TIP
            tip = max(tip, 1)
            # Twice the base fee leaves room for six full blocks of rises: a few seconds
            # of cache (a block is 12 s on Ethereum) lose nothing and spare two calls a
            # transaction when a run sends many.
            self._fees = (time.monotonic(), (2 * base + tip, tip))
            return self.capped(self._fees[1])

    def capped(self, fees: tuple[int, int]) -> tuple[int, int]:
        """*fees* held to the ceiling (``max_fee_wei``): neither the max fee nor the tip
        above it."""
        if self.max_fee_wei is None:
            return fees
        max_fee = min(fees[0], self.max_fee_wei)
        return max_fee, min(fees[1], max_fee)

    def bumped(self, max_fee: int, tip: int, current: tuple[int, int]) -> tuple[int, int]:
        """Fees for a replacement: 25% above the old ones and at least today's, held to
        the ceiling. Raises FeeCeilingReached when the ceiling leaves no room for the
        10% rise a node asks of a replacement."""
        new_tip = max(current[1], -(-tip * 5 // 4))
        new_max = max(current[0], -(-max_fee * 5 // 4), new_tip)
        new_max, new_tip = self.capped((new_max, new_tip))
        if new_max < -(-max_fee * 11 // 10) or new_tip < -(-tip * 11 // 10):
            raise FeeCeilingReached(
                msg(N_("fee ceiling reached: a transaction paying up to %(paid)s gwei "
                       "per gas is stuck and %(setting)s="
                       "%(ceiling)s leaves no room to replace it (today's "
                       "fees ask %(asked)s gwei); raise the ceiling or wait"),
                    setting="TRELLIS_CHAIN_MAX_FEE_GWEI", paid=format(max_fee / GWEI, 'g'),
                    ceiling=format((self.max_fee_wei or 0) / GWEI, 'g'),
                    asked=format(current[0] / GWEI, 'g')))
        return new_max, new_tip

    def pending_count(self) -> int:
        """The node's transaction count of the signing account, pending transactions
        included (a transaction queued behind a missing nonce is not counted)."""
        with self.lock, node_errors("reading the nonce"):
            return int(self.w3.eth.get_transaction_count(
                to_checksum_address(self.address), "pending"))

    def next_nonce(self, held: Callable[[int], set[int]] | None = None) -> int:
        """The lowest nonce at or above the node's pending count that is neither *held*
        (``held(floor)``: the nonces of recorded, live transactions, from the database)
        nor handed out by this process in the last RESERVE_SECONDS and not yet released.

        Never a counter in memory alone: a nonce handed out for a transaction that was
        then never sent (the send failed, the record was rolled back) is released, or
        expires, and is handed out again, so no gap is left in front of later
        transactions."""
        with self.lock:
            pending = self.pending_count()
            now = time.monotonic()
            self._reserved = {n: t for n, t in self._reserved.items()
                              if n >= pending and now - t < RESERVE_SECONDS}
            taken = set(self._reserved) | (held(pending) if held else set())
            nonce = pending
            while nonce in taken:
                nonce += 1
            self._reserved[nonce] = now
            return nonce

    def next_nonces(self, count: int,
                    held: Callable[[int], set[int]] | None = None) -> list[int]:
        """*count* nonces handed out at once, as :meth:`next_nonce` would one after
        another (the node's pending count and the held nonces read once)."""
        with self.lock:
            pending = self.pending_count()
            now = time.monotonic()
            self._reserved = {n: t for n, t in self._reserved.items()
                              if n >= pending and now - t < RESERVE_SECONDS}
            taken = set(self._reserved) | (held(pending) if held else set())
            out: list[int] = []
            nonce = pending
            while len(out) < count:
                if nonce not in taken:
                    out.append(nonce)
                    self._reserved[nonce] = now
                nonce += 1
            return out

    def sign_call(self, data: str, *, gas: int, nonce: int,
                  fees: tuple[int, int]) -> SignedTx:
        """Sign a call of the registry with calldata *data* (gas, nonce and fees given:
        see :meth:`estimate_many`, :meth:`next_nonces`)."""
        return self._sign_dict({"from": self.address, "to": self.contract.address,
                                "data": data, "value": 0, "gas": gas, "nonce": nonce,
                                "chainId": self.chain_id, "maxFeePerGas": fees[0],
                                "maxPriorityFeePerGas": fees[1], "type": 2})

    def reserved(self) -> set[int]:
        """Nonces handed out by this process whose transactions may not be recorded yet."""
        now = time.monotonic()
        with self.lock:
            return {n for n, t in self._reserved.items() if now - t < RESERVE_SECONDS}

    def forget_nonce(self, nonce: int | None = None) -> None:
        """Release *nonce* (its transaction was never sent), or every nonce handed out,
        so the next one is taken from the node and the records again."""
        with self.lock:
            if nonce is None:
                self._reserved.clear()
            else:
                self._reserved.pop(nonce, None)

    def sign(self, fn: Any, *, nonce: int | None = None, fees: tuple[int, int] | None = None,
             gas: int | None = None,
             held: Callable[[int], set[int]] | None = None) -> SignedTx:
        """Sign a call of contract function *fn*. Gas is estimated first, which runs the
        call: one the contract would refuse raises TransactionReverted here, before a
        nonce is taken or anything is sent. *nonce* and *fees* default to the next
        nonce (see :meth:`next_nonce`; *held* gives the recorded ones) and today's
        fees."""
        with self.lock, node_errors("preparing a transaction"):
            if gas is None:
                gas = int(fn.estimate_gas({"from": self.address}) * 1.2) + 10_000
            fees = fees or self.fees()
            own = nonce is None
            if own:
                nonce = self.next_nonce(held)
            try:
                tx = fn.build_transaction({
                    "from": self.address, "chainId": self.chain_id, "gas": gas,
                    "maxFeePerGas": fees[0], "maxPriorityFeePerGas": fees[1],
                    "nonce": nonce})
            except BaseException:
                if own:
                    self.forget_nonce(nonce)
                raise
        return self._sign_dict(tx)

    def sign_filler(self, nonce: int, fees: tuple[int, int]) -> SignedTx:
        """A transfer of nothing to ourselves at *nonce*: fills a gap in the nonces."""
        return self._sign_dict({"from": self.address, "to": self.address, "value": 0,
                                "gas": 21_000, "nonce": nonce, "chainId": self.chain_id,
                                "maxFeePerGas": fees[0], "maxPriorityFeePerGas": fees[1]})

    def resign(self, tx: dict[str, Any]) -> SignedTx:
        """Sign the transaction dict *tx* again (a replacement: same nonce, new fees)."""
        return self._sign_dict(tx)

    def _sign_dict(self, tx: dict[str, Any]) -> SignedTx:
        signed = self.account.sign_transaction(tx)
        return SignedTx(tx_hash=_hex(signed.hash), raw=_hex(signed.raw_transaction),
                        nonce=int(tx["nonce"]), max_fee_per_gas=int(tx["maxFeePerGas"]),
                        max_priority_fee_per_gas=int(tx["maxPriorityFeePerGas"]),
                        sender=self.address, chain_id=int(tx["chainId"]))

    def send_raw(self, raw: str) -> str:
        """Send a signed transaction. A node that already has it is fine. Raises
        ChainUnavailable when the node is down, ChainError when it refuses the
        transaction (``"nonce too low"``: its nonce was used by another transaction)."""
        with self.lock:
            try:
                with node_errors("sending a transaction"):
                    return _hex(self.w3.eth.send_raw_transaction(HexStr(raw)))
            except ChainUnavailable:
                raise
            except TransactionReverted as exc:
                # The embedded chain mines at once: the tx was sent and failed.
                raise exc
            except (w3exc.Web3RPCError, w3exc.Web3ValueError, ValueError,
                    TesterValidation, EthValidation) as exc:
                text = str(exc).lower()
                if "already known" in text or "already imported" in text:
                    return _hex(keccak(bytes.fromhex(raw[2:])))
                self.forget_nonce()
                raise TxRefused(N_("The Ethereum node refused the transaction. It is sent "
                                   "again on the next run; if this lasts, an administrator "
                                   "checks the signing account (its balance and its count of "
                                   "transactions)."),
                                detail=str(exc),
                                nonce_used="nonce" in text and ("low" in text
                                                                or "expected" in text)
                                ) from exc

    def wait(self, tx_hash: str, timeout: float = 120.0) -> Receipt:
        """Wait for a receipt; raises ChainError after *timeout* seconds."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise ChainError(msg(N_("transaction %(tx_hash)s was not mined in %(timeout)s s"),
                                     tx_hash=tx_hash, timeout=format(timeout, '.0f')))
            time.sleep(0.2 if self.kind == "rpc" else 0.01)

    # --- deployment -----------------------------------------------------------------------

    def check_chain_id(self) -> int:
        """The node's chain id; raises ChainMisconfigured when TRELLIS_CHAIN_ID is set and
        the node is on another chain."""
        with self.lock, node_errors("reading the chain id"):
            self._chain_id = int(self.w3.eth.chain_id)
        if self.expected_chain_id and self._chain_id != self.expected_chain_id:
            raise ChainMisconfigured(
                msg(N_("the node is on chain %(chain_id)s, not %(setting)s="
                       "%(expected_chain_id)s: anchoring is stopped"),
                    chain_id=self._chain_id, setting="TRELLIS_CHAIN_ID",
                    expected_chain_id=self.expected_chain_id))
        return self._chain_id

    def deploy(self) -> str:
        """Deploy the registry from the signing account; returns its address. Refuses a
        node on another chain than TRELLIS_CHAIN_ID (ChainMisconfigured)."""
        self.check_chain_id()
        with self.lock:
            factory = self.w3.eth.contract(abi=contract_mod.abi(),
                                           bytecode=contract_mod.bytecode())
            with node_errors("deploying the registry"):
                fees = self.fees()
                tx = factory.constructor().build_transaction({
                    "from": self.address, "nonce": self.next_nonce(),
                    "chainId": self.chain_id, "maxFeePerGas": fees[0],
                    "maxPriorityFeePerGas": fees[1]})
            signed = self._sign_dict(tx)
            receipt = self.wait(self.send_raw(signed.raw))
            if receipt.status != 1 or not receipt.contract_address:
                raise ChainError(N_("deploying the registry failed"))
            return to_checksum_address(receipt.contract_address)


def load_account(settings: Settings) -> Any:
    """The signing account from TRELLIS_CHAIN_KEY or TRELLIS_CHAIN_KEYSTORE."""
    try:
        if settings.chain_key:
            return Account.from_key(settings.chain_key)
        if settings.chain_keystore:
            data = Path(settings.chain_keystore).read_text(encoding="utf-8")
            key = Account.decrypt(data, settings.chain_keystore_password)
            return Account.from_key(key)
    except OSError as exc:
        raise ChainMisconfigured(N_("The signing key file (%(setting)s) cannot be read: "
                                    "anchoring stops until an administrator fixes the "
                                    "setting."), params={"setting": "TRELLIS_CHAIN_KEYSTORE"},
                                 detail=str(exc)) from exc
    except ValueError as exc:
        raise ChainMisconfigured(
            msg(N_("%(setting)s or the keystore (with its password) is not a usable key"),
                setting="TRELLIS_CHAIN_KEY")
        ) from exc
    raise ChainMisconfigured(msg(N_("%(setting)s needs %(key)s or %(keystore)s to sign"),
                                 setting="TRELLIS_CHAIN_URL", key="TRELLIS_CHAIN_KEY",
                                 keystore="TRELLIS_CHAIN_KEYSTORE"))


_chains: dict[tuple[str | int | None, ...], Chain] = {}
_chains_lock = threading.Lock()


def _key(settings: Settings) -> tuple[str | int | None, ...]:
    # An embedded chain belongs to its instance folder (its state is kept there): two
    # instances in one process (tests) never share one.
    return (("embedded", str(embedded_state_path(settings))) if not settings.chain_url else
            (settings.chain_url, settings.chain_contract, settings.chain_key,
             settings.chain_keystore, settings.chain_id))


def embedded_state_path(settings: Settings) -> Path | None:
    """``<instance>/chain/embedded.evm``; None when the instance path is not absolute
    (settings built by hand, as in tests: ``Settings.from_env`` always resolves it)."""
    instance = Path(settings.instance_path)
    return instance / "chain" / "embedded.evm" if instance.is_absolute() else None


def max_fee_wei(settings: Settings) -> int | None:
    """TRELLIS_CHAIN_MAX_FEE_GWEI in wei (whole wei, rounded down)."""
    gwei = getattr(settings, "chain_max_fee_gwei", None)
    return None if gwei is None else int(Decimal(gwei) * GWEI)


def use_chain(settings: Settings, chain: Chain) -> None:
    """Make *chain* the process-wide chain for *settings* (tests, tools)."""
    chain.max_fee_wei = max_fee_wei(settings)
    with _chains_lock:
        _chains[_key(settings)] = chain


def get_chain(settings: Settings) -> Chain:
    """The process-wide chain for *settings* (embedded when ``chain_url`` is empty)."""
    key = _key(settings)
    with _chains_lock:
        chain = _chains.get(key)
        if chain is None:
            chain = (Chain.embedded(embedded_state_path(settings)) if not settings.chain_url
                     else Chain.connect(settings))
            chain.max_fee_wei = max_fee_wei(settings)
            _chains[key] = chain
        return chain


def reset_chains() -> None:
    """Forget every process-wide chain (tests; an embedded chain then starts afresh)."""
    with _chains_lock:
        _chains.clear()
