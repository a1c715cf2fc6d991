"""Escalation to a senior group (SPEC §4): the scenario's optional ``escalation`` section.

Agents transfer ``share`` of the calls they answer to the group ``to``. If ``to`` is a skill
of the centre (a specialised group) the transfers queue there; otherwise :func:`with_senior`
adds a senior skill (``priority``, ``aht``, ``patience``) and a team of ``agents`` on duty in
the centre's working hours, so :class:`~queue_engine.model.Model` has one more column.

The live ACD (:mod:`queue_engine.acd`) transfers real calls: at the end of the first agent's
talk a share of them re-queue at the senior group. The simulator's engines know no
transfers; :func:`transfer_arrivals` approximates them as a Poisson stream of ``share`` of the
other groups' arrivals hour by hour while the senior group works (transferred calls come one
handle time later and only from answered calls, which the approximation ignores). With
``share: 0`` (the default) nothing changes — the default scenario's calibration included.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from queue_engine.scenario import DAYS, Scenario, Skill, Team

__all__ = ["escalation_meta", "transfer_arrivals", "with_escalation", "with_senior"]


def with_senior(sc: Scenario) -> Scenario:
    """``sc`` with the senior skill and team added when ``escalation.to`` is a new group."""
    esc = sc.escalation
    if esc.to in sc.centre.skills or (esc.share <= 0 and esc.agents == 0):
        return sc
    skill = Skill(name=esc.name, priority=esc.priority, aht=esc.aht, patience=esc.patience)
    centre = sc.centre.model_copy(update={"skills": {**sc.centre.skills, esc.to: skill}})
    roster = {}
    for day in DAYS:
        hours = centre.hours[day]
        roster[day] = [esc.agents if hours and hours[0] <= h < hours[1] else 0
                       for h in range(24)]
    team = Team(skills={esc.to: 1.0}, roster=roster)
    return sc.model_copy(update={"centre": centre, "teams": {**sc.teams, esc.to: team}})


def escalation_meta(sc: Scenario) -> dict[str, Any]:
    """What the live ACD reads from ``Model.meta`` (empty when nothing is escalated)."""
    esc = sc.escalation
    if esc.share <= 0:
        return {}
    return {"escalation": {"share": esc.share, "to": esc.to, "priority": esc.priority}}


def transfer_arrivals(lam: np.ndarray, skills: list[str], open_: np.ndarray,
                      meta: dict[str, Any]) -> np.ndarray:
    """``lam`` [G, H] with the escalated share of the other groups' arrivals added to the
    target group while it is open (the simulator's approximation of transfers)."""
    esc = meta.get("escalation")
    if not esc:
        return lam
    g = skills.index(esc["to"])
    others = np.delete(lam, g, axis=0).sum(axis=0)
    out = lam.copy()
    out[g] = out[g] + esc["share"] * others * open_[g]
    return out


def with_escalation(sc: Scenario, share: float, agents: int | None = None) -> Scenario:
    """``sc`` escalating ``share`` of answered calls to its ``escalation.to`` group (e.g.
    ``hotline demo --escalate 0.03``). ``agents`` None: enough seniors for the busiest open
    hour's offered load at 80 % occupancy (``share`` × other groups' peak arrivals × senior
    handle time)."""
    if not 0 <= share <= 1 or (agents is not None and agents < 0):
        raise ValueError(f"escalation share {share} must be in [0, 1], agents >= 0")
    esc = sc.escalation
    if agents is None and esc.to not in sc.centre.skills:
        peak = 0.0  # the busiest open hour's calls per second (what transfer_arrivals adds)
        total = sum(sc.arrivals.daily_calls.values())
        for day in DAYS:
            hours, f = sc.centre.hours[day], sc.arrivals.days[day]
            if hours is None or f == 0:
                continue
            shape = sc.arrivals.shape(day)
            peak = max(peak, max(total * f * shape[h] / 3600.0 for h in range(*hours)))
        load = share * peak * esc.aht.mean
        agents = max(esc.agents, 1, int(np.ceil(load / 0.8)))
    upd: dict[str, Any] = {"share": share}
    if agents is not None:
        upd["agents"] = agents
    return sc.model_copy(update={"escalation": esc.model_copy(update=upd)})
