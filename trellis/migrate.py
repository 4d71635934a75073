"""Run Alembic migrations programmatically (used by ``trellis db`` and the tests).

Every area has its own branch of migrations off ``0001_foundation``; ``upgrade`` applies
all heads, ``downgrade`` to ``base`` removes every table.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, connection=None) -> Config:
    """An Alembic configuration for database *url* (and an open *connection* to use, if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "heads", connection=None) -> None:
    """Migrate the database at *url* up to *revision* (every branch head by default)."""
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(url: str, revision: str = "base", connection=None) -> None:
    """Migrate the database at *url* down to *revision* (an empty schema by default)."""
    command.downgrade(alembic_config(url, connection), revision)


def revision(url: str, message: str, rev_id: str, head: str = "0001_foundation@head",
             branch_label: str | None = None, autogenerate: bool = True) -> None:
    """Autogenerate a new migration (a developer tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate,
                     rev_id=rev_id, head=head,
                     branch_label=branch_label)
