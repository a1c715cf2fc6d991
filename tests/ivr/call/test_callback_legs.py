"""No double dial: two embedded diallers (two servers, two event loops) share one database —
SQLite and a real PostgreSQL — and every callback is dialled exactly once."""
from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import select

from ivr.call.callbacks import Callback
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from tests.ivr.service.callback_world import MONDAY_10, request, settle_all, world

pytestmark = pytest.mark.timeout(120)


def test_two_embedded_diallers_on_one_database_never_dial_a_callback_twice(db_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "callback-legs-test-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    t = MONDAY_10
    rounds, per_round = 3, 8
    barrier = threading.Barrier(2)
    dialled: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def server(name: str) -> None:
        eng = make_engine(db_url)  # a server of its own: its own pool, loop, ACD and phones

        async def main() -> None:
            clock, _svc, dialler, phones = world(session_factory(eng), t, [50])
            for r in range(rounds):
                if name == "a":  # requests arrive (any server's IVR may have taken them)
                    for i in range(per_round):
                        request(factory, f"r{r}-{i}", number=f"+791612{r:02d}{i:03d}",
                                arrival=t + r * 60 + i, now=t + r * 60 + i)
                await asyncio.to_thread(barrier.wait)
                clock.t = t + r * 60 + 59
                await dialler.sync()  # both see the same due rows and race for them
                await settle_all(dialler)
                await asyncio.to_thread(barrier.wait)
            dialled[name] = [n for _, n in phones.dials]

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
            barrier.abort()
        finally:
            eng.dispose()

    threads = [threading.Thread(target=server, args=(n,)) for n in "ab"]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    assert not errors, errors
    every = dialled["a"] + dialled["b"]
    assert len(every) == len(set(every)) == rounds * per_round
    with factory() as db:
        states = {(c.status, c.attempts) for c in db.scalars(select(Callback))}
    engine.dispose()
    assert states == {("done", 1)}
