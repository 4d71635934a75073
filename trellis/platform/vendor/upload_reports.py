"""The full problem report of a refused upload, kept for an hour for download.

A refused upload can have thousands of problems; the page shows the first
:data:`SHOWN` and offers the whole report as CSV (through the shared export writer, so a
formula in the file comes back escaped). Reports are files under the instance folder,
named by the firm and a random token; a firm can fetch only its own.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from trellis import exports

SHOWN = 200
KEEP_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")


def _folder(instance_path: str) -> Path:
    return Path(instance_path) / "upload-reports"


def save(instance_path: str, firm_id: int, problems) -> str:
    """Write *problems* (row, column, value, problem) as CSV; return the download token."""
    folder = _folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(18)
    body = exports.csv_bytes(["row", "column", "value", "problem"],
                             ([p.row, p.column, p.value, p.problem] for p in problems))
    (folder / f"{int(firm_id)}-{token}.csv").write_bytes(body)
    return token


def load(instance_path: str, firm_id: int, token: str) -> bytes | None:
    """The report *token* of *firm_id*, or None (unknown, expired or another firm's)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    path = _folder(instance_path) / f"{int(firm_id)}-{token}.csv"
    try:
        if path.stat().st_mtime < time.time() - KEEP_SECONDS:
            return None
        return path.read_bytes()
    except OSError:
        return None
