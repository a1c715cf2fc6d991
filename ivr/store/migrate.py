"""``hotline db upgrade``: create or migrate the schema with Alembic, on any URL."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ivr.store.base import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine | None = None, revision: str = "head") -> str:
    """Bring the database to ``revision``; returns the revision it is at afterwards."""
    engine = engine or make_engine()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current(engine)


def current(engine: Engine) -> str:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or "(empty)"


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or "(none)"


def upgrade_needed(engine: Engine) -> str | None:
    """A sentence telling the operator to run ``hotline db upgrade``, or None when current."""
    at, newest = current(engine), head()
    if at == newest:
        return None
    return (f"the database {engine.url.render_as_string()} is at schema revision {at}, "
            f"this hotline needs {newest}: run `hotline db upgrade`")
