"""The embedded chain's state on disk, so that it survives a restart of Trellis.

The embedded chain (eth-tester on py-evm) keeps its whole database (blocks, receipts,
state trie) in one in-memory key-value store. :func:`save` writes that store to a file in
the instance folder (``<instance>/chain/embedded.evm``), atomically (a temporary file,
then a rename); :func:`load` puts it back into a new chain's store at start, so the
registry, its address and every anchored root are there again and nothing is re-anchored.

File format: ``TRLSEVM1``, a 4-byte big-endian length and a JSON header (the registry's
address, the head block), then pairs of length-prefixed key and value. A file that
cannot be read is logged and ignored: the chain starts afresh and the tracking sweep
re-anchors every batch, as before.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAGIC = b"TRLSEVM1"


def _store(backend: Any) -> dict[bytes, bytes]:
    store: dict[bytes, bytes] = backend.chain.chaindb.db.wrapped_db.kv_store
    return store


def save(path: Path, backend: Any, *, contract: str, head: int) -> None:
    """Write the chain's store to *path* (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps({"contract": contract, "head": head}).encode("utf-8")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        fh.write(MAGIC + struct.pack(">I", len(header)) + header)
        for key, value in list(_store(backend).items()):
            fh.write(struct.pack(">I", len(key)) + key + struct.pack(">I", len(value)) + value)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(path: Path, backend: Any) -> dict[str, Any] | None:
    """Fill a new chain's store from *path* and rebuild the chain on it; returns the
    header (``contract``, ``head``), or None when there is no usable file."""
    if not path.exists():
        return None
    try:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            raise ValueError("not an embedded-chain file")
        at = len(MAGIC)
        (size,) = struct.unpack_from(">I", data, at)
        header: dict[str, Any] = json.loads(data[at + 4:at + 4 + size])
        at += 4 + size
        pairs: dict[bytes, bytes] = {}
        while at < len(data):
            (klen,) = struct.unpack_from(">I", data, at)
            key = data[at + 4:at + 4 + klen]
            at += 4 + klen
            (vlen,) = struct.unpack_from(">I", data, at)
            pairs[key] = data[at + 4:at + 4 + vlen]
            at += 4 + vlen
    except (OSError, ValueError, struct.error) as exc:
        logger.warning("embedded chain state %s is unreadable (%s): starting a new chain",
                       path, exc)
        return None
    db = backend.chain.chaindb.db
    _store(backend).update(pairs)
    backend.chain = type(backend.chain)(db)
    return header
