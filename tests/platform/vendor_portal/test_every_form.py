"""Every POST route of the vendor, anchor and registration pages, table-driven from the URL
map: a forged CSRF token is refused with 400, an empty submission gets a clear 4xx answer
(never a 500), and neither changes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.platform.conftest import csrf_token
from trellis.accounts.models import AuditEvent, Consent
from trellis.trade.models import Invoice, PurchaseOrder

PREFIXES = ("/vendor/", "/anchor/", "/register/")


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.rule.startswith(PREFIXES):
            view = app.view_functions[rule.endpoint]
            roles = getattr(view, "allowed_roles", None)
            url = rule.rule
            for arg in rule.arguments:
                url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "invoice")
            yield url, (roles[0] if roles else None)


def counts(session) -> tuple:
    return tuple(session.exec(select(func.count()).select_from(model)).one()
                 for model in (AuditEvent, Consent, Invoice, PurchaseOrder))


def test_the_route_table_is_not_empty(app):
    urls = [u for u, _ in post_routes(app)]
    assert len(urls) >= 20 and "/anchor/queue" in urls and "/register/new" in urls


def by_role(app, prefix):
    """The routes under *prefix* grouped by the role that may post to them."""
    groups: dict = {}
    for url, role in post_routes(app):
        if url.startswith(prefix):
            groups.setdefault(role, []).append(url)
    return groups


def log_in_as(client, logged_in, chain, role):
    with client.session_transaction() as s:
        s.clear()
    if role:
        logged_in(role, firm=chain.anchor if role == "anchor" else
                  chain.tier1 if role == "vendor" else None)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_forged_csrf_is_refused_everywhere(app, client, session, logged_in, chain, prefix):
    groups = by_role(app, prefix)
    assert groups
    for role, urls in groups.items():
        log_in_as(client, logged_in, chain, role)
        for url in urls:
            before = counts(session)
            response = client.post(url, data={"csrf_token": "forged"})
            assert response.status_code == 400, url
            assert counts(session) == before, url


@pytest.mark.parametrize("prefix", PREFIXES)
def test_empty_submissions_get_a_clear_answer(app, client, session, logged_in, chain, prefix):
    for role, urls in by_role(app, prefix).items():
        log_in_as(client, logged_in, chain, role)
        page = "/register/" if role is None else "/vendor/" if role == "vendor" else \
            "/anchor/" if role == "anchor" else "/vendor/warnings-admin"
        token = csrf_token(client, page)
        for url in urls:
            before = counts(session)
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code in (303, 400, 403, 404, 409, 422), \
                (url, response.status_code)
            if response.status_code == 303:  # a button form: it must have said what it did
                follow = client.get(response.location)
                assert follow.status_code in (200, 404), url
                assert "flash" in follow.get_data(as_text=True) or follow.status_code == 404, url
            assert counts(session)[1:] == before[1:], url
