"""Clusters as first-class records: create, edit, archive by command, page and API; the
data basis that allows pre-assessment, and what a pre-assessment may and may not do."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select

from tests.platform.conftest import csrf_token
from trellis import clock
from trellis.accounts.models import AuditEvent
from trellis.accounts.services import grant_consent
from trellis.errors import Conflict, ValidationError
from trellis.onboarding import basis
from trellis.platform.cli import main
from trellis.scoring import service
from trellis.trade import clusters
from trellis.trade.models import Cluster, ClusterManager

TODAY = clock.today()


def invoke(app, args):
    return app.test_cli_runner().invoke(main, args, obj=ScriptInfo(create_app=lambda: app))


def events(session, action):
    return session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_cli_creates_edits_archives_and_restores(app, session):
    out = invoke(app, ["clusters", "create", "hz-yuhang", "--name", "余杭经济开发区",
                       "--region", "杭州市余杭区"])
    assert out.exit_code == 0, out.output
    c = session.execute(select(Cluster).where(Cluster.code == "HZ-YUHANG")).scalar_one()
    assert (c.name, c.region) == ("余杭经济开发区", "杭州市余杭区")
    again = invoke(app, ["clusters", "create", "HZ-YUHANG", "--name", "x"])
    assert again.exit_code != 0 and "已存在" in again.output, again.output
    assert invoke(app, ["clusters", "edit", "HZ-YUHANG", "--name", "余杭园"]).exit_code == 0
    session.refresh(c)
    assert c.name == "余杭园"
    assert invoke(app, ["clusters", "archive", "HZ-YUHANG"]).exit_code == 0
    listed = json.loads(invoke(app, ["clusters", "list", "--json"]).output)["clusters"]
    assert "HZ-YUHANG" not in [x["code"] for x in listed]
    listed = json.loads(invoke(app, ["clusters", "list", "--json", "--archived"]).output)
    assert "HZ-YUHANG" in [x["code"] for x in listed["clusters"]]
    assert invoke(app, ["clusters", "restore", "HZ-YUHANG"]).exit_code == 0
    for action in ("cluster.create", "cluster.edit", "cluster.archive", "cluster.restore"):
        assert len(events(session, action)) == 1, action


@pytest.mark.parametrize("code, name, problem", [
    ("A", "x", ValidationError), ("has space", "x", ValidationError),
    ("OK-1", "", ValidationError), ("OK-2", "x" * 201, ValidationError)])
def test_bad_cluster_input_is_refused(session, code, name, problem):
    with pytest.raises(problem) as exc:
        clusters.create(session=session, code=code, name=name)
    assert exc.value.message_zh  # every message also in Chinese


def test_archived_cluster_takes_no_imports(session, make_cluster):
    from trellis.onboarding import runs

    c = make_cluster()
    clusters.archive(session=session, cluster=c)
    with pytest.raises(Conflict):
        runs.create_run(session=session, cluster_id=c.id, kind="firms", filename="f.csv",
                        data=b"uscc\n")


def test_api_create_edit_archive_with_openapi(client, logged_in, session):
    rm = logged_in("rm")
    token = csrf_token(client, "/network/clusters/new")
    headers = {"X-CSRFToken": token}
    r = client.post("/api/v1/clusters", json={"code": "SZ-BAOAN", "name": "宝安园区",
                                               "region": "深圳"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    # the RM who created it is assigned to it and sees it
    assert session.get(ClusterManager, (cid, rm.id)) is not None
    assert "SZ-BAOAN" in [c["code"] for c in client.get("/api/v1/clusters").get_json()[
        "clusters"]]
    r = client.patch("/api/v1/clusters/SZ-BAOAN", json={"region": "深圳市宝安区"},
                     headers=headers)
    assert r.status_code == 200 and r.get_json()["region"] == "深圳市宝安区"
    bad = client.post("/api/v1/clusters", json={"code": "SZ-BAOAN", "name": "x"},
                      headers=headers)
    assert bad.status_code == 409
    assert client.post("/api/v1/clusters", json={"code": 5}, headers=headers).status_code == 422
    assert client.post("/api/v1/clusters/SZ-BAOAN/archive", headers=headers).status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/clusters"])
    assert "patch" in spec["paths"]["/api/v1/clusters/{code}"]
    assert len(events(session, "cluster.create")) == 1


def test_vendor_may_not_create_clusters(client, logged_in):
    logged_in("vendor")
    assert client.get("/network/clusters/new").status_code == 403


def test_page_creates_cluster_and_records_basis(client, logged_in, session):
    logged_in("rm")
    token = csrf_token(client, "/network/clusters/new")
    r = client.post("/network/clusters/new", data={
        "csrf_token": token, "code": "NB-01", "name": "宁波园区", "region": "宁波",
        "kind": "industrial_park"})
    assert r.status_code == 303, r.get_data(as_text=True)[:400]
    page = client.get("/network/NB-01/settings").get_data(as_text=True)
    assert "basis-missing" in page
    token = csrf_token(client, "/network/NB-01/settings")
    r = client.post("/network/NB-01/settings", data={
        "basis-csrf_token": token, "csrf_token": token, "action": "basis",
        "basis-party": "宁波示范核心企业", "basis-reference": "DSA-2026-001",
        "basis-scope": "供应商订单、发票和付款", "basis-valid_from": TODAY.isoformat(),
        "basis-expires_on": (TODAY + timedelta(days=365)).isoformat()})
    assert r.status_code == 303, r.get_data(as_text=True)[:600]
    page = client.get("/network/NB-01/settings").get_data(as_text=True)
    assert "basis-valid" in page and "DSA-2026-001" in page
    assert len(events(session, "cluster.data_basis")) == 1


@pytest.mark.parametrize("kw, field", [
    ({"party": ""}, "party"), ({"reference": " "}, "reference"),
    ({"expires_on": TODAY - timedelta(days=1)}, "expires_on"),
    ({"valid_from": TODAY, "expires_on": TODAY + timedelta(days=3000)}, "expires_on")])
def test_basis_input_is_checked(session, make_cluster, kw, field):
    args = {"party": "核心企业", "reference": "DSA-1",
            "expires_on": TODAY + timedelta(days=30)} | kw
    with pytest.raises(ValidationError) as exc:
        basis.record(session=session, cluster_id=make_cluster().id, **args)
    assert exc.value.field == field


@pytest.fixture
def traded_park(make_cluster, make_firm, make_invoice):
    c = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=c.id)
    vendor = make_firm(cluster_id=c.id)
    start = TODAY - timedelta(days=400)
    for i in range(26):
        make_invoice(vendor, anchor, 50_000_00 + i * 1_00, start + timedelta(days=15 * i),
                     status="confirmed")
    return c, anchor, vendor


def test_without_basis_or_consent_nothing_is_scored(session, traded_park):
    c, _, vendor = traded_park
    results, _ = service.score_portfolio(session=session, cluster_id=c.id, store=False)
    r = next(x for x in results if x.firm_id == vendor.id)
    assert r.insufficient and r.score is None


def test_basis_allows_pre_assessment_but_not_a_credit_decision(session, traded_park):
    c, _, vendor = traded_park
    basis.record(session=session, cluster_id=c.id, party="核心企业", reference="DSA-9",
                 expires_on=TODAY + timedelta(days=90))
    results, _ = service.score_portfolio(session=session, cluster_id=c.id)
    r = next(x for x in results if x.firm_id == vendor.id)
    assert r.score is not None and r.basis == "pre_assessment" and r.pre_assessment
    stored = service.latest(session=session, firm_id=vendor.id)
    assert stored.basis == "pre_assessment"
    # The credit path (score_firm, used by origination) still needs the firm's consent.
    decision = service.score_firm(session=session, firm_id=vendor.id, store=False)
    assert decision.insufficient and decision.score is None
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    decision = service.score_firm(session=session, firm_id=vendor.id, store=False)
    assert decision.score is not None and decision.basis == "consent"


def test_revoked_or_expired_basis_stops_pre_assessment(session, traded_park):
    c, _, vendor = traded_park
    b = basis.record(session=session, cluster_id=c.id, party="核心企业", reference="DSA-9",
                     expires_on=TODAY + timedelta(days=90))
    basis.revoke(session=session, basis_id=b.id, cluster_id=c.id)
    results, _ = service.score_portfolio(session=session, cluster_id=c.id, store=False)
    assert next(x for x in results if x.firm_id == vendor.id).score is None
    assert basis.clusters_with_basis(session=session, cluster_ids=[c.id],
                                     on=TODAY + timedelta(days=91)) == set()
