"""Helpers for the AMI tests: a tiny IVR session honouring ivr.call.protocol, and a bridge harness."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from ivr.drivers.ami.agimap import AgiConfig
from ivr.drivers.ami.bridge import Bridge, CallInfo, CallRecord
from ivr.drivers.ami.connection import AMIConnection
from ivr.drivers.ami.emulator import AMIEmulator
from ivr.drivers.ami.loadgen import MenuSession

_REC = Path("/opt/hotline/recordings")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))  # lines open


class Harness:
    """Emulator + connection + bridge with a record sink that counts duplicates."""

    def __init__(self, **emu_kw: Any) -> None:
        self.emu = AMIEmulator(**emu_kw)
        self.records: list[CallRecord] = []
        self.sessions: dict[str, MenuSession] = {}
        self.session_kw: dict[str, Any] = {}

    def factory(self, info: CallInfo) -> MenuSession:
        s = MenuSession(info, **self.session_kw.get(info.callerid or "", {}))
        self.sessions[info.call_id] = s
        return s

    async def __aenter__(self) -> Self:
        await self.emu.start()
        self.conn = AMIConnection("127.0.0.1", self.emu.port, "ivr", "ivrsecret",
                                  events="system,call,agi,dtmf,agent", ping_interval=5,
                                  backoff_initial=0.05, backoff_max=0.4)
        self.bridge = Bridge(self.conn, self.factory, on_call_end=self.records.append,
                             server_id="test", agi=AgiConfig(recordings=_REC))
        await self.conn.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bridge.close()
        await self.conn.close()
        await self.emu.stop()

    def duplicates(self) -> list[str]:
        return [k for k, n in Counter(r.call_id for r in self.records).items() if n > 1]

    async def wait_records(self, n: int, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len(self.records) < n:
            if loop.time() > end:
                raise AssertionError(f"{len(self.records)} records after {timeout}s, want {n}")
            await asyncio.sleep(0.01)


from pathlib import Path

_REC = Path("/opt/hotline/recordings")


def db_hotline(factory: Any) -> Any:
    """The real IVR over ``factory``'s database, waits fixed at 60 s (no queue engine needed)."""
    from ivr.call.services import DbServices
    from ivr.call.session import Hotline, SpeechSpeaker
    from ivr.call.waits import FixedWait
    from ivr.dialplan.menus import load_menus
    from ivr.dialplan.model import load_dialplan

    dp = load_dialplan("dialplans")
    return Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(60)),
                   SpeechSpeaker(dp.tz))


def run_bridge_calls(hotline: Any, place: Any, n: int, **build_kw: Any) -> list[CallRecord]:
    """Place calls on the emulator (``place(emu)``) through the real bridge of ``hotline serve
    --asterisk`` until ``n`` calls have ended; their records, as the bridge wrote them."""
    from ivr.drivers.ami.serve import build

    async def main() -> list[CallRecord]:
        records: list[CallRecord] = []
        async with AMIEmulator(time_scale=0.002) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                                 server_id="ast1", clock=lambda: MONDAY_10, **build_kw)
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            place(emu)
            for _ in range(2000):
                if len(records) >= n:
                    break
                await asyncio.sleep(0.01)
            await bridge.close()
            await conn.close()
        return records

    return asyncio.run(main())
