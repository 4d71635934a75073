"""A PostgreSQL schema of its own for tests that commit for real (races between threads).

The journal's rows cannot be deleted and other tests must not see these commits, so such a
test migrates a fresh schema, works there with real transactions and drops it afterwards.
Use the ``pg_factory`` fixture (re-exported by the conftests that need it).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from trellis import db, migrate


@pytest.fixture
def pg_factory(engine):
    """A session factory on a migrated schema of its own (PostgreSQL only)."""
    assert engine.dialect.name == "postgresql"  # postgres_only: real row locks and commits
    schema = f"conc_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    base = engine.url.render_as_string(hide_password=False).split("?")[0]
    url = f"{base}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    own = db.make_engine(url, pool_size=20, max_overflow=8)
    yield db.make_sessionmaker(own)
    own.dispose()
    with engine.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
