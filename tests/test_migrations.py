"""Migrations build exactly the tables the models declare, and undo cleanly."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import SAWarning

from trellis import db, migrate, schema

# SQLAlchemy cannot reflect an index on an expression from SQLite (it warns and skips it);
# Alembic then cannot compare it there. Such indexes are checked by name below.
EXPRESSION_INDEXES = {"invoices": {"ix_invoices_buyer_status_open_due"}}


def test_migrated_schema_matches_the_models(engine):
    schema.import_models()
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based",
                                SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression",
                                UserWarning)
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                db.metadata)
    assert diff == [], diff


def test_expression_indexes_exist_as_the_models_declare(engine):
    schema.import_models()
    with engine.connect() as conn:
        for table, names in EXPRESSION_INDEXES.items():
            if engine.dialect.name == "sqlite":
                found = {row[0]: row[1] for row in conn.execute(text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = :t"), {"t": table})}
            else:
                found = {row[0]: row[1] for row in conn.execute(text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                    {"t": table})}
            for name in names:
                declared = next(ix for ix in db.metadata.tables[table].indexes
                                if ix.name == name)
                assert name in found, (table, name)
                assert "amount_fen > paid_fen" in found[name]
                assert len(declared.expressions) == 6


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


def _scratch_url(database_url: str, tmp_path, schema: str):
    """A fresh database of *database_url*'s kind: a SQLite file, or a PostgreSQL schema
    (its admin engine, to drop it after, else None)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/{schema}.db", None
    admin = db.make_engine(database_url.split("?")[0])
    with admin.begin() as conn:
        conn.execute(text(f"drop schema if exists {schema} cascade"))
        conn.execute(text(f"create schema {schema}"))
    return database_url.split("?")[0] + f"?options=-csearch_path%3D{schema}", admin


def test_firm_industry_code_migration_keeps_the_firms(database_url, tmp_path):
    """0020c adds firms.industry_code (GB/T 4754, issue 14) to existing firms as NULL, and
    its downgrade drops the column and keeps the rows, on SQLite and PostgreSQL."""
    url, admin = _scratch_url(database_url, tmp_path, "industry_code_mig")
    engine = db.make_engine(url)
    firm = ("insert into firms (uscc, name, role, industry, region, created_at) values "
            "('91330110MA2H0A002J', '杭州小河五金加工厂', 'vendor', 'manufacturing', '', "
            "'2026-01-01')")
    try:
        migrate.upgrade(url, "0012b_firm_registration")
        assert "industry_code" not in {c["name"] for c in inspect(engine).get_columns("firms")}
        with engine.begin() as conn:
            conn.execute(text(firm))
        migrate.upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("select name, industry, industry_code from firms")
                                ).all() == [("杭州小河五金加工厂", "manufacturing", None)]
            conn.execute(text("update firms set industry_code = '36'"))
        migrate.downgrade(url, "0012b_firm_registration")
        assert "industry_code" not in {c["name"] for c in inspect(engine).get_columns("firms")}
        with engine.begin() as conn:
            assert conn.execute(text("select name from firms")).scalars().all() == [
                "杭州小河五金加工厂"]
        migrate.upgrade(url)
        assert "industry_code" in {c["name"] for c in inspect(engine).get_columns("firms")}
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text("drop schema industry_code_mig cascade"))
            admin.dispose()
