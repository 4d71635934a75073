"""The anchor area's one blueprint. The area's page modules (``views``, ``payables``,
``insight``, ``voucher_views``) import ``bp`` from here and add their routes;
:mod:`trellis.platform.blueprints` imports them all, so none imports another."""

from __future__ import annotations

from flask import Blueprint

from trellis.platform.vendor_portal.common import install

bp = Blueprint("anchor", __name__, url_prefix="/anchor")
install(bp)
