"""Alembic environment. The URL comes from the Alembic config (set by ``trellis db``)."""

from __future__ import annotations

from alembic import context

from trellis import db, schema

schema.import_models()
target_metadata = db.metadata
config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = db.make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # SQLite rebuilds a table to change a constraint (copy, drop, rename), which foreign
    # keys pointing at it would refuse; as SQLite's own procedure says, enforcement is off
    # during the migration (the pragma only works outside a transaction) and every key is
    # checked before it is switched on again.
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None and not connection.in_transaction():
        raw.execute("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=sqlite, compare_type=True)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys point "
                                       f"nowhere: {broken[:5]}")
    finally:
        if raw is not None and not connection.in_transaction():
            raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
