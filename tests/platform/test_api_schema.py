"""The JSON API against its own OpenAPI document, with schemathesis (issue 12).

Every operation of ``/api/v1/openapi.json`` is called with generated requests, valid and
invalid, under a real anchor token on a small supply chain with documents. Every answer
must be no server error and must match the document (status code, content type, body
schema; invalid data refused). Bounded and repeatable: a few seeded examples per
operation and mode.

(schemathesis' own pytest plugin needs pytest < 9 for fixtures, so the operations are
driven here with its strategies and hypothesis directly.)
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.vouchers.factories import invoice, order, supply_chain
from trellis.accounts import services as accounts
from trellis.trade.models import DocStatus

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}
# A proof bundle's validity is cryptographic: a bundle that fits the JSON schema is still
# refused unless a real batch anchored it, so "valid data accepted" cannot hold there.
NO_POSITIVE_ACCEPTANCE = {"POST /api/v1/chain/verify"}


@pytest.fixture
def api_token(session, make_firm, make_cluster):
    chain = supply_chain(session, make_firm, make_cluster)
    for i in range(3):  # distinct amounts: identical ones would be possible duplicates
        invoice(session, chain.tier1, chain.anchor, 1_000_000 + i * 100,
                status=DocStatus.PENDING)
        order(session, chain.tier1, chain.anchor)
    _row, secret = accounts.issue_api_token(session=session, firm_id=chain.anchor.id,
                                            name="schemathesis")
    session.commit()
    return secret


def _run(operation, mode, headers) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        try:
            if "Idempotency-Key" in (case.headers or {}):
                # A key names one request; a client sends a new one for each (a reused
                # key for another request is refused: test_api.py in tests/anchor).
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            excluded = ([schemathesis.checks.positive_data_acceptance]
                        if operation.label in NO_POSITIVE_ACCEPTANCE else [])
            case.call_and_validate(headers=headers, excluded_checks=excluded)
        except BaseException as exc:  # collect: one report for every operation
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = " | ".join(line.strip() for line in str(exc).splitlines()
                              if line.strip())
            failures.append(f"{operation.label} [{mode.value}]: {text[:600]}")
            raise

    try:
        check()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
    return failures[-1:]


def test_the_api_keeps_its_openapi_document(app, api_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # NUL characters are refused everywhere with 400 (the document says so in its
    # description); they are tested in test_edges.py, not generated here.
    schema.config.generation.update(allow_x00=False)
    headers = {"Authorization": f"Bearer {api_token}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        for mode in EXAMPLES:
            failures += _run(operation, mode, headers)
    assert failures == [], "\n".join(failures)
