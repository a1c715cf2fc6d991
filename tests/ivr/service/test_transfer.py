"""Escalation in embedded mode (ivr.service.transfer): a connected call transferred to the
senior group keeps one record, its first answer and its IVR history; the transfer row says who,
when, to which group and which senior answered (SPEC §4, issue 9)."""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import select

from ivr.call.protocol import Enqueue
from ivr.records.transfers import CallTransfer, apply_event
from ivr.service.acd import AcdService
from ivr.service.transfer import TransferError
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.models import Call
from queue_engine.acd import LiveAcd
from queue_engine.live import LiveCentre
from queue_engine.model import Model
from tests.ivr.service.callback_world import MONDAY_10, StepClock

UTC = dt.UTC


def senior_model(general: int = 1, senior: int = 1) -> Model:
    G, H = 2, 168
    return Model(
        skills=["general", "senior"], teams=["line", "senior"], lam=np.zeros((G, H)),
        staff=np.array([[general] * H, [senior] * H], dtype=np.int64),
        prof=np.array([[1.0, 0.0], [0.0, 1.0]]), priority=np.array([1, 5]),
        aht_mean=np.full(G, 300.0), aht_cv=np.full(G, 0.1), pat_mean=np.full(G, 1e6),
        pat_cv=np.full(G, 1.0), open_=np.ones((G, H), bool), overflow_to=np.array([-1, -1]),
        overflow_after=np.zeros(G), policy="longest_idle", policy_delay=60.0)


class Writes:
    """The record writer's order, synchronously: final outcomes and transfer events."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def final(self, call_id: str, **fields) -> None:
        from sqlalchemy import update

        with self.factory.begin() as db:
            db.execute(update(Call).where(Call.call_id == call_id).values(**fields))

    def transfer(self, event: dict) -> None:
        with self.factory.begin() as db:
            apply_event(db, event)


@pytest.fixture
def factory(db_url):
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def _service(factory, model: Model) -> tuple[StepClock, AcdService]:
    clock = StepClock(MONDAY_10)
    w = Writes(factory)
    svc = AcdService(LiveAcd(LiveCentre(model=model), seed=3, wrap_s=0.0), clock, write=w.final)
    svc.on_transfer = w.transfer
    svc.start()
    return clock, svc


def _queued(factory, svc: AcdService, call_id: str):
    """The IVR's row (queued, path, identification) and the caller handed to the ACD."""
    started = dt.datetime.fromtimestamp(svc.clock.ts(), UTC)
    path = ["MENU:1", "ID_NUMBER:ok", "MENU:0"]
    with factory.begin() as db:
        record_call(db, {"call_id": call_id, "line": "federal", "region": "all",
                         "menu_path": path, "identification": "ok", "skill": "general",
                         "outcome": "queued", "started_at": started})
    session = type("S", (), {"call_id": call_id})()
    return svc.enqueue(session, Enqueue("general", 1, {
        "line": "federal", "region": "all", "language": "ru", "skill": "general",
        "identified": True, "identification": "ok", "history": path}))


def _run(clock: StepClock, svc: AcdService, to: float) -> None:
    while svc.acd.next_due() <= to:
        clock.t = svc.acd.next_due()
        svc._apply(svc.acd.tick(clock.t))
    clock.t = to


def test_a_transferred_call_keeps_one_record_and_its_history(factory):
    async def go():
        clock, svc = _service(factory, senior_model())
        busy = svc.enqueue(type("S", (), {"call_id": "s0"})(), Enqueue("senior", 1, {}))
        assert busy.answered.done()  # the only senior is on another call
        t = _queued(factory, svc, "c1")
        first = t.answered.result()
        _run(clock, svc, MONDAY_10 + 40)
        svc.transfer("c1", "senior", by="web:boss")
        assert not t.released.done() and svc.acd.queued("c1")
        with pytest.raises(TransferError, match="not talking"):
            svc.transfer("c1", "senior", by="web:boss")
        _run(clock, svc, MONDAY_10 + 4 * 3600)
        assert t.released.done()
        return first

    first = asyncio.run(go())
    with factory() as db:
        row = db.scalar(select(Call).where(Call.call_id == "c1"))
        [tr] = db.scalars(select(CallTransfer)).all()
        assert db.scalar(select(Call).where(Call.call_id == "s0")) is None
    assert row.outcome == "answered" and row.agent_id == first
    assert row.answered_at == dt.datetime.fromtimestamp(MONDAY_10, UTC)  # the first answer
    assert "transferred to senior by web:boss, answered by " in row.detail
    assert tr.by == "web:boss" and tr.via == "web" and tr.from_agent == first
    assert tr.from_skill == "general" and tr.to_skill == "senior"
    assert tr.to_agent not in (None, first) and tr.answered_at > tr.at
    assert tr.at == dt.datetime.fromtimestamp(MONDAY_10 + 40, UTC)
    assert tr.history["menu_path"] == ["MENU:1", "ID_NUMBER:ok", "MENU:0"]
    assert tr.history["identification"] == "ok" and tr.history["first_agent"] == first


def test_unknown_group_and_idle_call_are_refused(factory):
    async def go():
        _, svc = _service(factory, senior_model(general=0))
        _queued(factory, svc, "c2")  # nobody answers general: waiting, not talking
        with pytest.raises(TransferError, match="unknown group"):
            svc.transfer("c2", "nowhere", by="x")
        with pytest.raises(TransferError, match="not talking"):
            svc.transfer("c2", "senior", by="x")

    asyncio.run(go())


def test_agents_escalate_the_scenario_share_and_seniors_answer(factory):
    async def go():
        m = replace(senior_model(general=4, senior=3),
                    meta={"escalation": {"share": 0.5, "to": "senior", "priority": 5}})
        clock, svc = _service(factory, m)
        tickets = []
        for i in range(30):
            _run(clock, svc, MONDAY_10 + 60.0 * i)
            tickets.append(_queued(factory, svc, f"c{i}"))
        _run(clock, svc, MONDAY_10 + 10 * 3600)
        assert all(t.released.done() for t in tickets)
        return sum(bool(t.transfers) for t in tickets)

    moved = asyncio.run(go())
    with factory() as db:
        rows = db.scalars(select(CallTransfer)).all()
        calls = db.scalars(select(Call)).all()
    assert len(rows) == moved and 0 < moved < 30
    assert all(r.via == "acd" and r.by == r.from_agent and r.to_agent for r in rows)
    assert {c.outcome for c in calls} == {"answered"} and len(calls) == 30


def test_stopping_while_waiting_for_the_senior_keeps_the_first_answer(factory):
    async def go():
        clock, svc = _service(factory, senior_model(senior=0))
        t = _queued(factory, svc, "c9")
        _run(clock, svc, MONDAY_10 + 30)
        svc.transfer("c9", "senior", by="agent-1", via="web")
        _run(clock, svc, MONDAY_10 + 90)
        assert svc.close("service stopped") == 1
        return t

    asyncio.run(go())
    with factory() as db:
        row = db.scalar(select(Call).where(Call.call_id == "c9"))
        [tr] = db.scalars(select(CallTransfer)).all()
    assert row.outcome == "answered" and row.agent_id == "agent-1"
    assert "transferred to senior by agent-1" in row.detail
    assert "service stopped after 60 s waiting" in row.detail and tr.to_agent is None


@pytest.mark.timeout(120)
def test_serve_with_escalation_writes_each_transfer_after_its_call(db_url):
    """``hotline demo --escalate``: the agents' transfers reach call_transfers through the
    record writer, each with the history of its call's row."""
    from zoneinfo import ZoneInfo

    from ivr.service.demo import generate, plan_calls
    from ivr.service.serve import Options, run

    monday_12 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))

    async def traffic(svc):
        from ivr.citizens.registry import seed
        from ivr.service.demo import DEMO_CITIZENS

        with svc.factory.begin() as db:
            seed(db, DEMO_CITIZENS, today=monday_12.date())
        callers = plan_calls(svc, svc.clock.ts(), 10 * 60.0, seed=7, scale=2.0)
        task = asyncio.create_task(generate(svc, callers, svc.stop_event))
        await asyncio.sleep(5.0)
        svc.stop_event.set()
        await asyncio.gather(task, return_exceptions=True)

    opts = Options(db_url=db_url, sip=False, web=False, speed=240.0, start=monday_12, seed=7,
                   forecast=False, escalate=0.3)
    asyncio.run(run(opts, extra_task=traffic))
    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        moves = db.scalars(select(CallTransfer)).all()
        calls = {c.call_id: c for c in db.scalars(select(Call))}
    engine.dispose()
    assert moves, "no agent escalated a call"
    for m in moves:
        row = calls[m.call_id]
        assert row.outcome == "answered" and m.from_agent == row.agent_id == m.by
        assert m.to_skill == "senior" and m.history["menu_path"] == row.menu_path
        assert m.history["identification"] == row.identification
