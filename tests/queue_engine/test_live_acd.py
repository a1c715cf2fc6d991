"""The live ACD (queue_engine.acd): the simulator's routing rules, applied call by call."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from queue_engine.acd import Connect, LiveAcd, Release, routing_delays
from queue_engine.live import MSK, LiveCentre
from queue_engine.live_figures import FigureRules, LiveFigures
from queue_engine.model import Model
from queue_engine.records import QueueCall

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK).timestamp()


def model(staff: list[int], prof: list[list[float]], *, skills=("a", "b"), prio=(1, 1),
          overflow_to=(-1, -1), overflow_after=(0.0, 0.0), policy="longest_idle",
          aht=300.0) -> Model:
    G, T, H = len(skills), len(staff), 168
    return Model(
        skills=list(skills), teams=[f"t{t}" for t in range(T)], lam=np.zeros((G, H)),
        staff=np.array([[n] * H for n in staff], dtype=np.int64), prof=np.array(prof, float),
        priority=np.array(prio), aht_mean=np.full(G, aht), aht_cv=np.full(G, 1.0),
        pat_mean=np.full(G, 600.0), pat_cv=np.full(G, 1.0), open_=np.ones((G, H), bool),
        overflow_to=np.array(overflow_to), overflow_after=np.array(overflow_after),
        policy=policy, policy_delay=60.0)


def call(cid: str, skill: str, at: float, prio: int = 1) -> QueueCall:
    return QueueCall(cid, "federal", "all", "ru", skill, prio, False, at)


def acd_of(m: Model, **kw) -> LiveAcd:
    return LiveAcd(LiveCentre(model=m), seed=1, wrap_s=5.0, **kw)


def run_until(acd: LiveAcd, until: float) -> list:
    out = []
    while acd.next_due() <= until:
        out += acd.tick(acd.next_due())
    return out


def test_priority_first_then_fcfs_across_skills():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    assert acd.start(t) == []
    [first] = acd.offer(call("busy", "a", t), t)  # the only agent is now busy
    assert acd.offer(call("early", "a", t + 1), t + 1) == []
    assert acd.offer(call("vip", "b", t + 2, prio=9), t + 2) == []
    assert acd.offer(call("late", "b", t + 3), t + 3) == []
    order = [a.call_id for a in run_until(acd, t + 10 * 3600) if isinstance(a, Connect)]
    assert order == ["vip", "early", "late"]
    assert first.agent == "agent-1" and first.wait == 0.0


def test_longest_idle_agent_takes_the_call():
    acd = acd_of(model([2], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    [c1] = acd.offer(call("x", "a", t), t)
    acts = run_until(acd, t + 3600)  # agent-1 talks, wraps up, becomes idle after agent-2
    assert any(isinstance(a, Release) for a in acts)
    [c2] = acd.offer(call("y", "a", t + 3600), t + 3600)
    assert c1.agent == "agent-1" and c2.agent == "agent-2"  # idle since t: longest idle


def test_overflow_offers_waiting_callers_to_the_other_group_after_its_delay():
    m = model([1, 1], [[1, 0], [0, 1]], overflow_to=(1, -1), overflow_after=(480.0, 0.0),
              aht=1e7)  # the own agent stays busy for the whole test
    assert routing_delays(m) == [[0.0, None], [480.0, 0.0]]
    acd = acd_of(m)
    t = MONDAY_10
    acd.start(t)
    [own] = acd.offer(call("first", "a", t), t)
    assert own.agent == "agent-1"
    assert acd.offer(call("second", "a", t + 1), t + 1) == []
    assert acd.tick(t + 400) == []  # group b's agent is idle, but the wait is not long enough
    [took] = acd.tick(t + 481 + 1)
    assert (took.call_id, took.agent, took.skill) == ("second", "agent-2", "a")
    assert took.wait == pytest.approx(480.0)


def test_overflow_policy_delays_the_less_proficient_team():
    m = model([1, 1], [[1, 0], [0.8, 1]], policy="overflow")
    assert routing_delays(m)[1][0] == 60.0
    acd = acd_of(m)
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)
    assert acd.offer(call("waits", "a", t + 1), t + 1) == []  # team 1 idle, but not yet
    acts = acd.tick(t + 61.5)
    assert [a.agent for a in acts if isinstance(a, Connect)] == ["agent-2"]


def test_abandonment_counts_short_ones_apart_and_agents_answer_the_rest():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)
    acd.offer(call("short", "a", t + 1), t + 1)
    acd.offer(call("long", "a", t + 2), t + 2)
    assert acd.abandon("short", t + 3) == pytest.approx(2.0)
    assert acd.abandon("long", t + 100) == pytest.approx(98.0)
    assert acd.abandon("long", t + 101) is None  # gone already
    calls, agents = acd.figures.totals(t + 120, t - 60)
    fig = acd.figures.group(calls[0], agents[0])
    assert (fig["answered"], fig["abandoned"], fig["short_abandoned"]) == (1, 2, 1)
    assert fig["abandon_rate"] == pytest.approx(0.5)  # 1 of (1 answered + 1 long abandon)
    assert acd.centre.queues["a"].abandoned == 2  # the EWT's state moved too


def test_roster_change_and_closing_drain():
    staff = [3] * 19 + [0] * 149  # Monday 00–19 three agents, then closed
    m = model([1], [[1, 1]])
    m = m.with_staff(np.array([staff]))
    acd = acd_of(m)
    t = dt.datetime(2026, 11, 23, 18, 59, tzinfo=MSK).timestamp()
    acd.start(t)
    assert len(acd.agents) == 3
    acts = []
    for i in range(6):
        acts += acd.offer(call(f"c{i}", "a", t + i), t + i)
    acts += run_until(acd, t + 12 * 3600)
    answered = {a.call_id for a in acts if isinstance(a, Connect)}
    assert answered == {f"c{i}" for i in range(6)}  # queued before closing: all answered
    assert len(acd.agents) == 0  # then everyone went home


def test_default_scenario_agents_answer_and_the_ewt_reads_the_same_state():
    acd = LiveAcd(LiveCentre(), seed=3)
    t = MONDAY_10
    acd.start(t)
    on_duty = len(acd.agents)
    assert on_duty > 50
    ewt0 = acd.centre.expected_wait_new("account", t, priority=0)
    acts = []
    for i in range(400):
        acts += acd.offer(call(f"c{i}", "account", t, prio=0), t)
    assert acd.centre.expected_wait_new("account", t, priority=0) > ewt0
    acts += run_until(acd, t + 4 * 3600)
    rel = [a for a in acts if isinstance(a, Release)]
    con = [a for a in acts if isinstance(a, Connect)]
    assert len(con) == 400 and len(rel) >= 390 and all(a.talk > 0 for a in con)


@pytest.mark.parametrize("formula, expected", [
    ("answered_of_offered", 2 / 3), ("asterisk_perf", 1.0), ("asterisk_sl2", 3 / 4)])
def test_service_level_formulas(formula, expected):
    m = model([1], [[1, 1]])
    fig = LiveFigures(m, FigureRules(threshold_s=20, formula=formula))
    t = MONDAY_10
    fig.answered(0, t, 5.0, 100.0)
    fig.answered(0, t, 10.0, 100.0)
    fig.abandoned(0, t, 2.0)  # short: not counted against the SL by the default formula
    fig.abandoned(0, t, 60.0)
    calls, agents = fig.totals(t + 1, t - 1)
    assert fig.group(calls[0], agents[0])["service_level"] == pytest.approx(expected, abs=1e-3)
    assert "20 s" in FigureRules(formula=formula).definition  # what the screen shows
    with pytest.raises(ValueError):
        FigureRules(formula="made_up")


def test_on_a_public_holiday_only_the_round_the_clock_team_works():
    acd = LiveAcd(LiveCentre(), seed=0)
    new_year = dt.datetime(2027, 1, 4, 11, 0, tzinfo=MSK).timestamp()  # a Monday, a holiday
    assert dt.date(2027, 1, 4) in acd.holidays
    acd.start(new_year)
    teams = {acd.model.teams[a.team] for a in acd.agents.values()}
    assert teams == {"security"}


def test_caller_ending_the_call_frees_the_agent_early():
    acd = acd_of(model([1], [[1, 1]], aht=1e6))
    t = MONDAY_10
    acd.start(t)
    [first] = acd.offer(call("talker", "a", t), t)
    assert first.agent == "agent-1"
    assert acd.offer(call("next", "a", t + 1), t + 1) == []
    [rel] = acd.hang_up("talker", t + 30)
    assert (rel.call_id, rel.at) == ("talker", t + 30)
    assert acd.hang_up("talker", t + 31) == []
    acts = acd.tick(t + 30 + 5.0)  # wrap-up over: the agent takes the next caller
    assert [a.call_id for a in acts if isinstance(a, Connect)] == ["next"]
    assert not any(isinstance(a, Release) and a.call_id == "talker" for a in run_until(
        acd, t + 2e6))  # the drawn talk end of the first call is void
