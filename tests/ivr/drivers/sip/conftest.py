"""A hotline on a fresh SQLite file, seeded like the console tests, and a SIP endpoint on a free
port of 127.0.0.1 whose clock stands at Monday 10:00 Moscow (agents on duty)."""
from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
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

ROOT = Path(__file__).resolve().parents[4]
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


@pytest.fixture(scope="session")
def short_prompts(tmp_path_factory) -> Path:
    """recordings/ with every prompt cut to 0.3 s: walks take seconds, not minutes."""
    out = tmp_path_factory.mktemp("recordings")
    for wav in (ROOT / "recordings").glob("*/*.wav"):
        (out / wav.parent.name).mkdir(exist_ok=True)
        with wave.open(str(wav)) as src, wave.open(str(out / wav.parent.name / wav.name),
                                                   "wb") as dst:
            dst.setparams(src.getparams())
            dst.writeframes(src.readframes(int(0.3 * src.getframerate())))
    return out
