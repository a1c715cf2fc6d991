"""A fresh migrated SQLite database per test, and helpers to read its call records."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_SECRET", "serve-test-secret-0123456789abcdef")
    monkeypatch.setenv("HOTLINE_LIVE_FILE", str(tmp_path / "live.json"))
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def call_rows(url: str) -> list[Call]:
    engine = make_engine(url)
    with session_factory(engine)() as db:
        out = list(db.scalars(select(Call).order_by(Call.id)))
    engine.dispose()
    return out
