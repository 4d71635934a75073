"""Who may see what: a table-driven matrix over routes and roles."""

from __future__ import annotations

import pytest

from tests.platform.conftest import login

ROLES = ("admin", "rm", "vendor", "anchor", "auditor")
PUBLIC = {"/login", "/login/forgot", "/healthz", "/api/v1/openapi.json"}
PUBLIC_PREFIXES = ("/register",)  # vendor self-registration and invitations

# The foundation's own pages; areas add theirs and the generic tests below cover them.
MATRIX = [
    ("/", ROLES),
    ("/admin/users", ("admin",)),
    ("/admin/tokens", ("admin",)),
    ("/admin/jobs", ("admin",)),
    ("/admin/clusters", ("admin",)),
    ("/admin/audit", ("admin", "auditor")),
    ("/network/", ("admin", "rm", "auditor")),
    ("/chain/", ("admin", "auditor")),
    ("/vendor/", ("vendor",)),
    ("/anchor/", ("anchor",)),
]


@pytest.mark.parametrize("url, allowed", MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(client, logged_in, url, allowed, role):
    logged_in(role)
    response = client.get(url)
    if role in allowed:
        assert response.status_code == 200, (url, role)
    else:
        assert response.status_code == 403, (url, role)
        assert "do not have access" in response.get_data(as_text=True) or \
            "无权" in response.get_data(as_text=True)


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule


def test_every_page_refuses_anonymous_users(app, client):
    """A forgotten login check anywhere fails here."""
    for url in _get_routes(app):
        if url in PUBLIC or url.startswith(PUBLIC_PREFIXES):
            continue
        response = client.get(url)
        assert response.status_code in (302, 401), url
        if response.status_code == 302:
            assert "/login" in response.location, url


def test_every_view_declares_its_roles_and_refuses_the_others(app, make_user, make_firm):
    """Every parameterless page refuses each role outside its declared set with 403.

    One client per role, each logged in once (a login costs an argon2 hash)."""
    clients = {}
    for role in ROLES:
        firm = make_firm(role="anchor" if role == "anchor" else "vendor") \
            if role in ("vendor", "anchor") else None
        clients[role] = app.test_client()
        login(clients[role], make_user(role, firm=firm))
    checked = 0
    adapter = app.url_map.bind("localhost")
    for url in _get_routes(app):
        if url in PUBLIC or url.startswith(PUBLIC_PREFIXES):
            continue
        endpoint, _ = adapter.match(url, method="GET")
        roles = getattr(app.view_functions[endpoint], "allowed_roles", None)
        if roles is None:  # login_required only: every role may see it
            continue
        for role in sorted(set(ROLES) - set(roles)):
            assert clients[role].get(url).status_code == 403, (url, role)
            checked += 1
    assert checked > 50  # the walk really reached the pages


def test_firm_user_cannot_read_another_firms_record(client, logged_in, make_firm):
    mine = make_firm(role="vendor")
    other = make_firm(role="vendor")
    logged_in("vendor", firm=mine)
    assert client.get(f"/api/v1/firms/{mine.id}").status_code == 200
    response = client.get(f"/api/v1/firms/{other.id}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_rm_sees_only_assigned_clusters(client, session, logged_in, make_cluster, make_firm):
    from trellis.trade.models import ClusterManager

    assigned, foreign = make_cluster(), make_cluster()
    inside = make_firm(cluster_id=assigned.id)
    outside = make_firm(cluster_id=foreign.id)
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=assigned.id, user_id=rm.id))
    session.flush()
    assert client.get(f"/api/v1/firms/{inside.id}").status_code == 200
    assert client.get(f"/api/v1/firms/{outside.id}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert assigned.name in home and foreign.name not in home


def test_auditor_cannot_change_anything(client, logged_in):
    logged_in("auditor")
    from tests.platform.conftest import csrf_token

    token = csrf_token(client, "/admin/audit")
    response = client.post("/admin/users", data={"csrf_token": token, "email": "x@y.cn",
                                                 "role": "admin", "password": "a" * 12})
    assert response.status_code == 403
    response = client.post("/admin/jobs/anchor_pending/run", data={"csrf_token": token})
    assert response.status_code == 403


def test_inactive_user_is_logged_out(client, session, make_user):
    user = make_user("admin")
    login(client, user)
    user.is_active = False
    session.add(user)
    session.flush()
    assert client.get("/admin/users").status_code == 302


def test_admin_assigns_an_rm_who_then_sees_the_cluster(client, session, make_user,
                                                       make_cluster, make_firm):
    from sqlmodel import select

    from tests.platform.conftest import csrf_token
    from trellis.accounts.models import AuditEvent

    cluster = make_cluster()
    firm = make_firm(cluster_id=cluster.id)
    rm = make_user("rm")
    login(client, rm)
    assert client.get(f"/api/v1/firms/{firm.id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, make_user("admin"))
    token = csrf_token(client, "/admin/clusters")
    response = client.post("/admin/clusters", data={"csrf_token": token,
                                                    "cluster_id": cluster.id, "user_id": rm.id})
    assert response.status_code == 302
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "cluster.assign_rm")).one().record_id == str(cluster.id)
    bad = client.post("/admin/clusters", data={"csrf_token": token, "cluster_id": 999999,
                                               "user_id": rm.id})
    assert bad.status_code == 422
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, rm)
    assert client.get(f"/api/v1/firms/{firm.id}").status_code == 200
