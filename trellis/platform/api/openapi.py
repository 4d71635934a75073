"""The OpenAPI 3.1 document of ``/api/v1``, built from the routes and their ``@doc``."""

from __future__ import annotations

import re

from flask import current_app

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "field": {"type": "string"}}}},
}


MAX_ID = 2**63 - 1  # what the <int:> converter accepts (trellis.platform.converters)
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "A unique id for this request: a retry with the same key is applied "
                   "only once (1-128 printable ASCII characters).",
    "schema": {"type": "string", "pattern": "^[!-~]{1,128}$"}}


def doc(*, summary: str, request: dict | None = None, response: dict | None = None,
        tags: tuple[str, ...] = (), headers: dict | None = None):
    """Describe an API view for the OpenAPI document (*headers*: those of its 200 answer,
    by name, as OpenAPI's header objects)."""

    def decorator(view):
        view.openapi = {"summary": summary, "request": request, "response": response,
                        "tags": tags, "headers": headers}
        return view

    return decorator


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def repl(match):
        converter, name = match.group(1), match.group(2)
        schema = ({"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int"
                  else {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, rule), params


def build() -> dict:
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None) or {
            "summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0]}
        path, params = _path(rule.rule)
        if getattr(view, "idempotent", False):
            params = params + [IDEMPOTENCY_HEADER]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": str(meta["summary"]), "operationId": rule.endpoint + "." + method,
                  "parameters": params,
                  "responses": {
                      "200": {"description": "OK", "content": {"application/json": {
                          "schema": meta.get("response") or {"type": "object"}}}},
                      "default": {"description": "Error", "content": {"application/json": {
                          "schema": ERROR_SCHEMA}}}}}
            if meta.get("headers"):
                op["responses"]["200"]["headers"] = meta["headers"]
            if meta.get("tags"):
                op["tags"] = list(meta["tags"])
            roles = getattr(view, "allowed_roles", None)
            if roles:
                op["description"] = "Roles: " + ", ".join(roles)
            if meta.get("request"):
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": meta["request"]}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Trellis API", "version": "1",
                 "description": "Text holding a NUL character (\\u0000) is refused with "
                                "400 (code nul_character) wherever it appears."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A firm's API token (trl_...)"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "trellis_session"}}},
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": dict(sorted(paths.items())),
    }
