"""Every table of every area, for Alembic and the application: :func:`import_models`.

It sits above all packages (it imports each area's ``models``), so that ``trellis.db``,
which every area imports, imports none of them. A missing module is an error, not a
skipped area.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import trellis.accounts.models
import trellis.assistant.models
import trellis.chain.models
import trellis.jobs
import trellis.ledger.models
import trellis.notifications.models
import trellis.onboarding.models
import trellis.protection.models
import trellis.scoring.models
import trellis.tasks.models
import trellis.trade.models
import trellis.vouchers.models  # noqa: F401
from trellis import db


def import_models() -> MetaData:
    """Return the metadata holding every table (importing this module registered them)."""
    return db.metadata
