"""Which chain this instance anchors on, and so how much "anchored" may claim.

"Anchored on chain" promises outside evidence only on a chain others can read. Trellis runs
on one of three:

- ``embedded``: no ``TRELLIS_CHAIN_URL``; a test chain inside this server's process (the
  demo, ``make run``). Only this platform can read it: an anchoring there is no evidence
  to anyone else.
- ``local``: a node on this machine or a development chain (anvil, hardhat, ganache: chain
  ids 31337 and 1337): only those who can reach that node can check.
- ``network``: any other node; anyone can check a proof against any node of that network
  (its chain id names it).

:func:`scope` decides from the settings alone (no request waits on the chain); the chain id
of a node not pinned by ``TRELLIS_CHAIN_ID`` is the one the latest anchored batch
recorded, which the caller passes in. :func:`of_node` decides for a node and a chain id
alone (``trellis verify`` has a bundle and ``--rpc``, no settings).

What may be said is said here once, as messages the reader's language renders: the
instance's :func:`claim` (the pages' footer, the API's ``chain_scope``, the commands'
``chain:`` line), a bundle's :func:`bundle_claim` and :func:`as_dict`, the machine-readable
fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from trellis.messages import N_, Ident, Message, msg

if TYPE_CHECKING:
    from trellis.config import Settings

EMBEDDED, LOCAL, NETWORK = "embedded", "local", "network"
#: the chain id eth-tester gives the embedded chain
EMBEDDED_CHAIN_ID = 131277322940537
#: development chains (anvil and hardhat, ganache): never a public network
DEVELOPMENT_CHAIN_IDS = frozenset({31337, 1337})
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
#: chains by id, as an auditor names them (an id not here reads "chain <id>")
CHAIN_NAMES = {1: N_("Ethereum mainnet"), 11155111: N_("Sepolia test network (Ethereum)"),
               17000: N_("Holesky test network (Ethereum)"),
               31337: N_("local test chain (anvil)"),
               EMBEDDED_CHAIN_ID: N_("embedded test chain (no real network)")}


@dataclass(frozen=True)
class ChainScope:
    """Where roots are anchored: ``kind`` (:data:`EMBEDDED`, :data:`LOCAL` or
    :data:`NETWORK`), the ``chain_id`` when known (None: not pinned and nothing anchored
    yet) and the node's ``host`` (no scheme, credentials or path; empty when embedded)."""

    kind: str
    chain_id: int | None
    host: str

    @property
    def independent(self) -> bool:
        """True when people outside this platform can check an anchoring themselves."""
        return self.kind == NETWORK


def _split(url: str) -> SplitResult:
    return urlsplit(url if "//" in url else f"//{url}")


def node_host(url: str) -> str:
    """The host (and port) of a node's URL, without credentials or path: an API key in
    the URL's path or user part is never shown."""
    parts = _split(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def scope(settings: Settings, *, recorded_chain_id: int | None = None) -> ChainScope:
    """The scope of *settings*' chain; *recorded_chain_id*: the chain id the latest
    anchored batch recorded (used when ``TRELLIS_CHAIN_ID`` does not pin one)."""
    if not settings.chain_url:
        return ChainScope(EMBEDDED, EMBEDDED_CHAIN_ID, "")
    return _of_url(settings.chain_url, settings.chain_id or recorded_chain_id or None)


def of_node(url: str | None, chain_id: int | None) -> ChainScope:
    """The scope of an anchoring on chain *chain_id* (None: not known) asked through the
    node at *url* (None or "": no node given). The embedded chain's id is the embedded
    chain whatever the node: a bundle from it can be checked by nobody else."""
    if chain_id == EMBEDDED_CHAIN_ID:
        return ChainScope(EMBEDDED, EMBEDDED_CHAIN_ID, "")
    return _of_url(url or "", chain_id)


def _of_url(url: str, chain_id: int | None) -> ChainScope:
    host = node_host(url) if url else ""
    hostname = (_split(url).hostname or "").lower() if url else ""
    if hostname in _LOCAL_HOSTS or chain_id in DEVELOPMENT_CHAIN_IDS:
        return ChainScope(LOCAL, chain_id, host)
    return ChainScope(NETWORK, chain_id, host)


def chain_label(chain_id: int | None) -> Message:
    """The chain's name without its id (``Sepolia test network (Ethereum)``), ``chain
    <id>`` for one not in :data:`CHAIN_NAMES`, or words saying the id is not known."""
    if chain_id is None:
        return msg(N_("a chain whose id is not known yet"))
    name = CHAIN_NAMES.get(int(chain_id))
    return msg(name) if name is not None else msg(N_("chain %(chain_id)s"),
                                                  chain_id=Ident(int(chain_id)))


def claim(found: ChainScope) -> Message:
    """What this instance may say about its anchoring (every "on chain" claim of the
    pages, the API and the commands carries it)."""
    if found.kind == EMBEDDED:
        return msg(N_("Invoices, orders and confirmations are anchored on a test chain inside "
                      "this server: only this platform can read it, so it is not evidence "
                      "anyone else can check."))
    if found.kind == LOCAL:
        return msg(N_("Invoices, orders and confirmations are anchored on a development chain "
                      "(%(chain)s) whose node is at %(node)s: only those who can reach that "
                      "node can check them."), chain=chain_label(found.chain_id),
                   node=found.host)
    return msg(N_("Invoices, orders and confirmations are anchored on %(chain)s: anyone can "
                  "check a proof against any node of that network."),
               chain=chain_label(found.chain_id))


def bundle_claim(found: ChainScope) -> Message:
    """What a proof bundle anchored in *found* (see :func:`of_node`) proves, and to whom."""
    if found.kind == EMBEDDED:
        return msg(N_("This bundle is anchored on the test chain inside the server that issued "
                      "it: only that platform can read that chain, so the bundle is not "
                      "evidence anyone else can check."))
    if found.kind == LOCAL:
        return msg(N_("This bundle is anchored on a development chain (%(chain)s): only those "
                      "who can reach its node can check it."), chain=chain_label(found.chain_id))
    return msg(N_("This bundle is anchored on %(chain)s: anyone can check it against any node "
                  "of that network."), chain=chain_label(found.chain_id))


def as_dict(found: ChainScope) -> dict[str, object]:
    """The scope's machine-readable fields: ``kind`` (embedded, local or network),
    ``chain_id`` (None when not known), ``node`` (host and port; "" when embedded or not
    given) and ``independent`` (whether people outside this platform can check)."""
    return {"kind": found.kind, "chain_id": found.chain_id, "node": found.host,
            "independent": found.independent}

#: What a proof bundle's ``scope`` section says, by kind, in English and Chinese (reader
#: 13, H12: the proof page said the demo anchors on its own test chain, the downloaded
#: file did not). Fixed texts, the same for every bundle of a kind, so a verifier can hold
#: a bundle to them: a changed wording is added in front, the older ones stay (their
#: bundles still verify).
STATEMENTS: dict[str, tuple[dict[str, str], ...]] = {
    EMBEDDED: ({
        "en": "Anchored on a test chain inside the server that issued this bundle (the "
              "demo's embedded chain): only that platform can read the chain, so nobody "
              "outside it can check this bundle against the chain. It is not evidence "
              "anyone else can check.",
        "zh": "此证明登记在签发本证明包的服务器内置的测试链上（演示用内置链）：该链只有该平台能"
              "读取，平台之外的人无法对照区块链核验本证明包，它不是他人可以核验的证据。",
    },),
    LOCAL: ({
        "en": "Anchored on a development chain (a local node such as anvil): only those who "
              "can reach that node can check this bundle against the chain.",
        "zh": "此证明登记在开发用区块链（如 anvil 等本地节点）上：只有能访问该节点的人，才能对照"
              "区块链核验本证明包。",
    },),
    NETWORK: ({
        "en": "Anchored on the network named by anchor.chain_id: anyone can check this "
              "bundle against any node of that network, with the registries the bank "
              "publishes.",
        "zh": "此证明登记在 anchor.chain_id 所指的区块链网络上：任何人都可以向该网络的任一节点"
              "查询，依据本行公布的受信任登记合约核验本证明包。",
    },),
}


def statement(kind: str) -> dict[str, str]:
    """The ``scope`` section a new bundle anchored under *kind* carries: ``kind`` and the
    statement in English (``en``) and Chinese (``zh``)."""
    return {"kind": kind, **STATEMENTS[kind][0]}


def consistent(kind: str, chain_id: int) -> bool:
    """Whether a bundle anchored on *chain_id* may say it is of *kind*: the embedded
    chain's id is the embedded chain and no other, and a development chain's id is never
    a public network. (Whether a node is on this machine the chain id cannot tell.)"""
    if kind == EMBEDDED or chain_id == EMBEDDED_CHAIN_ID:
        return kind == EMBEDDED and chain_id == EMBEDDED_CHAIN_ID
    if kind == NETWORK:
        return chain_id not in DEVELOPMENT_CHAIN_IDS
    return kind == LOCAL


def of_anchoring(settings: Settings, chain_id: int | None) -> ChainScope:
    """The scope of a root this instance anchored on *chain_id* (a batch's): the
    embedded chain by its id, else the configured chain's scope (:func:`scope`), a
    development chain's id being local whatever the node's address."""
    if chain_id == EMBEDDED_CHAIN_ID:
        return ChainScope(EMBEDDED, chain_id, "")
    now = scope(settings, recorded_chain_id=chain_id)
    if now.kind == LOCAL or chain_id in DEVELOPMENT_CHAIN_IDS:
        return ChainScope(LOCAL, chain_id, now.host)
    return ChainScope(NETWORK, chain_id, now.host)
