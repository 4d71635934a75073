"""Hostile uploads on every upload path: refused fast, nothing written (issue 12).

The files (tests/hostile.py) follow the outside audit's description: a zip bomb of
8 million empty rows, a 250 KB header, text that is no known encoding, NUL characters,
HTML in names. Each path is the one a person (or script) can reach: the vendor's upload
page, the RM's bulk import page and the ``trellis import`` command; and, for files and
bodies of JSON, the chain's check page, the scorecard import, the JSON API and the import
command's mapping file.
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from tests import hostile
from tests.platform.conftest import csrf_token
from tests.vouchers.factories import supply_chain
from trellis import clock
from trellis.onboarding.models import ImportRun
from trellis.platform.cli import main
from trellis.trade.models import ClusterManager, Invoice, PurchaseOrder

XSS = "<img src=x onerror=alert(1)>"
TODAY = clock.today()


def _good_row(chain) -> str:
    issue = (TODAY - timedelta(days=5)).isoformat()
    due = (TODAY + timedelta(days=55)).isoformat()
    return f"{chain.anchor.uscc},F-1,100,{issue},{due}"


HOSTILE = {
    "zip-bomb": lambda chain: ("bomb.xlsx", hostile.xlsx_empty_rows()),
    "far-row": lambda chain: ("far.xlsx", hostile.xlsx_far_row()),
    "junk-elements": lambda chain: ("junk.xlsx", hostile.xlsx_junk_elements()),
    "huge-header": lambda chain: ("header.csv", hostile.csv_wide_header()),
    "many-rows": lambda chain: ("rows.csv", hostile.csv_many_rows(150_000)),
    "not-text": lambda chain: ("binary.csv", bytes(range(256)) * 64),
    "nul": lambda chain: ("nul.csv", ("buyer_uscc,number,amount,issue_date,due_date\n"
                                      + _good_row(chain).replace("F-1", "F\x001")
                                      + "\n").encode()),
    "formula": lambda chain: ("formula.csv", ("buyer_uscc,number,amount,issue_date,due_date\n"
                                              + _good_row(chain).replace(
                                                  ",100,", ",=cmd|' /C calc'!A0,")
                                              + "\n").encode()),
    "gbk-garbage": lambda chain: ("gbk.csv", "发票号码,金额\n".encode("utf-16-le") * 50),
    "html-names": lambda chain: (f"{XSS}.csv", (f"{XSS},number\n{XSS},1\n").encode()),
}


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)


def _counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Invoice)),
            session.scalar(select(func.count()).select_from(PurchaseOrder)))


def _vendor_upload(client, logged_in, session, chain, name, data):
    logged_in("vendor", firm=chain.tier1)
    url = "/vendor/trade/upload"
    token = csrf_token(client, url)
    started = time.perf_counter()
    response = client.post(url, data={"csrf_token": token, "kind": "invoices",
                                      "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    return response, time.perf_counter() - started


def _rm_import(client, logged_in, session, chain, name, data):
    # Inline, as small files run: a background thread cannot share the test's transaction.
    client.application.config["NETWORK_IMPORT_INLINE_MAX_BYTES"] = 1 << 30
    user = logged_in("rm")
    session.add(ClusterManager(cluster_id=chain.anchor.cluster_id, user_id=user.id))
    session.flush()
    from trellis.trade.models import Cluster

    code = session.get(Cluster, chain.anchor.cluster_id).code
    url = f"/network/{code}/import"
    token = csrf_token(client, url)
    started = time.perf_counter()
    response = client.post(url, data={"csrf_token": token, "kind": "invoices",
                                      "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    return response, time.perf_counter() - started


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("path", [_vendor_upload, _rm_import], ids=["vendor", "rm"])
def test_hostile_upload_is_refused_fast_and_writes_nothing(client, logged_in, session, chain,
                                                           case, path):
    name, data = HOSTILE[case](chain)
    before = _counts(session)
    response, seconds = path(client, logged_in, session, chain, name, data)
    assert seconds < 1.0, f"{case} took {seconds:.2f} s"
    assert response.status_code in (303, 413, 422), response.status_code
    assert _counts(session) == before
    body = response.get_data(as_text=True)
    if response.status_code == 303:  # the RM's run page, or the page it came from
        body = client.get(response.location).get_data(as_text=True)
        runs = session.execute(select(ImportRun.status)).scalars().all()
        assert all(s != "succeeded" for s in runs)
        if case in ("zip-bomb",):
            assert runs == []  # refused from the zip directory, before a run is stored
    assert XSS not in body
    if case in ("zip-bomb", "huge-header"):
        assert len(body) < 100_000  # one clear message, not 50,000 problems


def test_the_import_command_refuses_the_zip_bomb_fast(app, session, chain, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(hostile.xlsx_empty_rows())
    from trellis.trade.models import Cluster

    code = session.get(Cluster, chain.anchor.cluster_id).code
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(
        main, ["import", code, str(bomb), "--kind", "invoices"],
        obj=ScriptInfo(create_app=lambda: app))
    assert time.perf_counter() - started < 1.0
    assert result.exit_code != 0 and "压缩炸弹" in result.output, result.output   # zh by default
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


# The other places that take a file or a JSON body from outside: the chain's check page
# (a document, a proof bundle, a manifest), the scorecard import, the JSON API and the
# import command's mapping file. Deep JSON once killed the process there (see
# trellis/safejson.py).
OTHER = {
    "deep-json": hostile.json_deep,
    "deep-object": hostile.json_deep_object,
    "zip-bomb": hostile.xlsx_empty_rows,
    "not-text": lambda: bytes(range(256)) * 64,
    "nul": lambda: b'{"format": "trellis-proof-v2\x00", "document": {}}',
    "html": lambda: json.dumps({"format": XSS, "document": {"x": XSS}}).encode(),
}


def _chain_documents(session) -> int:
    from trellis.chain.models import Document

    return session.scalar(select(func.count()).select_from(Document))


@pytest.mark.parametrize("field", ["upload", "manifest"])
@pytest.mark.parametrize("case", sorted(OTHER))
def test_chain_check_page_refuses_hostile_files(client, logged_in, session, case, field):
    logged_in("auditor")
    before = _chain_documents(session)
    data = {"csrf_token": csrf_token(client, "/chain/check"),
            "upload": (io.BytesIO(OTHER[case]() if field == "upload" else b"{}"), f"{XSS}.json")}
    if field == "manifest":
        data["manifest"] = (io.BytesIO(OTHER[case]()), "tree.json")
    started = time.perf_counter()
    response = client.post("/chain/check", data=data, content_type="multipart/form-data")
    assert time.perf_counter() - started < 1.5, case
    assert response.status_code in (200, 422), response.status_code
    assert XSS not in response.get_data(as_text=True)
    assert _chain_documents(session) == before


@pytest.mark.parametrize("case", sorted(OTHER))
def test_scorecard_import_refuses_hostile_files(client, logged_in, session, case):
    from trellis.scoring.models import Scorecard

    logged_in("admin")
    token = csrf_token(client, "/scoring/")   # the page stores the default scorecard
    before = session.scalar(select(func.count()).select_from(Scorecard))
    body = OTHER[case]()
    started = time.perf_counter()
    response = client.post("/scoring/scorecards/import",
                           data={"csrf_token": token, "notes": XSS,
                                 "file": (io.BytesIO(body), f"{XSS}.json")},
                           content_type="multipart/form-data")
    assert time.perf_counter() - started < 1.5, case
    assert response.status_code in (303, 400, 422), response.status_code
    if response.status_code == 303:
        response = client.get(response.location)
    assert XSS not in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Scorecard)) == before


@pytest.mark.parametrize("case", ["deep-json", "deep-object"])
def test_json_api_refuses_deep_bodies(client, session, chain, case):
    from trellis.accounts import services as accounts

    _row, secret = accounts.issue_api_token(session=session, firm_id=chain.anchor.id,
                                            name="ERP")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    for path, extra in (("/api/v1/chain/verify", {}),
                        ("/api/v1/anchor/invoices/decisions", {"Idempotency-Key": "k-1"})):
        response = client.post(path, data=OTHER[case](), headers={**headers, **extra})
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        assert response.is_json


def test_the_import_command_refuses_a_deep_mapping_file(app, session, chain, tmp_path):
    from trellis.trade.models import Cluster

    data = tmp_path / "invoices.csv"
    data.write_text("buyer_uscc,number,amount,issue_date,due_date\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(hostile.json_deep())
    code = session.get(Cluster, chain.anchor.cluster_id).code
    result = app.test_cli_runner().invoke(
        main, ["import", code, str(data), "--kind", "invoices", "--mapping", str(mapping)],
        obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code != 0 and "JSON" in result.output, result.output
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0
