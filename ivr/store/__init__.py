"""The one database: SQLAlchemy 2.x models, engine and session factory.

Default is an SQLite file under ``var/``; any SQLAlchemy URL via ``HOTLINE_DB_URL``
(PostgreSQL through psycopg 3: ``postgresql+psycopg://user@host/db``).
Every model module declares its tables on :class:`Base` so one metadata holds them all.

``base`` (engine, session factory), ``models`` (calls, audit log), ``calls`` (a call's record,
written exactly once), ``timestamps`` (UTC in, UTC out), ``schema`` (every table in one metadata,
for migrations), ``migrate`` and ``migrations/`` (Alembic), ``cli`` (``hotline db …``),
``crypto`` (personal fields encrypted at rest, keyed-hash lookups, the keyring), ``audit`` (the
audit log's hash chain and its verification), ``writer`` (call records written by one thread,
batched, off the event loop), ``call_records`` (the calls read back as plain records for the
queue engine), ``planning_cli`` (``hotline fit`` and ``hotline report hourly`` over them).
"""
from ivr.store.base import Base, default_url, make_engine, session_factory

__all__ = ["Base", "default_url", "make_engine", "session_factory"]
