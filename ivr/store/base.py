"""Engine and session factory shared by every driver and command."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

# Stable constraint names so migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def default_url() -> str:
    """``HOTLINE_DB_URL`` if set, else ``sqlite:///var/hotline.db`` relative to the cwd."""
    url = os.environ.get("HOTLINE_DB_URL")
    if url:
        return url
    Path("var").mkdir(mode=0o700, exist_ok=True)
    return "sqlite:///var/hotline.db"


def _private_sqlite_file(url: str) -> None:
    """The database holds personal data: its file (and WAL/SHM siblings) 0600, a directory we
    create 0700 — never the umask's 0644 that any local user can read (issue 13 item 13)."""
    from sqlalchemy.engine import make_url

    try:
        path = make_url(url).database
    except Exception:  # noqa: BLE001 - a malformed URL fails later, with its own message
        return
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    db = Path(path)
    if not db.parent.exists():
        db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = os.umask(0o077)
    try:
        if not db.exists():
            db.touch(mode=0o600)
    except OSError:
        return  # unwritable: sqlite reports it on connect
    finally:
        os.umask(old)
    for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        try:
            if f.exists() and f.stat().st_mode & 0o077:
                f.chmod(0o600)
        except OSError:
            pass


def make_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never block the IVR writer
            old_mask = os.umask(0o077)  # the -wal/-shm files sqlite creates now: 0600
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            os.umask(old_mask)

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine | None = None) -> sessionmaker:
    return sessionmaker(engine or make_engine(), expire_on_commit=False)
