"""app_queue configuration: settings from ``dialplans/asterisk.yaml``, routing from the simulator.

Settings (strategy, ring timeout, retry, wrap-up…) are data in ``asterisk.yaml`` (defaults in
:class:`QueueOptions`, per-skill overrides under ``queues:``); the service level is
``centre.yaml``'s ``service_level_seconds`` and the weight ``skills.yaml``'s ``priority``.

**Routing as the simulator routes** (``queue_engine.acd.routing_delays``): team *t* may take a
caller of skill *g* once he has waited ``delay[t][g]`` s — 0 for the teams qualified for *g*;
a skill's ``overflow: {to, after}`` lets the ``to`` group's teams (the general operators and the
"universal" team) take him after ``after`` s; under the ``overflow`` policy a team that is not
the most proficient waits ``routing.overflow_after``.  Asterisk's mechanism for "more agents
after N seconds" is member penalties plus a penalty rule, so:

* every team qualified (at once or by overflow) for *g* is a member of ``hotline-<g>`` with
  penalty = the rank of its delay among that queue's distinct delays (0 = at once);
* the caller enters with ``QUEUE_MAX_PENALTY=0`` (``[hotline-ivr]`` sets it; so does the
  bridge's ``exec`` mode) — app_queue applies rules only to a caller that has it;
* the queue's ``defaultrule`` (``queuerules.conf``) raises it: ``penaltychange => 480,1``;
* ``penaltymemberslimit = 0``: penalties always count, however few members are logged in
  (app_queue.c ``calc_metric`` skips a member above the caller's max penalty;
  ``update_qe_rule`` applies a rule step only when ``QUEUE_MAX_PENALTY`` was set);
* agents join every queue of their team with those penalties by dialling ``login-<team>`` in
  ``[hotline-agents]`` (``AddQueueMember``), or are listed per team in ``asterisk.yaml``.

**Differences that remain** (Asterisk cannot express them; the forecast is slightly
optimistic about them):

1. Proficiency: the simulator gives a team a slower handle time on a secondary skill
   (universal: 0.85 on account); in Asterisk a member is a member.
2. Across queues the simulator serves the highest priority, then the longest-waiting caller of
   all skills an agent covers; app_queue picks by queue ``weight`` and, between equal weights,
   by whichever queue rings the member first — not one FCFS order across queues.
3. Once the delay has passed, app_queue still rings a lower-penalty member first when several
   are free; the simulator takes the longest-idle eligible agent of any team. (At the moment
   the delay ends no primary agent is free, else the caller would have been answered.)
4. The rule fires on app_queue's polling of the waiting caller (about every ``retry`` s), so
   overflow happens up to a few seconds after ``after``.
5. The roster: the simulator logs agents in and out by the hour; in Asterisk agents log in
   themselves (``login-<team>`` / ``logout-<team>``) — the roster is the planner's instruction.
6. Wrap-up: the simulator's drawn handle time includes after-call work; Asterisk's
   ``wrapuptime`` is a fixed pause on top (the live ACD's ``wrap_s`` mirrors it).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ivr.dialplan.yamlconf import ConfigError, Problem, YamlDoc, load_yaml, validate

FILE = "asterisk.yaml"
QUEUE_PREFIX = "hotline-"  # one source of truth for queue names (the bridge's agimap too)
STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered",
              "linear", "wrandom")
_IFACE = re.compile(r"^[A-Za-z0-9]+/[\w.@+${}()-]+$")


def queue_name(skill: str) -> str:
    return f"{QUEUE_PREFIX}{skill}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueOptions(_Strict):
    """One queue's app_queue options (queues.conf names with ``_`` for ``-``)."""

    strategy: Literal[STRATEGIES] = "leastrecent"  # type: ignore[valid-type]
    timeout: int = Field(default=15, ge=1, le=600)
    retry: int = Field(default=5, ge=0, le=600)
    wrapuptime: int = Field(default=10, ge=0, le=3600)
    ringinuse: bool = False
    joinempty: bool = True
    leavewhenempty: bool = False
    announce_holdtime: bool = False
    announce_position: bool = False
    reportholdtime: bool = False


class TeamMembers(_Strict):
    members: list[str] = []

    @field_validator("members")
    @classmethod
    def _ifaces(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if not _IFACE.match(m)]
        if bad:
            raise ValueError(f"not an interface like PJSIP/7001: {', '.join(bad)}")
        return v


class AsteriskFile(_Strict):
    scenario: str = "scenarios/gosuslugi.yaml"
    agent_interface: str = "PJSIP/${CALLERID(num)}"
    queue: QueueOptions = QueueOptions()
    queues: dict[str, QueueOptions] = {}
    teams: dict[str, TeamMembers] = {}


@dataclass(frozen=True)
class QueuePlan:
    """One skill's queue: options, members by team with penalties, the penalty steps."""

    skill: str
    options: QueueOptions
    members: tuple[tuple[str, int, float], ...]  # (team, penalty, delay s)
    steps: tuple[tuple[int, int], ...]  # (seconds waited, QUEUE_MAX_PENALTY from then on)

    @property
    def rule(self) -> str | None:
        return queue_name(self.skill) if self.steps else None


@dataclass(frozen=True)
class QueueConfig:
    file: AsteriskFile
    plans: dict[str, QueuePlan]
    service_level: float

    def team_queues(self) -> dict[str, list[tuple[str, int]]]:
        """team -> [(skill, penalty)]: the queues an agent of the team joins."""
        out: dict[str, list[tuple[str, int]]] = {}
        for skill, plan in sorted(self.plans.items()):
            for team, penalty, _ in plan.members:
                out.setdefault(team, []).append((skill, penalty))
        return out


def plan_queues(scenario: Any, options: dict[str, QueueOptions]) -> dict[str, QueuePlan]:
    """Members, penalties and rule steps per skill from the simulator's routing delays."""
    from queue_engine.acd import routing_delays
    from queue_engine.model import Model

    model = Model.from_scenario(scenario)
    delays = routing_delays(model)
    plans = {}
    for g, skill in enumerate(model.skills):
        if skill not in options:  # the escalation's senior group: ivr.dialplan.asterisk_senior
            continue
        took = [(model.teams[t], d[g]) for t, d in enumerate(delays) if d[g] is not None]
        levels = sorted({d for _, d in took})
        base = 0 if levels and levels[0] == 0 else 1  # nobody at once: even rank 0 waits
        rank = {d: i + base for i, d in enumerate(levels)}
        plans[skill] = QueuePlan(
            skill, options[skill],
            tuple((team, rank[d], d) for team, d in took),
            tuple((math.ceil(d), rank[d]) for d in levels if d > 0))
    return plans


def _read(directory: str | Path) -> tuple[YamlDoc, AsteriskFile]:
    path = Path(directory) / FILE
    doc = load_yaml(path) if path.exists() else YamlDoc(path, {})
    return doc, validate(doc, AsteriskFile)


def queue_defaults(directory: str | Path) -> QueueOptions:
    """The ``queue:`` options alone — e.g. ``wrapuptime`` for the embedded live ACD, which
    stands in for app_queue when no Asterisk runs."""
    return _read(directory)[1].queue


def load_queue_config(directory: str | Path, skills: dict[str, Any]) -> QueueConfig:
    """``asterisk.yaml`` (defaults if absent) checked against the skills and the scenario's
    teams; :class:`ConfigError` lists every problem as ``file:line: key: message``."""
    from queue_engine.scenario import load_scenario
    from queue_engine.yamlmarks import ScenarioError

    doc, f = _read(directory)
    problems = [doc.problem(("queues", s), f"unknown skill {s!r} (skills.yaml has "
                                           f"{', '.join(sorted(skills))})")
                for s in f.queues if s not in skills]
    try:
        sc = load_scenario(Path(directory) / f.scenario)
    except ScenarioError as exc:
        raise ConfigError([*problems, doc.problem(("scenario",), str(exc))]) from None
    problems += [doc.problem(("teams", t), f"no such team in {f.scenario} "
                                           f"({', '.join(sc.teams)})")
                 for t in f.teams if t not in sc.teams]
    if set(sc.centre.skills) != set(skills):
        problems.append(doc.problem(("scenario",), f"{f.scenario}: its skills differ from "
                                                   "skills.yaml"))
    if problems:
        raise ConfigError(problems)
    options = {}
    for s in skills:
        own = f.queues.get(s)
        options[s] = f.queue if own is None else f.queue.model_copy(
            update={k: getattr(own, k) for k in own.model_fields_set})
    return QueueConfig(f, plan_queues(sc, options), sc.centre.service_level_seconds)


def _yn(v: bool) -> str:
    return "yes" if v else "no"


def queue_section(skill: str, title: str, priority: int, cfg: QueueConfig) -> list[str]:
    """One ``[hotline-<skill>]`` section of queues.conf."""
    plan = cfg.plans[skill]
    o = plan.options
    out = [
        f"[{queue_name(skill)}]",
        f"; {title}",
        f"strategy = {o.strategy}",
        f"weight = {priority}                ; skills.yaml priority",
        f"servicelevel = {cfg.service_level:g}         ; centre.yaml service_level_seconds",
        f"timeout = {o.timeout}",
        f"retry = {o.retry}",
        f"wrapuptime = {o.wrapuptime}",
        f"ringinuse = {_yn(o.ringinuse)}",
        f"joinempty = {_yn(o.joinempty)}",
        f"leavewhenempty = {_yn(o.leavewhenempty)}",
        f"announce-holdtime = {_yn(o.announce_holdtime)}",
        f"announce-position = {_yn(o.announce_position)}",
        f"reportholdtime = {_yn(o.reportholdtime)}",
        "setinterfacevar = yes",
        "setqueueentryvar = yes",
        "penaltymemberslimit = 0       ; penalties always count: they carry the overflow",
    ]
    if plan.rule:
        out.append(f"defaultrule = {plan.rule}   ; queuerules.conf: overflow after a wait")
    out.append("; teams (penalty; the wait before they may answer): " + ", ".join(
        f"{team} {pen} ({delay:g} s)" for team, pen, delay in plan.members))
    for team, pen, _ in plan.members:
        for iface in cfg.file.teams.get(team, TeamMembers()).members:
            out.append(f"member => {iface},{pen}")
    return [*out, ""]


def queuerules_conf(cfg: QueueConfig) -> str:
    """One rule per queue with an overflow delay: QUEUE_MAX_PENALTY raised after N s."""
    out = ["; Generated by `hotline dialplan export asterisk`: the simulator's overflow delays",
           "; as penalty rules (callers enter with QUEUE_MAX_PENALTY=0).", "[general]", ""]
    for skill, plan in sorted(cfg.plans.items()):
        if not plan.rule:
            continue
        out.append(f"[{plan.rule}]")
        out += [f"penaltychange => {sec},{pen}" for sec, pen in plan.steps]
        out.append("")
    return "\n".join(out)


def agents_context(cfg: QueueConfig) -> list[str]:
    """``[hotline-agents]``: an agent's phone dials login-<team> / logout-<team>."""
    iface = cfg.file.agent_interface
    out = ["[hotline-agents]",
           "; agents join every queue of their team with the penalty its overflow delay implies",
           f"; (interface {iface}; change agent_interface in asterisk.yaml)"]
    for team, queues in sorted(cfg.team_queues().items()):
        out.append(f"exten => login-{team},1,Set(HOTLINE_AGENT={iface})")
        out += [f" same => n,AddQueueMember({queue_name(s)},${{HOTLINE_AGENT}},{p})"
                for s, p in queues]
        out += [" same => n,Playback(agent-loginok)", " same => n,Hangup()"]
        out.append(f"exten => logout-{team},1,Set(HOTLINE_AGENT={iface})")
        out += [f" same => n,RemoveQueueMember({queue_name(s)},${{HOTLINE_AGENT}})"
                for s, _ in queues]
        out += [" same => n,Playback(agent-loggedoff)", " same => n,Hangup()"]
    return [*out, ""]


def check_problems(directory: str | Path, skills: dict[str, Any]) -> list[Problem]:
    """For ``hotline dialplan check``: the problems of ``asterisk.yaml`` (none when valid)."""
    try:
        load_queue_config(directory, skills)
    except ConfigError as exc:
        return exc.problems
    return []
