"""A call's database requests run in the pool, not on the loop: one call stuck in the database
(identification blocked on an event) does not stop other calls' keys, outcomes or the loop's
ticks; a hang-up during that request is fed after it, and every call gets exactly one row."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ivr.call import requests as io
from ivr.call.session import Hotline
from ivr.call.waits import FixedWait
from ivr.drivers.sip.call import SipCall, settle_calls
from tests.ivr.drivers.sip.conftest import clock, rows

pytestmark = pytest.mark.timeout(60)


class FakeStream:
    """The RtpStream surface a SipCall uses; prompts 'play' at once."""

    codec = 0

    def __init__(self) -> None:
        self.on_digit: Any = None
        self.tap: Any = None
        self.closed = False

    async def play(self, payloads: Any) -> bool:
        await asyncio.sleep(0)
        return True

    def stop_playback(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class NoPrompts:
    def get(self, prompt: str, lang: str, codec: int) -> tuple[bytes, ...]:
        return (b"",)


class StuckIdentify:
    """Services whose identification for call ``stuck`` waits until ``release`` is set."""

    def __init__(self, inner: Any, stuck: str) -> None:
        self.inner, self.stuck = inner, stuck
        self.entered, self.release = threading.Event(), threading.Event()
        self.threads: set[str] = set()

    def execute(self, call: Any, request: Any, now: Any) -> Any:
        self.threads.add(threading.current_thread().name)
        if isinstance(request, io.Identify) and call.call_id == self.stuck:
            self.entered.set()
            self.release.wait(30)
        return self.inner.execute(call, request, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


def test_a_stuck_database_request_stalls_only_its_own_call(sip_db):
    url, people = sip_db
    others_ids = ["other-1", "other-2"]

    async def main() -> tuple[list[str], int, StuckIdentify]:
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        services = StuckIdentify(hotline.services, stuck="stuck")
        hotline.services = services
        hung: list[str] = []

        def make(call_id: str, k: int) -> SipCall:
            who = people[k]  # a person and a number of its own: no shared attempt budget
            call = SipCall(hotline.new_call(did="88005553535", caller=f"+7916123456{k}",
                                            call_id=call_id),
                           FakeStream(), prompts=NoPrompts(), clock=clock,
                           hangup=lambda c: hung.append(c.call_id), timeout_scale=0.02)
            for key in ["2", "1", *who.snils, "#", *who.birth_date.strftime("%d%m%Y"), "#"]:
                call.key(key)
            return call

        stuck = make("stuck", 0)
        stuck.start()
        await _until(services.entered.is_set)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        tick_task = asyncio.create_task(ticker())
        others = [make(call_id, k) for k, call_id in enumerate(others_ids, 1)]
        await asyncio.gather(*(call.start() for call in others))
        assert not stuck.session.done  # still inside its identification
        ticks_while_stuck = ticks
        stuck.caller_gone("normal")  # the caller hangs up during the request
        services.release.set()
        await _until(lambda: stuck.session.done)
        await settle_calls(10)
        tick_task.cancel()
        return hung, ticks_while_stuck, services

    hung, ticks, services = asyncio.run(main())
    assert ticks > 0  # the loop kept running while a request was stuck
    assert sorted(hung) == others_ids  # the IVR hung up on those
    assert all(name.startswith("hotline-ivr") for name in services.threads)
    by_call: dict[str, list[Any]] = {}
    for row in rows(url):
        by_call.setdefault(row.call_id, []).append(row)
    assert sorted(by_call) == [*others_ids, "stuck"]
    assert all(len(v) == 1 for v in by_call.values())  # exactly one outcome each
    stuck_row = by_call["stuck"][0]
    assert "otp:sent" in (stuck_row.menu_path or [])  # its request finished, then the hang-up
    assert stuck_row.outcome == "abandoned_ivr"
    for call_id in others_ids:  # full walk: every key arrived in order
        assert "otp:sent" in (by_call[call_id][0].menu_path or [])


def test_database_free_steps_learnt_for_the_loop_requests_stay_in_the_pool(sip_db, monkeypatch):
    """With services that count their requests (QueuedWrites), a state whose feeds never needed
    the database runs on the loop once learnt; identification and codes never leave the pool."""
    from ivr.call.writes import QueuedWrites
    from ivr.drivers.sip import call as sip_call
    from ivr.store.writer import RecordWriter

    url, people = sip_db
    monkeypatch.setattr(sip_call, "LEARN_FEEDS", 2)
    monkeypatch.setattr(sip_call, "_steps", {})

    async def main() -> tuple[StuckIdentify, list[tuple[str, str]], RecordWriter]:
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        writer = RecordWriter(hotline.services.factory)
        probe = StuckIdentify(hotline.services, stuck="")
        services = probe.threads_by_request = {}  # type: ignore[attr-defined]
        hotline.services = QueuedWrites(probe, writer)
        feeds: list[tuple[str, str]] = []

        def execute(call: Any, request: Any, now: Any) -> Any:
            services.setdefault(type(request).__name__, set()).add(
                threading.current_thread().name)
            return probe.inner.execute(call, request, now)

        probe.execute = execute  # type: ignore[method-assign]
        for wave in range(3):
            calls = []
            for k in range(3):
                session = hotline.new_call(did="88005553535", caller=f"+791612345{wave}{k}",
                                           call_id=f"w{wave}-{k}")
                feed = session.feed

                def watched(event: Any, now: Any, feed: Any = feed, s: Any = session) -> Any:
                    state = s.machine.state.name if s.machine else ""
                    feeds.append((state, threading.current_thread().name))
                    return feed(event, now)

                session.feed = watched  # type: ignore[method-assign]
                call = SipCall(session, FakeStream(), prompts=NoPrompts(), clock=clock,
                               hangup=lambda c: None, timeout_scale=0.02)
                who = people[k]
                for key in ["2", "1", *who.snils, "#", *who.birth_date.strftime("%d%m%Y"), "#"]:
                    call.key(key)
                calls.append(call)
            await asyncio.gather(*(c.start() for c in calls))
        await settle_calls(10)
        assert writer.close(10)
        return probe, feeds, writer

    probe, feeds, writer = asyncio.run(main())
    pool = {name for names in probe.threads_by_request.values() for name in names}  # type: ignore[attr-defined]
    assert pool and all(name.startswith("hotline-ivr") for name in pool)  # every request
    assert {"Identify", "SendCode"} <= set(probe.threads_by_request)  # type: ignore[attr-defined]
    on_loop = {state for state, thread in feeds if not thread.startswith("hotline-ivr")}
    assert "MENU" in on_loop  # learnt: the menu choice no longer hops to a thread
    assert "ID_BIRTH" not in on_loop  # the step that identifies always does
    assert writer.written == 9 and writer.lost == 0  # every call its one row
