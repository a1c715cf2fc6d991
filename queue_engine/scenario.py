"""Scenario files: the centre (skills, hours) plus arrivals, rosters and caller behaviour.

Behaviour is data: a planner changes the hotline by editing ``dialplans/centre.yaml``
and ``dialplans/scenarios/*.yaml``.  Everything is validated on load; a refusal
names file, line and key (see :mod:`queue_engine.yamlmarks`).  Times are seconds,
hours are local time in the centre's ``timezone``, a week starts Monday 00:00.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from queue_engine.yamlmarks import ScenarioError, line_of, load_marked

__all__ = [
    "DAYS",
    "DIALPLANS",
    "Centre",
    "Dist",
    "Scenario",
    "ScenarioError",
    "Skill",
    "default_scenario_path",
    "load_centre",
    "load_scenario",
    "scenario_from_mapping",
    "with_skill_times",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIALPLANS = Path(__file__).resolve().parent.parent / "dialplans"


def default_scenario_path() -> Path:
    return DIALPLANS / "scenarios" / "gosuslugi.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dist(_Strict):
    """A positive duration: mean seconds and coefficient of variation.

    cv == 1 means exponential (what Erlang A assumes); otherwise lognormal, the usual
    shape of call handle times.
    """

    mean: float = Field(gt=0)
    cv: float = Field(default=1.0, gt=0)


class Overflow(_Strict):
    to: str
    after: float = Field(ge=0, description="seconds waited before the call is also offered there")


class Skill(_Strict):
    name: str
    name_en: str = ""
    priority: int = Field(default=1, ge=0, le=100, description="higher is answered first")
    aht: Dist
    patience: Dist
    always_open: bool = False
    overflow: Overflow | None = None


def _hours(v: Any) -> tuple[int, int] | None:
    if v in (None, "closed"):
        return None
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)):
        raise ValueError("expected [open_hour, close_hour] or 'closed'")
    lo, hi = v
    if not 0 <= lo < hi <= 24:
        raise ValueError(f"hours {lo}..{hi} must satisfy 0 <= open < close <= 24")
    return lo, hi


class WaitBand(_Strict):
    """A published wait: answered callers' mean wait in [minutes] during [hours) of [days]."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    hours: tuple[int, int]
    minutes: tuple[float, float]

    @model_validator(mode="after")
    def _order(self) -> WaitBand:
        if not 0 <= self.hours[0] < self.hours[1] <= 24:
            raise ValueError("hours must satisfy 0 <= from < to <= 24")
        if not 0 <= self.minutes[0] <= self.minutes[1]:
            raise ValueError("minutes must be [low, high] with 0 <= low <= high")
        return self


class Centre(_Strict):
    """What the IVR and the ACD share: skill groups, agent hours, holidays."""

    timezone: str = "Europe/Moscow"
    hours: dict[str, tuple[int, int] | None]
    holidays: list[dt.date] = []
    service_level_seconds: float = Field(default=20, gt=0)
    callback_offer_above: float = Field(default=600, gt=0, description="EWT (s) above which "
                                        "the caller is offered a callback (SPEC §3)")
    skills: dict[str, Skill]
    published_waits: list[WaitBand] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        """An IANA zone (zoneinfo): hours, rosters and bands are local time there."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name, e.g. Europe/Moscow)") \
                from None
        return v

    def bands(self) -> dict[int, tuple[float, float]]:
        """Week hour (Monday 00–01 = 0) -> published (low, high) mean wait in seconds."""
        out = {}
        for b in self.published_waits:
            for day in b.days:
                for h in range(*b.hours):
                    out[DAYS.index(day) * 24 + h] = (b.minutes[0] * 60, b.minutes[1] * 60)
        return out

    @field_validator("hours", mode="before")
    @classmethod
    def _check_hours(cls, v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise ValueError("expected a mapping day -> [open, close]")  # noqa: TRY004 - pydantic wants ValueError
        unknown = set(v) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown day(s) {sorted(unknown)}; use {', '.join(DAYS)}")
        return {d: _hours(v.get(d)) for d in DAYS}

    @model_validator(mode="after")
    def _check_overflow(self) -> Centre:
        for sid, s in self.skills.items():
            if s.overflow and s.overflow.to not in self.skills:
                raise ValueError(f"skills.{sid}.overflow.to: unknown skill {s.overflow.to!r}")
        return self

    def is_open(self, skill: str, when: dt.datetime) -> bool:
        """Agents answer ``skill`` at local time ``when`` (holidays closed, 24/7 skills open)."""
        if self.skills[skill].always_open:
            return True
        if when.date() in self.holidays:
            return False
        h = self.hours[DAYS[when.weekday()]]
        return h is not None and h[0] <= when.hour < h[1]

    def open_week(self, skill: str) -> list[bool]:
        """168 flags, Monday 00–01 first."""
        if self.skills[skill].always_open:
            return [True] * 168
        out = []
        for d in DAYS:
            h = self.hours[d]
            out.extend(h is not None and h[0] <= hr < h[1] for hr in range(24))
        return out


Hourly = list[float]


class Arrivals(_Strict):
    """Fresh calls: base weekday volume per skill × day factor × hourly shape."""

    daily_calls: dict[str, float]
    days: dict[str, float]
    profile: dict[str, Hourly]
    dispersion: dict[str, float] = Field(
        default={}, description="skill -> coefficient of variation of a day-level gamma "
        "factor on its volume (0 or absent: Poisson); what `hotline fit` estimates")

    @field_validator("dispersion")
    @classmethod
    def _disp(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= x <= 2 for x in v.values()):
            raise ValueError("dispersion (a coefficient of variation) must be in [0, 2]")
        return v

    @field_validator("daily_calls")
    @classmethod
    def _nonneg(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if x < 0}
        if bad:
            raise ValueError(f"negative call volume {bad}")
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(DAYS):
            raise ValueError(f"give a factor for every day {DAYS}")
        if any(x < 0 for x in v.values()):
            raise ValueError("day factors must be >= 0")
        return v

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: dict[str, Hourly]) -> dict[str, Hourly]:
        for k, row in v.items():
            if k not in (*DAYS, "weekday"):
                raise ValueError(f"unknown day type {k!r}")
            if len(row) != 24 or any(x < 0 for x in row) or sum(row) <= 0:
                raise ValueError(f"{k}: need 24 non-negative shares with a positive sum")
        return v

    def shape(self, day: str) -> list[float]:
        row = self.profile.get(day) or (self.profile.get("weekday") if day in DAYS[:5] else None)
        if row is None:
            raise ValueError(f"no arrival profile for {day}")
        total = sum(row)
        return [x / total for x in row]


class Team(_Strict):
    """Agents sharing skills (proficiency 1 = nominal handle time) and one roster."""

    skills: dict[str, float]
    roster: dict[str, list[int]]

    @field_validator("skills")
    @classmethod
    def _prof(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(p <= 0 or p > 3 for p in v.values()):
            raise ValueError("each proficiency must be in (0, 3]")
        return v

    @field_validator("roster")
    @classmethod
    def _roster(cls, v: dict[str, list[int]]) -> dict[str, list[int]]:
        for k, row in v.items():
            if k not in (*DAYS, "weekday"):
                raise ValueError(f"unknown day type {k!r}")
            if len(row) != 24 or any(x < 0 for x in row):
                raise ValueError(f"{k}: need 24 non-negative agent counts")
        return v

    def agents(self, day: str) -> list[int]:
        row = self.roster.get(day) or (self.roster.get("weekday") if day in DAYS[:5] else None)
        return list(row) if row is not None else [0] * 24


class Retrials(_Strict):
    """Abandoned callers call again on the SPEC §6 schedule."""

    probability: float = Field(default=0.0, ge=0, le=1)
    max_attempts: int = Field(default=5, ge=1, le=20)
    delays: list[tuple[float, float]] = [(60, 120), (300, 300), (600, 900)]

    @field_validator("delays")
    @classmethod
    def _delays(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if not v or any(lo < 0 or hi < lo for lo, hi in v):
            raise ValueError("each delay is [min_s, max_s] with 0 <= min <= max")
        return v


class Callbacks(_Strict):
    accept: float = Field(default=0.0, ge=0, le=1, description="share accepting the offer")
    after_hours_request: float = Field(default=0.0, ge=0, le=1,
                                       description="share of after-hours callers leaving one")


class Escalation(_Strict):
    """Agents transfer ``share`` of their answered calls to the group ``to`` (SPEC §4: a
    senior specialist or a specialised group). Off by default; ``to`` not a skill of the
    centre makes a senior group of ``agents`` on duty in the centre's hours
    (:mod:`queue_engine.escalation`)."""

    share: float = Field(default=0.0, ge=0, le=1)
    to: str = "senior"
    name: str = "Старшие специалисты"
    priority: int = Field(default=5, ge=0, le=100)
    agents: int = Field(default=0, ge=0, le=1000)
    aht: Dist = Dist(mean=480, cv=0.9)
    patience: Dist = Dist(mean=2400)


class Routing(_Strict):
    policy: Literal["longest_idle", "overflow"] = "longest_idle"
    overflow_after: float = Field(default=60, ge=0)


class SkillTimes(_Strict):
    """A scenario's own handle time / patience for a skill (a fitted scenario has them)."""

    aht: Dist | None = None
    patience: Dist | None = None


class Scenario(_Strict):
    name: str
    description: str = ""
    centre: Centre
    skill_times: dict[str, SkillTimes] = Field(
        default={}, description="per skill, replaces the centre's aht / patience")
    source: dict[str, Any] = Field(
        default={}, description="where a fitted scenario came from: period, calls, estimates")
    calibration: dict[str, Any] = Field(
        default={}, description="how the roster was generated: command, seed, target, "
        "tolerance, verified figures, roster digest (bench/queue_engine/calibrate_default.py)")
    arrivals: Arrivals
    teams: dict[str, Team]
    retrials: Retrials = Retrials()
    callbacks: Callbacks = Callbacks()
    routing: Routing = Routing()
    escalation: Escalation = Escalation()

    @property
    def skill_ids(self) -> list[str]:
        return list(self.centre.skills)


def _validate(model: type[BaseModel], data: Any, file: Path, marks: dict, prefix=()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = prefix + tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        raise ScenarioError(file, line_of(marks, loc), key, err["msg"]) from None


@lru_cache(maxsize=16)
def _load_centre_cached(file: Path, mtime: float) -> Centre:
    data, marks = load_marked(file)
    if isinstance(data, dict) and isinstance(data.get("holidays"), str):
        # one published calendar for the IVR and the ACD: `holidays: holidays.yaml` names the
        # dialplan's file (its `holidays:` mapping, date -> name) beside this one
        cal_path = file.parent / data["holidays"]
        cal, _ = load_marked(cal_path)
        if not isinstance(cal, dict) or not isinstance(cal.get("holidays"), dict):
            raise ScenarioError(file, marks.get(("holidays",)), "holidays",
                                f"{cal_path.name} has no `holidays:` mapping")
        data = {**data, "holidays": list(cal["holidays"])}
    if isinstance(data, dict) and "skills_from" in data:
        data = _skills_from(file, data, marks)
    return _validate(Centre, data, file, marks)


def _skills_from(file: Path, data: dict, marks: dict) -> dict:
    """Names and priorities from the dialplan's ``skills.yaml`` (one source of truth with the
    IVR, its queue weights and the Asterisk export); the ACD's own fields (handle time,
    patience, overflow, 24/7) stay in the centre file.  Both must list the same skills."""
    ref = data.pop("skills_from")
    path = file.parent / str(ref)
    doc, kmarks = load_marked(path)
    theirs = doc.get("skills") if isinstance(doc, dict) else None
    ours = data.get("skills")
    if not isinstance(theirs, dict) or not isinstance(ours, dict):
        raise ScenarioError(path if not isinstance(theirs, dict) else file, 1, "skills",
                            "expected a `skills:` mapping")
    for sid in ours:
        if sid not in theirs:
            raise ScenarioError(file, line_of(marks, ("skills", sid)), f"skills.{sid}",
                                f"not a skill of {path.name} ({', '.join(theirs)})")
    for sid in theirs:
        if sid not in ours:
            raise ScenarioError(path, line_of(kmarks, ("skills", sid)), f"skills.{sid}",
                                f"no handle time / patience for it in {file.name}")
    merged = {}
    for sid, spec in ours.items():
        k = theirs[sid] or {}
        names = k.get("name") or {}
        merged[sid] = {**spec, "name": names.get("ru", sid), "name_en": names.get("en", ""),
                       "priority": int(k.get("priority", 0))}
    return {**data, "skills": merged}


def load_centre(file: str | Path | None = None) -> Centre:
    """The centre definition (default ``dialplans/centre.yaml``), cached per file version."""
    path = Path(file) if file else DIALPLANS / "centre.yaml"
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ScenarioError(path, None, "", f"cannot read: {exc.strerror}") from exc
    return _load_centre_cached(path.resolve(), mtime)


def load_scenario(file: str | Path | None = None) -> Scenario:
    """Load and check a scenario; its ``centre:`` key names the centre file (relative)."""
    path = Path(file) if file else default_scenario_path()
    data, marks = load_marked(path)
    if not isinstance(data, dict):
        raise ScenarioError(path, 1, "", "expected a mapping at the top")
    centre_ref = data.get("centre", "../centre.yaml")
    if isinstance(centre_ref, str):
        centre = load_centre(path.parent / centre_ref)
    else:
        centre = _validate(Centre, centre_ref, path, marks, ("centre",))
    body = {**data, "centre": centre}
    sc: Scenario = _validate(Scenario, body, path, marks)
    if sc.skill_times:
        sc = _apply_times(sc, path, marks)
    _cross_check(sc, path, marks)
    return sc


def _apply_times(sc: Scenario, path: Path, marks: dict) -> Scenario:
    """The centre as this scenario sees it: its own handle times and patience applied."""
    for sid in sc.skill_times:
        if sid not in sc.centre.skills:
            raise ScenarioError(path, line_of(marks, ("skill_times", sid)),
                                f"skill_times.{sid}", f"unknown skill {sid!r}")
    return sc.model_copy(update={"centre": with_skill_times(sc.centre, sc.skill_times)})


def with_skill_times(centre: Centre, times: dict[str, SkillTimes] | dict[str, dict]) -> Centre:
    """``centre`` with a scenario's own handle times / patience replacing its skills'."""
    skills = dict(centre.skills)
    for sid, t in times.items():
        t = SkillTimes.model_validate(t) if isinstance(t, dict) else t
        upd = {k: v for k, v in (("aht", t.aht), ("patience", t.patience)) if v is not None}
        skills[sid] = skills[sid].model_copy(update=upd)
    return centre.model_copy(update={"skills": skills})


def with_dispersion(sc: Scenario, spread: float) -> Scenario:
    """``sc`` with every skill's daily volume over-dispersed by a gamma day factor of ``spread``
    (0 keeps it Poisson): the world the fit and backtest benchmarks test against."""
    if not spread:
        return sc
    arr = sc.arrivals.model_copy(update={"dispersion": {s: spread
                                                        for s in sc.arrivals.daily_calls}})
    return sc.model_copy(update={"arrivals": arr})


def scenario_from_mapping(data: dict[str, Any], centre: Centre) -> Scenario:
    """A scenario held as a mapping (e.g. just fitted) with its centre given: as loaded."""
    sc = Scenario.model_validate({**data, "centre": centre})
    return sc.model_copy(update={"centre": with_skill_times(centre, sc.skill_times)})


def _cross_check(sc: Scenario, path: Path, marks: dict) -> None:
    """Checks that span sections: ids exist, open hours with calls have agents."""
    skills = sc.centre.skills

    def fail(loc: tuple, reason: str) -> None:
        raise ScenarioError(path, line_of(marks, loc), ".".join(map(str, loc)), reason)

    for sid in (*sc.arrivals.daily_calls, *sc.arrivals.dispersion):
        if sid not in skills:
            sec = "daily_calls" if sid in sc.arrivals.daily_calls else "dispersion"
            fail(("arrivals", sec, sid), f"unknown skill {sid!r}")
    for tid, team in sc.teams.items():
        for sid in team.skills:
            if sid not in skills:
                fail(("teams", tid, "skills", sid), f"unknown skill {sid!r}")
    esc = sc.escalation
    if esc.share > 0 and esc.to not in skills and esc.agents == 0:
        fail(("escalation", "agents"), f"calls escalated to {esc.to!r} but no senior agent "
             "answers them (give agents, or a skill of the centre as 'to')")
    for sid in skills:
        if sc.arrivals.daily_calls.get(sid, 0) > 0 and not any(
            sid in t.skills for t in sc.teams.values()
        ):
            fail(("arrivals", "daily_calls", sid), f"calls offered to {sid!r} but no team has it")
    for di, day in enumerate(DAYS):
        if sc.arrivals.days[day] == 0:
            continue
        try:
            shape = sc.arrivals.shape(day)
        except ValueError as exc:
            fail(("arrivals", "profile"), str(exc))
        for sid, vol in sc.arrivals.daily_calls.items():
            open_ = sc.centre.open_week(sid)[di * 24:(di + 1) * 24]
            for hr in range(24):
                if not open_[hr] or vol * shape[hr] <= 0:
                    continue
                staffed = sum(t.agents(day)[hr] for t in sc.teams.values() if sid in t.skills)
                if staffed == 0:
                    team = next(t for t, tm in sc.teams.items() if sid in tm.skills)
                    key = day if day in sc.teams[team].roster else "weekday"
                    fail(("teams", team, "roster", key, hr),
                         f"zero agents for {sid!r} on {day} {hr:02d}:00 while it is open "
                         "and calls are offered")
