"""Idempotent API requests: the ``Idempotency-Key`` header.

A state-changing API call must carry an ``Idempotency-Key`` (1-128 printable ASCII
characters). The first successful response is stored with the key (per firm) in the
same transaction as the change; a retry with the same key and the same request gets the
stored response again (header ``Idempotent-Replayed: true``) and changes nothing; the
same key with a different request is refused (422). Failed requests are not stored:
nothing changed, so the client may retry them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from trellis import safejson
from trellis.accounts.models import IdempotencyRecord
from trellis.errors import ValidationError
from trellis.platform.errors import json_error
from trellis.platform.web import current_firm_id, db

KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
HEADER = "Idempotency-Key"


def _fingerprint() -> str:
    body = request.get_data(cache=True) or b""
    try:
        parsed = safejson.loads(body) if body else None
        body = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + body).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.body.get("request") != fingerprint:
        return json_error("idempotency_key_reused",
                          "This Idempotency-Key was used for a different request; use a new "
                          "key for a new request.", 422)
    response = jsonify(record.body.get("response"))
    response.status_code = record.status
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Wrap an API view returning ``(dict, status)`` that flushes but does not commit."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            raise ValidationError(f"Send an {HEADER} header (a unique id for this request) so "
                                  "that a retry is applied only once.", field=HEADER)
        if not KEY_RE.match(key):
            raise ValidationError(f"The {HEADER} must be 1 to 128 printable ASCII characters.",
                                  field=HEADER)
        scope = f"firm:{current_firm_id()}"
        fingerprint = _fingerprint()
        found = db().exec(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)).first()
        if found is not None:
            return _replay(found, fingerprint)
        body, status = view(*args, **kwargs)
        db().add(IdempotencyRecord(scope=scope, key=key, status=status,
                                   body={"request": fingerprint, "response": body}))
        try:
            db().commit()
        except IntegrityError:  # a concurrent retry with the same key won the race
            db().rollback()
            found = db().exec(select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)).one()
            return _replay(found, fingerprint)
        g.idempotency_key = key
        return jsonify(body), status

    wrapper.idempotent = True
    return wrapper
