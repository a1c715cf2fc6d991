"""Alembic environment: the engine comes from ``hotline db upgrade`` (or HOTLINE_DB_URL)."""
from __future__ import annotations

from alembic import context

from ivr.store.base import make_engine
from ivr.store.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as conn:
        _migrate(conn)
    engine.dispose()


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
