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
recorded, which the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from trellis.config import Settings

EMBEDDED, LOCAL, NETWORK = "embedded", "local", "network"
#: the chain id eth-tester gives the embedded chain
EMBEDDED_CHAIN_ID = 131277322940537
#: development chains (anvil and hardhat, ganache): never a public network
DEVELOPMENT_CHAIN_IDS = frozenset({31337, 1337})
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


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
    chain_id = settings.chain_id or recorded_chain_id or None
    host = node_host(settings.chain_url)
    hostname = (_split(settings.chain_url).hostname or "").lower()
    if hostname in _LOCAL_HOSTS or chain_id in DEVELOPMENT_CHAIN_IDS:
        return ChainScope(LOCAL, chain_id, host)
    return ChainScope(NETWORK, chain_id, host)
