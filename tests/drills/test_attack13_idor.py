"""Every id one can see, tried by a role that should not see it (IDOR).

Written from the specification without reading ``trellis/`` (README, the pages of a
running demo, the OpenAPI document, ``tests/conftest.py`` and ``tests/drills/``); see
``attack13_kit``.

The claim: a vendor or anchor user sees only its own firm's records, an auditor changes
nothing, an RM sees only the clusters assigned to it. The ids come from the seeded book
(``loans``, ``invoices``, ``firms``, ``clusters``: names from the schema).
"""

from __future__ import annotations

import pytest

from tests.drills.attack13_kit import ADMIN, ANCHOR, AUDITOR, RM, VENDOR, VENDOR2, login, me, token


def _other_vendor_loan(site, firm_id: int) -> int:
    return site.q("select min(id) from loans where firm_id <> :f", f=firm_id)[0][0]


@pytest.mark.parametrize("who", [VENDOR, VENDOR2])
def test_vendor_reads_no_other_firms_loans(a13_sqlite_site, who):
    site = a13_sqlite_site
    client = login(site, who)
    mine = me(client)["firm_id"]
    loan = _other_vendor_loan(site, mine)
    assert loan, "the book holds no loan of another firm"
    for url in (f"/api/v1/loans/{loan}", f"/api/v1/loans/{loan}/statement",
                f"/vendor/loans/{loan}", f"/ledger/loans/{loan}/statement.csv"):
        got = client.get(url)
        assert got.status_code in (302, 303, 403, 404), f"{url}: {got.status_code}"
        if got.status_code in (302, 303):
            assert "/login" in got.headers["Location"] or f"/{loan}" not in got.headers["Location"]
    listed = client.get("/api/v1/loans").get_json() or {}
    ids = [item["id"] for item in listed.get("items", [])]
    if ids:
        owners = {r[0] for r in site.q(f"select firm_id from loans where id in "
                                       f"({','.join(map(str, ids))})")}
        assert owners == {mine}, f"{who} lists loans of firms {owners}"


def test_vendor_reads_no_other_firms_scores_pages_or_proofs(a13_sqlite_site):
    site = a13_sqlite_site
    vendor = login(site, VENDOR)
    mine = me(vendor)["firm_id"]
    other = me(login(site, VENDOR2))["firm_id"]
    for url in (f"/api/v1/firms/{other}/score", f"/scoring/firms/{other}",
                f"/network/firms/{other}", f"/api/v1/firms/{other}/neighbourhood"):
        got = vendor.get(url)
        assert got.status_code in (302, 303, 403, 404), f"{url}: {got.status_code}"
    [(invoice,)] = site.q("select min(id) from invoices where seller_id <> :m and buyer_id <> :m",
                          m=mine)
    got = vendor.get(f"/api/v1/chain/documents/invoice/{invoice}/proof")
    assert got.status_code in (403, 404), got.status_code


def test_anchor_reads_no_other_anchors_queue_items(a13_sqlite_site):
    site = a13_sqlite_site
    anchor = login(site, ANCHOR)
    mine = me(anchor)["firm_id"]
    [(invoice,)] = site.q("select min(id) from invoices where buyer_id <> :m", m=mine)
    assert anchor.get(f"/anchor/queue/invoice/{invoice}").status_code in (403, 404)
    listed = anchor.get("/api/v1/anchor/invoices?status=all").get_json() or {}
    ids = [item["id"] for item in listed.get("items", []) if item.get("kind") == "invoice"]
    if ids:
        buyers = {r[0] for r in site.q(f"select buyer_id from invoices where id in "
                                       f"({','.join(map(str, ids))})")}
        assert buyers == {mine}, f"the anchor lists invoices addressed to {buyers}"


def test_rm_sees_no_cluster_it_is_not_assigned(a13_sqlite_site):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    made = admin.post("/api/v1/clusters", headers={"X-CSRFToken": token(admin, "/admin/users")},
                      json={"code": "a13-other-park", "name": "甬北新材料园", "region": "宁波市"})
    assert made.status_code in (200, 201), made.get_data(as_text=True)[:300]
    rm = login(site, RM)
    listed = rm.get("/api/v1/clusters").get_json()
    items = listed.get("items", listed.get("clusters", [])) if isinstance(listed, dict) else listed
    codes = [c.get("code") for c in items]
    assert codes, f"the RM sees no cluster at all: {listed}"
    assert "a13-other-park" not in codes, codes
    for url in ("/network/a13-other-park", "/network/a13-other-park/import",
                "/network/a13-other-park/settings", "/api/v1/clusters/a13-other-park/stats"):
        got = rm.get(url)
        assert got.status_code in (403, 404), f"{url}: {got.status_code}"
    got = rm.patch("/api/v1/clusters/a13-other-park", headers={
        "X-CSRFToken": token(rm, "/network/")}, json={"name": "改名"})
    assert got.status_code in (403, 404), got.status_code


def test_auditor_changes_nothing(a13_sqlite_site):
    site = a13_sqlite_site
    auditor = login(site, AUDITOR)
    tok = token(auditor, "/")
    loan = site.q("select min(id) from loans where status = 'active'")[0][0]
    before = site.q("select count(*) from loan_repayments")[0][0]
    got = auditor.post(f"/api/v1/loans/{loan}/repayments", headers={
        "X-CSRFToken": tok, "Idempotency-Key": "a13-auditor"},
        json={"amount_fen": 100, "paid_on": "2026-01-05"})
    assert got.status_code in (401, 403, 404), got.status_code
    assert site.q("select count(*) from loan_repayments")[0][0] == before
    got = auditor.post("/api/v1/clusters", headers={"X-CSRFToken": tok},
                       json={"code": "a13-auditor-park", "name": "审计园"})
    assert got.status_code in (401, 403), got.status_code
