"""Every blueprint of the web platform, imported by name: the page blueprints (one per
area, plus registration and the health check) and the JSON API's (mounted under
``/api/v1``). :func:`trellis.platform.create_app` registers them in this order.

The ``vendor`` and ``anchor`` pages span several modules: each imports its area's ``bp``
from ``blueprint.py`` and adds routes. They are all imported here, so none imports another
to get its routes registered.
"""

from __future__ import annotations

from flask import Blueprint

import trellis.platform.admin.money

# Imported for their routes (each adds them to its area's bp):
import trellis.platform.anchor.insight
import trellis.platform.anchor.payables
import trellis.platform.anchor.views
import trellis.platform.anchor.voucher_views
import trellis.platform.vendor_portal.finance
import trellis.platform.vendor_portal.payout_views
import trellis.platform.vendor_portal.profile_views
import trellis.platform.vendor_portal.trade_views
import trellis.platform.vendor_portal.views
import trellis.platform.vendor_portal.voucher_views
import trellis.platform.vendor_portal.warnings_admin  # noqa: F401
from trellis.platform import health
from trellis.platform.admin.views import bp as admin
from trellis.platform.anchor.api import bp as anchor_api
from trellis.platform.anchor.blueprint import bp as anchor
from trellis.platform.api.views import bp as api
from trellis.platform.assistant.api import bp as assistant_api
from trellis.platform.assistant.views import bp as assistant
from trellis.platform.auth.views import bp as auth
from trellis.platform.chain.api import bp as chain_api
from trellis.platform.chain.views import bp as chain
from trellis.platform.home.views import bp as home
from trellis.platform.ledger.api import bp as ledger_api
from trellis.platform.ledger.views import bp as ledger
from trellis.platform.network.api import bp as network_api
from trellis.platform.network.views import bp as network
from trellis.platform.scoring.api import bp as scoring_api
from trellis.platform.scoring.views import bp as scoring
from trellis.platform.vendor_portal.api import bp as vendor_api
from trellis.platform.vendor_portal.blueprint import bp as vendor
from trellis.platform.vendor_portal.payout_api import bp as payout_api
from trellis.platform.vendor_portal.register import bp as register  # open to anonymous visitors

PAGES: tuple[Blueprint, ...] = (auth, home, admin, network, chain, scoring, ledger, vendor,
                                anchor, assistant, register, health.bp)
APIS: tuple[Blueprint, ...] = (api, network_api, chain_api, scoring_api, ledger_api,
                               vendor_api, payout_api, anchor_api, assistant_api)
