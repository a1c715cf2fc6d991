"""A hotline on a fresh SQLite file, seeded like the console tests, and a SIP endpoint on a free
port of 127.0.0.1 whose clock stands at Monday 10:00 Moscow (agents on duty)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call.session import Hotline
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.drivers.sip import SipEndpoint
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture
def sip_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sip.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_SECRET", "sip-test-secret-0123456789abcdef")
    monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        people = registry.seed(db, 3, today=MONDAY_10.date())
        db.commit()
    engine.dispose()
    return url, people


def rows(url: str) -> list[Call]:
    engine = make_engine(url)
    with session_factory(engine)() as db:
        out = list(db.scalars(select(Call).order_by(Call.id)))
    engine.dispose()
    return out


def clock() -> datetime:
    return MONDAY_10


def run_with_endpoint(url: str, body: Callable[[SipEndpoint], Coroutine[Any, Any, Any]],
                      **kw: Any) -> Any:
    """Start an endpoint on a free port, run ``body(endpoint)``, stop it (drain 2 s)."""
    async def main() -> Any:
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        options = {"clock": clock, "timeout_scale": 0.25, "t1": 0.1} | kw
        endpoint = SipEndpoint(hotline, "127.0.0.1", 0, **options)
        await endpoint.start()
        try:
            return await body(endpoint)
        finally:
            await endpoint.stop(drain_timeout=2.0)
    return asyncio.run(main())
