"""A callback left before a restart is dialled by ``hotline serve`` through its SIP outbound route
(SIPp plays the citizen): the answered leg hears the greeting, queues at its place, an agent
answers, the call ends with our BYE; the request ends ``done`` and the leg has its record."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call.callbacks import Callback, request_callback
from ivr.service.serve import Options, Service
from ivr.store.base import make_engine, session_factory
from tests.ivr.drivers.sip.conftest import short_prompts  # noqa: F401 - fixture
from tests.ivr.drivers.sip.test_sip_originate_sipp import start_uas
from tests.ivr.service.conftest import call_rows
from tests.sipp.test_sipp import free_port

pytestmark = [pytest.mark.real("sipp"), pytest.mark.timeout(120)]
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def test_pending_callback_is_dialled_over_sip_and_its_leg_reaches_an_agent(db_url,
                                                                          short_prompts):  # noqa: F811
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with factory.begin() as db:  # left in an earlier run of the service
        request_callback(db, call_id="earlier-call", number="+79161234567", skill="general",
                         priority=0, now=MONDAY_10.astimezone(UTC),
                         arrival=MONDAY_10.astimezone(UTC) - timedelta(minutes=4))
    port = free_port()

    async def main():
        uas = await start_uas("uas_answer.xml", port, timeout=60)
        svc = Service(Options(sip_port=0, web=False, forecast=False, speed=20.0,
                              start=MONDAY_10, recordings=str(short_prompts), db_url=db_url,
                              sip_outbound=f"sip:127.0.0.1:{port}"))
        await svc.start()
        try:
            out, _ = await asyncio.wait_for(uas.communicate(), 80)  # ends with our BYE
        finally:
            await svc.stop(drain_timeout=1.0)
            if uas.returncode is None:
                uas.kill()
                await uas.wait()
        return uas.returncode, out.decode(errors="replace")[-2000:]

    code, out = asyncio.run(main())
    assert code == 0, out
    with factory() as db:
        cb = db.scalars(select(Callback)).one()
        assert (cb.status, cb.attempts) == ("done", 1)
    engine.dispose()
    [leg] = [r for r in call_rows(db_url) if r.menu_path == ["callback"]]
    assert leg.outcome == "answered" and leg.agent_id
