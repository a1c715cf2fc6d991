"""Escalation to a senior group (queue_engine.escalation + LiveAcd.transfer): the scenario's
optional section, off by default; on, the live ACD's agents transfer a share of their calls
and a senior agent answers them (SPEC §4)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np

from queue_engine.acd import Connect, LiveAcd, Release, Transfer
from queue_engine.live import MSK, LiveCentre
from queue_engine.model import Model
from queue_engine.records import QueueCall
from queue_engine.scenario import Escalation, load_scenario
from tests.queue_engine.test_live_acd import model, run_until

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK).timestamp()


def _escalating(share: float, agents: int = 3):
    sc = load_scenario()
    return sc.model_copy(update={"escalation": Escalation(share=share, agents=agents)})


def test_default_scenario_has_no_senior_group():
    sc = load_scenario()
    m = Model.from_scenario(sc)
    assert "senior" not in m.skills and "escalation" not in m.meta
    assert m.skills == sc.skill_ids


def test_senior_group_in_the_model_and_its_simulated_arrivals():
    sc = _escalating(0.05)
    sim = Model.from_scenario(sc)
    live = Model.from_scenario(sc, transfers_as_arrivals=False)
    g = sim.skills.index("senior")
    assert sim.skills[:-1] == sc.skill_ids and sim.teams[-1] == "senior"
    assert live.lam[g].sum() == 0  # live: only real transfers reach the senior group
    others = np.delete(sim.lam, g, axis=0).sum(axis=0)
    np.testing.assert_allclose(sim.lam[g], 0.05 * others * sim.open_[g])
    assert sim.staff[-1].max() == 3 and sim.staff[-1][sim.open_[g]].min() == 3
    assert sim.priority[g] == sc.escalation.priority


def test_share_without_a_senior_agent_is_refused(tmp_path):
    import pytest
    import yaml

    from queue_engine.scenario import DIALPLANS, ScenarioError

    raw = yaml.safe_load((DIALPLANS / "scenarios" / "gosuslugi.yaml").read_text())
    raw["centre"] = str(DIALPLANS / "centre.yaml")
    raw["escalation"] = {"share": 0.1}
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ScenarioError, match="escalation.agents"):
        load_scenario(f)


def test_transfer_frees_the_agent_and_a_senior_answers_with_priority():
    m = model([1, 1], [[1, 0], [0, 1]], skills=("a", "senior"))
    acd = LiveAcd(LiveCentre(model=m), seed=1, wrap_s=5.0)
    t = MONDAY_10
    acd.start(t)
    [c1] = acd.offer(QueueCall("c1", "federal", "all", "ru", "a", 1, True, t), t)
    [busy] = acd.offer(QueueCall("s0", "federal", "all", "ru", "senior", 1, False, t), t)
    assert busy.skill == "senior"
    assert acd.offer(QueueCall("s1", "federal", "all", "ru", "senior", 1, False, t), t) == []
    hand = QueueCall("c1", "", "", "", "senior", 5, True, t + 30)
    assert acd.transfer(hand, t + 30) == []  # the senior is busy: it queues, ahead of s1
    assert acd.transfer(hand, t + 31) is None  # no longer talking to the first agent
    assert acd.queued("c1")
    acts = run_until(acd, t + 8 * 3600)
    senior = [a.call_id for a in acts if isinstance(a, Connect) and a.skill == "senior"]
    assert senior == ["c1", "s1"]
    # the first agent's drawn talk end no longer releases c1: only the senior does
    assert [a.agent for a in acts if isinstance(a, Release) and a.call_id == "c1"] == [
        busy.agent]
    assert c1.agent != busy.agent and acd.transferred == 1


def test_agents_escalate_the_scenario_share_of_their_calls():
    m = model([3, 3], [[1, 0], [0, 1]], skills=("a", "senior"), aht=60.0)
    m = replace(m, meta={"escalation": {"share": 0.3, "to": "senior", "priority": 5}})
    acd = LiveAcd(LiveCentre(model=m), seed=2, wrap_s=1.0)
    t = MONDAY_10
    acd.start(t)
    acts = []
    n = 400
    for i in range(n):
        now = t + 20.0 * i
        acts += run_until(acd, now)
        acts += acd.offer(QueueCall(f"c{i}", "federal", "all", "ru", "a", 1, False, now), now)
    acts += run_until(acd, t + 20.0 * n + 3600)
    moved = [a for a in acts if isinstance(a, Transfer)]
    assert all(a.from_skill == "a" and a.to_skill == "senior" for a in moved)
    share = len(moved) / n
    se = (0.3 * 0.7 / n) ** 0.5
    assert abs(share - 0.3) < 4 * se, share
    seniors = {a.call_id for a in acts if isinstance(a, Connect) and a.skill == "senior"}
    assert seniors == {a.call_id for a in moved}
    releases = [a.call_id for a in acts if isinstance(a, Release)]
    assert sorted(releases) == sorted(f"c{i}" for i in range(n))  # one end per call


def test_with_escalation_sizes_the_senior_team_and_the_live_centre_names_it():
    from queue_engine.escalation import with_escalation

    sc = with_escalation(load_scenario(), 0.03)
    m = Model.from_scenario(sc)
    g = m.skills.index("senior")
    peak_load = float(m.lam[g].max()) * sc.escalation.aht.mean
    assert peak_load / sc.escalation.agents <= 0.8 < peak_load / (sc.escalation.agents - 1)
    live = LiveCentre(sc)
    assert "senior" in live.scenario.centre.skills and live.model.lam[g].sum() == 0
    assert with_escalation(load_scenario(), 0.03, agents=2).escalation.agents == 2
