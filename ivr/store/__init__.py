"""The one database: SQLAlchemy 2.x models, engine and session factory.

Default is an SQLite file under ``var/``; any SQLAlchemy URL via ``HOTLINE_DB_URL``
(PostgreSQL through psycopg 3: ``postgresql+psycopg://user@host/db``).
Every model module declares its tables on :class:`Base` so one metadata holds them all.
"""
from ivr.store.base import Base, default_url, make_engine, session_factory

__all__ = ["Base", "default_url", "make_engine", "session_factory"]
