"""Consent through the Asterisk driver: a caller who presses the refuse key at the first menu
prompt, over AMI/AsyncAGI (the emulator speaking Asterisk's wire format), is recorded as having
refused — the bridge's calls carry the same consent as the embedded ones."""
from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.serve import build
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.timeout(60)
def test_refusal_over_ami_is_recorded(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    engine = make_engine(f"sqlite:///{tmp_path / 'ami.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    dp = load_dialplan("dialplans")
    hotline = Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(60)),
                      SpeechSpeaker(dp.tz))

    async def run() -> list:
        records: list = []
        async with AMIEmulator(time_scale=0.002) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                                 server_id="ast1", recordings="/srv/recordings",
                                 clock=lambda: MONDAY_10)
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            emu.place_call(callerid="79161234560", script=CallerScript(presses=["*", "4"]))
            emu.place_call(callerid="79161234561", script=CallerScript(presses=["4"]))
            for _ in range(2000):
                if len(records) >= 2:
                    break
                await asyncio.sleep(0.01)
            await bridge.close()
            await conn.close()
        return records

    records = asyncio.run(run())
    with factory() as db:
        rows = {c.caller_number: c for c in db.scalars(select(Call))}
    assert len(records) == 2
    assert rows["79161234560"].consent == "refused"
    assert rows["79161234560"].menu_path[0] == "consent:refused"
    assert rows["79161234561"].consent == "given"
    engine.dispose()
