"""Language, money formatting, health, the OpenAPI document and API tokens."""

from __future__ import annotations

import pytest

from tests.platform.conftest import csrf_token, login
from trellis.accounts import services


def test_chinese_by_default_english_on_request(client, make_user):
    login(client, make_user("admin"))
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "退出" in page
    client.post("/locale", data={"csrf_token": csrf_token(client, "/"), "locale": "en"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log out" in page


@pytest.mark.parametrize("locale, fen, expected", [
    ("zh_CN", 123456789, "¥1,234,567.89"),
    ("en", 5, "CN¥0.05"),
    ("zh_CN", 0, "¥0.00"),
])
def test_money_is_formatted_for_the_locale(app, locale, fen, expected):
    from trellis.platform.i18n import money

    with app.test_request_context("/"):
        from flask import session

        session["locale"] = locale
        assert money(fen) == expected


def test_healthz_tells_anonymous_callers_only_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"ok": True}


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_healthz_reports_each_part_to_admins(client, logged_in, role):
    logged_in(role)
    body = client.get("/healthz").json
    assert body["database"]["ok"] is True
    assert body["database"]["up_to_date"] is True
    assert {"chain", "scheduler"} <= set(body)


def test_healthz_hides_details_from_other_roles(client, logged_in):
    logged_in("vendor")
    assert set(client.get("/healthz").json) == {"ok"}


def test_openapi_lists_the_api(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/firms/{firm_id}" in doc["paths"]
    assert doc["paths"]["/api/v1/firms/{firm_id}"]["get"]["parameters"][0]["name"] == "firm_id"


def test_api_token_authenticates_a_firm_and_revocation_stops_it(client, session, make_firm):
    anchor = make_firm(role="anchor")
    token, secret = services.issue_api_token(session=session, firm_id=anchor.id, name="ERP")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json == {"role": "anchor", "firm_id": anchor.id}
    services.revoke_api_token(session=session, token_id=token.id)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_token"


def test_api_errors_are_json(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_healthz_says_when_migrations_are_missing(tmp_path):
    from trellis import migrate
    from trellis.config import Settings
    from trellis.platform import create_app

    url = f"sqlite:///{tmp_path}/behind.db"
    migrate.upgrade(url, "0001_foundation")
    settings = Settings.from_env({}, env="test", database_url=url, instance_path=str(tmp_path))
    app = create_app({"TESTING": True}, settings=settings)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"ok": False}
    app.extensions["trellis.engine"].dispose()


def test_the_home_page_names_clusters_without_their_code(client, make_user, make_cluster):
    """Outside reader 6: the home page read 江北智能制造产业园 jiangbei-park; the code is an
    identifier for commands, kept in the name's title."""
    cluster = make_cluster()
    login(client, make_user("admin"))
    page = client.get("/").get_data(as_text=True)
    assert f'title="{cluster.code}">{cluster.name}<' in page
    assert f">{cluster.code}<" not in page
