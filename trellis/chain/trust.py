"""Which registries and anchoring accounts a verifier trusts.

A proof bundle names the contract its root was anchored in. Anyone can deploy a second
``TrellisRegistry`` (the code hash is the same) and anchor a forged document's root there,
so a verifier must not take the contract from the bundle on trust: it checks the bundle's
(chain id, contract) against a list it was given, and the ``Anchored`` event's submitter
against the anchoring accounts listed for that contract.

Where the list comes from:

- ``trellis verify --contract ADDRESS [--anchorer ADDRESS]... [--chain-id N]`` and/or
  ``--trusted FILE`` (an outside auditor);
- the web pages and the API: the instance's own registry and anchoring account, plus the
  entries of the file ``TRELLIS_CHAIN_TRUSTED`` (former keys, a partner's registry);
- ``trellis chain trusted`` (and ``/chain/trusted.json``) publishes that list as a file.

The file (``format: trellis-trusted-registries-v1``)::

    {"format": "trellis-trusted-registries-v1",
     "registries": [{"chain_id": 11155111, "contract": "0x...",
                     "anchorers": ["0x..."], "name": "..."}]}

An entry with ``chain_id`` null matches any chain; an entry with no anchorers accepts any
submitter the registry itself authorised at the anchoring block (its owner decides).
Addresses compare case-insensitively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trellis import safejson
from trellis.chain.errors import BundleError, WithDetail
from trellis.messages import N_, msg

if TYPE_CHECKING:
    from trellis.chain.client import Chain
    from trellis.config import Settings

FORMAT = "trellis-trusted-registries-v1"
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


class TrustError(WithDetail, BundleError):
    """Raised when a trusted-registries file or a ``--contract``/``--anchorer`` value is
    unusable; the message names the entry."""

    code = "bad_trust_list"


def address(value: object, what: str) -> str:
    """*value* as a lower-case ``0x`` address; raises TrustError naming *what*."""
    if not isinstance(value, str) or not ADDRESS_RE.match(value.strip()):
        raise TrustError(msg(N_("%(what)s is not an Ethereum address (0x and 40 hex digits): "
                                "%(value)s"), what=what, value=value))
    return value.strip().lower()


@dataclass(frozen=True)
class Registry:
    """One trusted registry: its chain (None: any), contract and anchoring accounts
    (empty: any submitter the registry authorised)."""

    chain_id: int | None
    contract: str
    anchorers: frozenset[str] = frozenset()
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The entry as it is written in a trusted-registries file."""
        return {"chain_id": self.chain_id, "contract": self.contract,
                "anchorers": sorted(self.anchorers), "name": self.name}


@dataclass(frozen=True)
class Trust:
    """The registries a verifier trusts (possibly none: then nothing verifies)."""

    registries: tuple[Registry, ...] = field(default_factory=tuple)

    def find(self, chain_id: int, contract: str) -> Registry | None:
        """The entry trusting *contract* on *chain_id*, merged over all matching entries
        (their anchorers united; an entry without anchorers wins: any submitter)."""
        contract = str(contract).lower()
        found = [r for r in self.registries
                 if r.contract == contract and r.chain_id in (None, chain_id)]
        if not found:
            return None
        if any(not r.anchorers for r in found):
            return Registry(chain_id, contract, frozenset(), found[0].name)
        return Registry(chain_id, contract, frozenset().union(*(r.anchorers for r in found)),
                        found[0].name)

    def __add__(self, other: Trust) -> Trust:
        """Both lists of registries, this one's first."""
        return Trust(self.registries + other.registries)

    def describe(self) -> str:
        """One line naming each trusted contract and its chain, for a verifier's report."""
        if not self.registries:
            return "none given"
        return "; ".join(f"{r.contract} on chain {r.chain_id if r.chain_id is not None else 'any'}"
                         for r in self.registries)

    def as_dict(self) -> dict[str, Any]:
        """The trusted-registries file's content (``format`` and ``registries``)."""
        return {"format": FORMAT, "registries": [r.as_dict() for r in self.registries]}

    def dumps(self) -> str:
        """The trusted-registries file as JSON text (indented, one trailing newline)."""
        return json.dumps(self.as_dict(), indent=2) + "\n"


def from_args(contracts: Iterable[str] = (), anchorers: Iterable[str] = (),
              chain_id: int | None = None) -> Trust:
    """The trust given on a command line: each contract, with all the anchorers."""
    accounts = frozenset(address(a, "--anchorer") for a in anchorers)
    if accounts and not contracts:
        raise TrustError(N_("--anchorer needs --contract (the registry it anchors in)"))
    return Trust(tuple(Registry(chain_id, address(c, "--contract"), accounts, "command line")
                       for c in contracts))


def loads(text: str | bytes, source: str = "the trusted-registries file") -> Trust:
    """Parse a published list (see the module docstring); raises TrustError."""
    try:
        data = safejson.loads(text)
    except ValueError as exc:
        raise TrustError(N_("The trusted-registries list cannot be read as data: publish it "
                            "in the format %(format)s."), params={"format": FORMAT},
                         detail=f"{source} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TrustError(msg(N_("%(source)s is not a list of trusted registries (%(format)s)"),
                             source=source, format=FORMAT))
    entries = data.get("registries")
    if not isinstance(entries, list):
        raise TrustError(msg(N_("%(source)s has no 'registries' list"), source=source))
    out = []
    for i, entry in enumerate(entries):
        where = f"{source}, registry {i + 1}"
        if not isinstance(entry, dict):
            raise TrustError(msg(N_("%(where)s is not an object"), where=where))
        chain_id = entry.get("chain_id")
        if chain_id is not None and (isinstance(chain_id, bool) or not isinstance(chain_id, int)
                                     or chain_id <= 0):
            raise TrustError(msg(N_("%(where)s: chain_id must be a positive whole number or null"),
                                 where=where))
        accounts = entry.get("anchorers") or []
        if not isinstance(accounts, list):
            raise TrustError(msg(N_("%(where)s: anchorers must be a list of addresses"),
                                 where=where))
        out.append(Registry(chain_id, address(entry.get("contract"), f"{where}: contract"),
                            frozenset(address(a, f"{where}: anchorer") for a in accounts),
                            str(entry.get("name") or "")))
    return Trust(tuple(out))


def load(path: str) -> Trust:
    """The trusted-registries file at *path*; raises TrustError when it is unreadable."""
    try:
        with open(path, "rb") as fh:
            return loads(fh.read(), source=path)
    except OSError as exc:
        raise TrustError(N_("The trusted-registries file (%(setting)s) cannot be read: an "
                            "administrator fixes the setting or the file."),
                         params={"setting": "TRELLIS_CHAIN_TRUSTED"},
                         detail=f"{path}: {exc}") from None


OWN_NAME = "this instance"   # the name of the instance's own registry in its trust list


def of_instance(chain: Chain | None, settings: Settings | None = None) -> Trust:
    """What this Trellis instance trusts: its own registry and anchoring account on its
    chain, plus the entries of ``settings.chain_trusted`` (a file) if set. Asks the node
    for the chain id (may raise ChainUnavailable)."""
    own = Trust()
    if chain is not None and chain.contract_address:
        own = Trust((Registry(chain.chain_id, chain.contract_address.lower(),
                              frozenset({chain.address.lower()}), OWN_NAME),))
    extra = getattr(settings, "chain_trusted", "") if settings is not None else ""
    return own + load(extra) if extra else own
