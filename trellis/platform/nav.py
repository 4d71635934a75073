"""Navigation per role: one table, read by the base template."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# (endpoint, label, roles)
NAV = (
    ("home.index", _l("Home"), ("admin", "rm", "vendor", "anchor", "auditor")),
    ("network.index", _l("Clusters"), ("admin", "rm", "auditor")),
    ("scoring.index", _l("Risk"), ("admin", "rm")),
    ("ledger.index", _l("Loans"), ("admin", "rm", "auditor")),
    ("vendor.index", _l("My firm"), ("vendor",)),
    ("anchor.index", _l("Anchor desk"), ("anchor",)),
    ("assistant.chat", _l("AI customer manager"), ("vendor", "anchor")),
    ("assistant.inbox", _l("Assistant inbox"), ("admin", "rm")),
    ("chain.index", _l("Chain audit"), ("admin", "auditor")),
    ("admin.audit_trail", _l("Audit trail"), ("admin", "auditor")),
    ("admin.users", _l("Users"), ("admin",)),
    ("admin.clusters", _l("Cluster assignments"), ("admin",)),
    ("admin.jobs", _l("Jobs"), ("admin",)),
    ("vendor.warnings_admin", _l("Fraud warnings"), ("admin",)),
    ("admin.settlement_account", _l("Settlement account"), ("admin",)),
    ("admin.products", _l("Products"), ("admin",)),
)


def items_for(role: str | None) -> list[dict]:
    if role is None:
        return []
    out = []
    for endpoint, label, roles in NAV:
        if role in roles:
            out.append({"endpoint": endpoint, "label": label, "url": url_for(endpoint)})
    return out


def may_open(endpoint: str) -> bool:
    """Whether the current user's role may open *endpoint*, as its ``roles_required``
    says (a page without one: any logged-in user): a page links only to what opens."""
    if not (current_user and current_user.is_authenticated):
        return False
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    roles = getattr(view, "allowed_roles", None)
    return roles is None or current_user.role in roles


def context() -> dict:
    role = current_user.role if current_user and current_user.is_authenticated else None
    return {"nav_items": items_for(role), "may_open": may_open}
