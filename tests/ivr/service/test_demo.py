"""``hotline demo`` at high speed: real IVR sessions, the live ACD, one true outcome per call."""
from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.service.demo import generate, plan_calls, skill_paths
from ivr.service.serve import Options, run
from tests.ivr.service.conftest import call_rows

pytestmark = pytest.mark.timeout(120)
MONDAY_12 = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def test_menu_walk_finds_every_skill_of_the_scenario():
    from ivr.dialplan.menus import load_menus

    paths = skill_paths(load_menus("dialplans"))
    assert paths["documents"] == ("3",) and paths["tax"] == ("8", "1")
    assert paths["security"] == ("9",) and paths["general"] == ("0",)
    assert "" in paths  # the self-service status check


def test_demo_minutes_give_answered_and_abandoned_calls_once_each(db_url, tmp_path):
    seen: dict = {}

    async def traffic(svc):
        from ivr.citizens.registry import seed
        from ivr.service.demo import DEMO_CITIZENS

        with svc.factory.begin() as db:
            seed(db, DEMO_CITIZENS, today=MONDAY_12.date())
        callers = plan_calls(svc, svc.clock.ts(), 12 * 60.0, seed=4, scale=4.0)
        seen["planned"] = len(callers)
        task = asyncio.create_task(generate(svc, callers, svc.stop_event))
        await asyncio.sleep(7.0)  # 14 simulated minutes: queues build, some give up
        seen["snapshot"] = svc.board.snapshot()
        seen["published"] = json.loads((tmp_path / "live.json").read_text(encoding="utf-8"))
        seen["stats"] = await task if task.done() else None
        svc.stop_event.set()

    opts = Options(db_url=db_url, sip=False, web=False, speed=120.0, start=MONDAY_12, seed=4,
                   forecast=False)
    summary = asyncio.run(run(opts, extra_task=traffic))
    rows = call_rows(db_url)
    ids = Counter(r.call_id for r in rows)
    assert len(ids) == len(rows) and max(ids.values()) == 1  # exactly one row per call
    outcomes = Counter(r.outcome for r in rows)
    assert "queued" not in outcomes  # every queued call ended with its true outcome
    assert outcomes["answered"] > 50 and outcomes["abandoned"] > 0
    # the demo's callers identify as seeded citizens; a tenth key a wrong SNILS on purpose
    why = Counter((r.detail or "")[:60] for r in rows if r.outcome == "id_failed")
    assert outcomes["id_failed"] < 0.25 * len(rows), why.most_common(5)
    assert summary["lost"] == 0 and summary["rows_written"] == len(rows)
    for r in rows:
        if r.outcome == "answered":
            assert r.agent_id and r.agent_id.startswith("agent-")
            assert re.match(r"answered by agent-\d+ after \d+ s", r.detail)  # reports read it
            assert r.started_at <= r.answered_at <= r.ended_at
        elif r.outcome == "abandoned":
            assert r.agent_id is None and "abandoned after" in r.detail
    snap = seen["snapshot"]
    assert sum(g["answered"] for g in snap["groups"]) > 0
    assert {g["skill"] for g in snap["groups"]} >= {"account", "security", "general"}
    assert any(line["line"] == "regional" for line in snap["lines"])
    assert seen["published"]["sl_definition"] == snap["sl_definition"]
