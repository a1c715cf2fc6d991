"""Helpers for the AMI tests: a tiny IVR session honouring ivr.protocol, and a bridge harness."""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from ivr.ami.agimap import AgiConfig
from ivr.ami.bridge import Bridge, CallInfo, CallRecord
from ivr.ami.connection import AMIConnection
from ivr.ami.emulator import AMIEmulator
from ivr.protocol import (
    CallerHangup,
    Collect,
    Digits,
    DriverError,
    Enqueue,
    Hangup,
    NoInput,
    Play,
    SetVar,
)


@dataclass
class MenuSession:
    """greeting → menu (1 digit): 1 = status (4-digit number, then goodbye), 2 = queue "test",
    anything else / silence twice = goodbye. Records what it was fed."""

    info: CallInfo
    fed: list[Any] = field(default_factory=list)
    outcome: str | None = None
    misses: int = 0
    state: str = "menu"
    boom_on: str | None = None  # raise on this Digits value (isolation tests)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def start(self, now) -> list:
        return [SetVar("HOTLINE_CALL", self.info.call_id), Play(("greeting",), "ru"),
                Collect(("menu",), "ru", 1, 5.0)]

    def fail(self, now, detail: str) -> list:
        if self.outcome is None:
            self.outcome = "error"
        return []

    def feed(self, ev, now) -> list:
        self.fed.append(ev)
        if self.outcome is not None:
            return []
        if isinstance(ev, CallerHangup):
            self.outcome = "abandoned_ivr"
            return []
        if isinstance(ev, DriverError):
            self.outcome = "error"
            return [Hangup("error")]
        if isinstance(ev, Digits) and self.boom_on is not None and ev.digits == self.boom_on:
            raise RuntimeError("machine bug")
        if isinstance(ev, NoInput):
            self.misses += 1
            if self.misses >= 2:
                self.outcome = "no_input"
                return [Play(("goodbye",), "ru", False), Hangup("no_input")]
            return [Collect(("repeat",), "ru", 1 if self.state == "menu" else 4, 5.0)]
        if self.state == "menu":
            if ev.digits == "1":
                self.state = "number"
                return [Collect(("enter_number",), "ru", 4, 5.0)]
            if ev.digits == "2":
                self.outcome = "queued"
                return [Play(("connecting",), "ru"), Enqueue("test", 1)]
            self.outcome = "other"
            return [Play(("goodbye",), "ru"), Hangup("normal")]
        self.outcome = f"status:{ev.digits}"
        return [Play(("status_ok", "goodbye"), "ru", False), Hangup("normal")]


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
