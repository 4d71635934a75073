"""Migrations build exactly the tables the models declare, and undo cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from trellis import db, migrate, schema


def test_migrated_schema_matches_the_models(engine):
    schema.import_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                db.metadata)
    assert diff == [], diff


def test_downgrade_to_base_and_back(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/roundtrip.db"
        engine = db.make_engine(url)
        migrate.upgrade(url)
        assert "firms" in inspect(engine).get_table_names()
        migrate.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(url)
        assert "invoices" in inspect(engine).get_table_names()
        engine.dispose()
    else:
        from sqlalchemy import text

        admin = db.make_engine(database_url.split("?")[0])
        with admin.begin() as conn:
            conn.execute(text("drop schema if exists roundtrip cascade"))
            conn.execute(text("create schema roundtrip"))
        url = database_url.split("?")[0] + "?options=-csearch_path%3Droundtrip"
        engine = db.make_engine(url)
        try:
            migrate.upgrade(url)
            assert "firms" in inspect(engine).get_table_names()
            migrate.downgrade(url, "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            migrate.upgrade(url)
            assert "invoices" in inspect(engine).get_table_names()
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text("drop schema roundtrip cascade"))
            admin.dispose()


def test_constraint_names_follow_the_convention(engine):
    fks = inspect(engine).get_foreign_keys("invoices")
    assert all(fk["name"].startswith("fk_invoices_") for fk in fks)
