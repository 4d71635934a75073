"""The vendor area's one blueprint. The area's page modules (``views``, ``trade_views``,
``profile_views``, ``finance``, ``voucher_views``, ``warnings_admin``) import ``bp`` from
here and add their routes; :mod:`trellis.platform.blueprints` imports them all, so none
imports another."""

from __future__ import annotations

from flask import Blueprint

from trellis.platform.vendor_portal.common import install

bp = Blueprint("vendor", __name__, url_prefix="/vendor")
install(bp)
