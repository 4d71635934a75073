"""Canonical serialisation of documents, and their SHA-256 content hash.

A document's canonical form is compact UTF-8 JSON (no spaces, no trailing newline, no
``\\u`` escapes for non-ASCII) of an object whose first key is ``"doc_type"`` and whose
other keys come in a fixed order:

- known types (:data:`SCHEMAS`: invoice, order, confirmation) list their fields in the
  schema's order, and the payload must have exactly those fields;
- any other type (``ledger_entry``, ``voucher_event``, ...) lists the payload's keys in
  sorted order, nested objects too.

Values: money (``*_fen``) and counts are integers (never float); dates are ISO
``YYYY-MM-DD``; datetimes are UTC ``YYYY-MM-DDTHH:MM:SSZ`` (microseconds dropped);
USCCs are upper-case without spaces and must pass the GB 32100 check character; text is
Unicode NFC with outer spaces stripped; Decimals are written as strings. Floats are
refused because their text is not stable.

The file Trellis hands out for a document is exactly these bytes, so ``sha256sum`` of
the file equals the content hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from trellis import safejson
from trellis.chain.errors import CanonicalFormError
from trellis.messages import N_, msg
from trellis.trade import uscc as uscc_mod

DOC_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# Field kinds.
TEXT, USCC, FEN, INT, DATE, DATETIME, OPT_TEXT = (
    "text", "uscc", "fen", "int", "date", "datetime", "opt_text")

SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "invoice": (("seller_uscc", USCC), ("buyer_uscc", USCC), ("number", TEXT),
                ("amount_fen", FEN), ("issue_date", DATE), ("due_date", DATE),
                ("order_number", OPT_TEXT)),
    "order": (("buyer_uscc", USCC), ("seller_uscc", USCC), ("number", TEXT),
              ("amount_fen", FEN), ("order_date", DATE)),
    # The anchor's confirmation (确权) of an invoice or order it owes.
    "confirmation": (("subject", TEXT), ("seller_uscc", USCC), ("buyer_uscc", USCC),
                     ("number", TEXT), ("amount_fen", FEN), ("decision", TEXT),
                     ("confirmed_at", DATETIME)),
}


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise CanonicalFormError(msg(N_("%(field)s must be text"),
                                     field=field, detail=type(value).__name__),
                                 field=field)
    return unicodedata.normalize("NFC", value).strip()


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CanonicalFormError(msg(N_("%(field)s must be a whole number, not %(value)s"),
                                     field=field, value=value), field=field)
    return value


def _date(value: Any, field: str) -> str:
    if isinstance(value, datetime) or not isinstance(value, date):
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise CanonicalFormError(msg(N_("%(field)s must be a date, not %(value)s"),
                                     field=field, value=value), field=field)
    return value.isoformat()


def _datetime(value: Any, field: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise CanonicalFormError(msg(N_("%(field)s must be a date and time, not %(value)s"),
                                         field=field, value=value),
                                     field=field) from None
    if not isinstance(value, datetime):
        raise CanonicalFormError(msg(N_("%(field)s must be a date and time, not %(value)s"),
                                     field=field, value=value),
                                 field=field)
    if value.tzinfo is None:
        # SQLite hands back naive datetimes that were stored as UTC.
        value = value.replace(tzinfo=UTC)
    stamp: str = value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return stamp


def _uscc(value: Any, field: str) -> str:
    code = uscc_mod.normalise(_text(value, field))
    problem = uscc_mod.problem_message(code)
    if problem is not None:
        raise CanonicalFormError(msg(N_("%(field)s: %(problem)s"),
                                     field=field, problem=problem), field=field)
    return code


def _schema_value(kind: str, value: Any, field: str) -> str | int | None:
    if kind == OPT_TEXT:
        return None if value is None else _text(value, field)
    if value is None:
        raise CanonicalFormError(msg(N_("%(field)s is missing"), field=field), field=field)
    if kind == TEXT:
        return _text(value, field)
    if kind == USCC:
        return _uscc(value, field)
    if kind in (FEN, INT):
        number = _int(value, field)
        if kind == FEN and number < 0:
            raise CanonicalFormError(msg(N_("%(field)s must not be negative"),
                                         field=field), field=field)
        return number
    if kind == DATE:
        return _date(value, field)
    if kind == DATETIME:
        return _datetime(value, field)
    raise AssertionError(kind)


def _generic(value: Any, field: str) -> Any:
    """Normalise a value of a type without schema (keys sorted, recursively)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise CanonicalFormError(msg(N_("%(field)s is a float; use integer fen or Decimal"),
                                     field=field),
                                 field=field)
    if field.endswith("_fen"):
        raise CanonicalFormError(msg(N_("%(field)s must be integer fen"), field=field), field=field)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CanonicalFormError(msg(N_("%(field)s must be a finite number"),
                                         field=field), field=field)
        return str(value)
    if isinstance(value, datetime):
        return _datetime(value, field)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value, field)
    if isinstance(value, dict):
        out = {}
        for key in sorted(value):
            if not isinstance(key, str):
                raise CanonicalFormError(msg(N_("%(field)s: keys must be text"),
                                             field=field), field=field)
            out[key] = _generic(value[key], f"{field}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_generic(v, f"{field}[{i}]") for i, v in enumerate(value)]
    raise CanonicalFormError(msg(N_("%(field)s: this kind of value cannot be written"),
                                 field=field, detail=type(value).__name__),
                             field=field)


def canonical_object(doc_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The ordered object that is serialised; see the module docstring for the rules."""
    if not isinstance(doc_type, str) or not DOC_TYPE_RE.match(doc_type):
        raise CanonicalFormError(
            msg(N_("document type %(doc_type)s must be lower-case letters, digits and _"),
                doc_type=doc_type),
            field="doc_type")
    if "doc_type" in payload:
        raise CanonicalFormError(N_("the payload must not have its own doc_type"),
                                 field="doc_type")
    out: dict[str, Any] = {"doc_type": doc_type}
    schema = SCHEMAS.get(doc_type)
    if schema is None:
        for key in sorted(payload):
            if not isinstance(key, str):
                raise CanonicalFormError(N_("payload keys must be text"), field=str(key))
            out[key] = _generic(payload[key], key)
        return out
    names = {name for name, _ in schema}
    extra = sorted(set(payload) - names)
    if extra:
        raise CanonicalFormError(msg(N_("%(doc_type)s has no field %(value)s"),
                                     doc_type=doc_type, value=extra[0]), field=extra[0])
    for name, kind in schema:
        if name not in payload and kind != OPT_TEXT:
            raise CanonicalFormError(msg(N_("%(doc_type)s needs the field %(name)s"),
                                         doc_type=doc_type, name=name), field=name)
        out[name] = _schema_value(kind, payload.get(name), name)
    return out


def canonical_bytes(doc_type: str, payload: dict[str, Any]) -> bytes:
    """The canonical UTF-8 bytes of a document."""
    return json.dumps(canonical_object(doc_type, payload), ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False).encode("utf-8")


def content_hash(data: bytes) -> str:
    """SHA-256 of *data* as 64 lower-case hex digits (what ``sha256sum`` prints)."""
    return hashlib.sha256(data).hexdigest()


def parse(data: bytes) -> tuple[str, dict[str, Any]]:
    """Split canonical bytes back into (doc_type, payload); raises CanonicalFormError
    when *data* is not JSON of a document, and when it is not in canonical form."""
    try:
        obj = safejson.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CanonicalFormError(N_("the document is not UTF-8 JSON"), field="document") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("doc_type"), str):
        raise CanonicalFormError(N_("the document has no doc_type"), field="doc_type")
    doc_type = obj.pop("doc_type")
    if canonical_bytes(doc_type, obj) != data:
        raise CanonicalFormError(N_("the document is not in canonical form"), field="document")
    return doc_type, obj
