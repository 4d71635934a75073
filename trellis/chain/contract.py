"""The registry contract: its Vyper source, the committed compiled artifact, and the
compiler call that reproduces it.

The artifact ``contracts/TrellisRegistry.json`` is committed so that running Trellis
needs no compiler; a test recompiles the source with the pinned ``vyper`` and compares.
The EVM version is pinned to ``cancun``: py-evm (the embedded chain), anvil and public
testnets all run it, whereas Vyper 0.4.3's default (``prague``) is newer than some nodes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from eth_utils import keccak

CONTRACTS = Path(__file__).parent / "contracts"
SOURCE = CONTRACTS / "TrellisRegistry.vy"
ARTIFACT = CONTRACTS / "TrellisRegistry.json"
CONTRACT_NAME = "TrellisRegistry"
EVM_VERSION = "cancun"
COMPILER_VERSION = "0.4.3"
MAX_FINGERPRINTS = 64  # the contract's MAX_FINGERPRINTS


def compile_source(source: str | None = None) -> dict[str, Any]:
    """Compile the registry with the installed vyper and return the artifact dict.

    Raises RuntimeError when the installed vyper is not the pinned version, because a
    different compiler yields different bytecode.
    """
    # late: vyper takes seconds to import; only compiling the registry needs it (the
    # compiled artifact is shipped)
    import vyper
    from vyper.compiler.settings import Settings

    if vyper.__version__ != COMPILER_VERSION:
        raise RuntimeError(f"vyper {COMPILER_VERSION} is pinned; {vyper.__version__} is "
                           "installed")
    text = SOURCE.read_text(encoding="utf-8") if source is None else source
    out = vyper.compile_code(text, contract_path=SOURCE.name,
                             output_formats=["abi", "bytecode", "bytecode_runtime"],
                             settings=Settings(evm_version=EVM_VERSION))
    return {
        "contractName": CONTRACT_NAME,
        "compiler": f"vyper-{COMPILER_VERSION}",
        "evmVersion": EVM_VERSION,
        "sourceSha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "deployedBytecode": out["bytecode_runtime"],
    }


def render_artifact(artifact: dict[str, Any]) -> str:
    """The committed text of an artifact (stable key order, one trailing newline)."""
    return json.dumps(artifact, indent=2, sort_keys=False) + "\n"


def write_artifact() -> Path:
    """Recompile and write the artifact (a developer step after editing the source)."""
    ARTIFACT.write_text(render_artifact(compile_source()), encoding="utf-8")
    return ARTIFACT


@functools.cache
def artifact() -> dict[str, Any]:
    """The committed artifact: ``abi``, ``bytecode``, ``deployedBytecode`` and provenance."""
    loaded: dict[str, Any] = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    return loaded


def abi() -> list[dict[str, Any]]:
    """The registry contract's ABI (a list of JSON entries, one per function and event)."""
    entries: list[dict[str, Any]] = artifact()["abi"]
    return entries


def bytecode() -> bytes:
    """The registry's deployment bytecode (constructor included)."""
    return bytes.fromhex(artifact()["bytecode"].removeprefix("0x"))


def runtime_code() -> bytes:
    """The registry's runtime bytecode, as deployed on chain (its Keccak-256 identifies the
    contract)."""
    return bytes.fromhex(artifact()["deployedBytecode"].removeprefix("0x"))


@functools.cache
def runtime_code_hash() -> str:
    """keccak256 of the deployed code, ``0x``-prefixed lower-case hex: what a verifier
    compares with ``keccak(eth_getCode(address))``."""
    return "0x" + keccak(runtime_code()).hex()
