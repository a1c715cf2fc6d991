"""The dialplan: every hotline number → line, region, schedule, menu, languages.

Loaded from ``dialplans/*.yaml`` (numbers, lines, regions, schedules, holidays, skills and the
menus) and validated as a whole: a bad value, a duplicate number or a reference to an unknown
line, region, schedule, menu or skill is reported as ``file:line: key: message``.
:meth:`Dialplan.route` is a pure function of that data and the moment asked about.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ivr.dialplan.numbers import NumberFormatError, normalize
from ivr.dialplan.schedule import DAYS, Schedule, expand_days, parse_hours, to_local
from ivr.dialplan.yamlconf import ConfigError, Problem, YamlDoc, load_yaml, validate

DEFAULT_DIR = Path("dialplans")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    ru: str
    en: str | None = None


class NumberSpec(_Strict):
    line: str
    region: str


class NumbersFile(_Strict):
    numbers: dict[str, NumberSpec]


class RegionSpec(_Strict):
    name: Names


class RegionsFile(_Strict):
    regions: dict[str, RegionSpec]


class LineSpec(_Strict):
    name: Names
    schedule: str
    menu: str
    languages: list[str] = Field(min_length=1)
    overrides: dict[date, str] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        for lang in v:
            if lang not in ("ru", "en"):
                raise ValueError(f"language {lang!r} is not offered (ru, en)")
        if len(set(v)) != len(v):
            raise ValueError("a language is listed twice")
        return v


class EmergencySpec(_Strict):
    skill: str
    schedule: str
    priority: int = Field(ge=1)


class LinesFile(_Strict):
    lines: dict[str, LineSpec]
    emergency: EmergencySpec


class ScheduleSpec(_Strict):
    hours: dict[str, str]
    overrides: dict[date, str] = Field(default_factory=dict)


class SchedulesFile(_Strict):
    timezone: str
    schedules: dict[str, ScheduleSpec]


class HolidaysFile(_Strict):
    holidays: dict[date, str]


class SkillSpec(_Strict):
    name: Names
    priority: int = 0


class SkillsFile(_Strict):
    skills: dict[str, SkillSpec]


@dataclass(frozen=True)
class Line:
    id: str
    name: dict[str, str]
    schedule: Schedule
    menu: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Number:
    e164: str
    line: str
    region: str


@dataclass(frozen=True)
class Route:
    """Where a call to ``input`` goes at moment ``at`` (local hotline time)."""

    input: str
    e164: str
    line: str
    line_name: str
    region: str
    region_name: str
    open: bool
    menu: str
    languages: tuple[str, ...]
    schedule: str
    next_open: datetime | None
    closes_at: datetime | None
    holiday: str | None
    emergency: bool
    at: datetime

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("next_open", "closes_at", "at"):
            out[key] = out[key].isoformat() if out[key] else None
        out["languages"] = list(self.languages)
        return out


class RouteError(LookupError):
    """The number is well formed but is not one of the hotline's."""


@dataclass(frozen=True)
class Dialplan:
    directory: Path
    tz: ZoneInfo
    numbers: dict[str, Number]
    lines: dict[str, Line]
    regions: dict[str, dict[str, str]]
    schedules: dict[str, Schedule]
    holidays: dict[date, str]
    skills: dict[str, SkillSpec]
    emergency: EmergencySpec
    menu_ids: frozenset[str]

    @property
    def holiday_dates(self) -> frozenset[date]:
        return frozenset(self.holidays)

    def lookup(self, number: str) -> Number:
        e164 = normalize(number)
        try:
            return self.numbers[e164]
        except KeyError:
            raise RouteError(f"{number!r} ({e164}) is not a hotline number; "
                             "`hotline dialplan show` lists them") from None

    def is_open(self, line_id: str, at: datetime) -> bool:
        local = to_local(at, self.tz)
        return self.lines[line_id].schedule.is_open(local, self.holiday_dates)

    def next_open(self, line_id: str, at: datetime) -> datetime | None:
        local = to_local(at, self.tz)
        return self.lines[line_id].schedule.next_open(local, self.holiday_dates)

    def route(self, number: str, at: datetime) -> Route:
        entry = self.lookup(number)
        line = self.lines[entry.line]
        local = to_local(at, self.tz)
        hol = self.holiday_dates
        is_open = line.schedule.is_open(local, hol)
        emergency = self.schedules[self.emergency.schedule].is_open(local, hol)
        return Route(
            input=number, e164=entry.e164, line=line.id, line_name=line.name["ru"],
            region=entry.region, region_name=self.regions[entry.region]["ru"], open=is_open,
            menu=line.menu, languages=line.languages, schedule=line.schedule.id,
            next_open=None if is_open else line.schedule.next_open(local, hol),
            closes_at=line.schedule.closes_at(local, hol), holiday=self.holidays.get(local.date()),
            emergency=emergency, at=local,
        )


def _schedule(sid: str, spec: ScheduleSpec, doc: YamlDoc, problems: list[Problem],
              base: tuple) -> Schedule | None:
    week: list[Any] = [None] * 7
    holiday_hours = None
    ok = True
    for key, text in spec.hours.items():
        loc = (*base, "hours", key)
        try:
            hours = parse_hours(text)
            if key.strip().lower() == "holidays":
                holiday_hours = hours
                continue
            for d in expand_days(key):
                if week[d] is not None:
                    problems.append(doc.problem(loc, f"{DAYS[d]} is given hours twice"))
                    ok = False
                week[d] = hours
        except ValueError as exc:
            problems.append(doc.problem(loc, str(exc)))
            ok = False
    missing = [DAYS[d] for d in range(7) if week[d] is None]
    if ok and missing:
        problems.append(doc.problem((*base, "hours"), f"no hours for {', '.join(missing)} "
                                    "(write 'closed' for a day off)"))
        ok = False
    n_problems = len(problems)
    overrides = _overrides(spec.overrides, doc, problems, (*base, "overrides"))
    ok = ok and len(problems) == n_problems
    if not ok:
        return None
    sched = Schedule(sid, tuple(week), holiday_hours, overrides)
    if not sched.opens_ever():
        problems.append(doc.problem((*base, "hours"), "the schedule never opens"))
        return None
    return sched


def _overrides(spec: dict[date, str], doc: YamlDoc, problems: list[Problem], base: tuple):
    out = {}
    for day, text in spec.items():
        try:
            out[day] = parse_hours(text)
        except ValueError as exc:
            problems.append(doc.problem((*base, day.isoformat()), str(exc)))
    return out


def load_dialplan(directory: str | Path = DEFAULT_DIR) -> Dialplan:
    """Load and cross-check every dialplan file; raise :class:`ConfigError` listing all problems."""
    d = Path(directory)
    problems: list[Problem] = []

    def read(name: str, model):
        try:
            doc = load_yaml(d / name)
            return doc, validate(doc, model)
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None, None

    ndoc, nfile = read("numbers.yaml", NumbersFile)
    ldoc, lfile = read("lines.yaml", LinesFile)
    _rdoc, rfile = read("regions.yaml", RegionsFile)
    sdoc, sfile = read("schedules.yaml", SchedulesFile)
    _hdoc, hfile = read("holidays.yaml", HolidaysFile)
    _kdoc, kfile = read("skills.yaml", SkillsFile)
    menu_ids, menu_skills = _menu_refs(d, problems)
    if problems:
        raise ConfigError(problems)

    try:
        tz = ZoneInfo(sfile.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(sdoc.problem(("timezone",), f"unknown time zone {sfile.timezone!r}"))
        raise ConfigError(problems) from None

    schedules: dict[str, Schedule] = {}
    for sid, spec in sfile.schedules.items():
        sched = _schedule(sid, spec, sdoc, problems, ("schedules", sid))
        if sched:
            schedules[sid] = sched

    lines: dict[str, Line] = {}
    for lid, spec in lfile.lines.items():
        loc = ("lines", lid)
        if spec.schedule not in sfile.schedules:
            problems.append(ldoc.problem((*loc, "schedule"), f"unknown schedule {spec.schedule!r}"))
            continue
        if menu_ids is not None and spec.menu not in menu_ids:
            problems.append(ldoc.problem((*loc, "menu"), f"unknown menu {spec.menu!r} "
                                         f"(menus.yaml has {', '.join(sorted(menu_ids))})"))
        sched = schedules.get(spec.schedule)
        if sched is None:
            continue
        if spec.overrides:  # per-line dated hours on top of the shared schedule
            own = _overrides(spec.overrides, ldoc, problems, (*loc, "overrides"))
            sched = Schedule(f"{sched.id}+{lid}", sched.week, sched.holiday_hours,
                             {**sched.overrides, **own})
        lines[lid] = Line(lid, spec.name.model_dump(exclude_none=True), sched, spec.menu,
                          tuple(spec.languages))

    numbers: dict[str, Number] = {}
    first_seen: dict[str, str] = {}
    for raw, spec in nfile.numbers.items():
        loc = ("numbers", raw)
        try:
            e164 = normalize(raw)
        except NumberFormatError as exc:
            problems.append(ndoc.problem(loc, exc.reason))
            continue
        if e164 in numbers:
            problems.append(ndoc.problem(loc, f"duplicate number {e164} (also written as "
                                         f"{first_seen[e164]!r} on line {ndoc.line_of(('numbers', first_seen[e164]))})"))
            continue
        if spec.line not in lfile.lines:
            problems.append(ndoc.problem((*loc, "line"), f"unknown line {spec.line!r}"))
            continue
        if spec.region not in rfile.regions:
            problems.append(ndoc.problem((*loc, "region"), f"unknown region {spec.region!r}"))
            continue
        numbers[e164] = Number(e164, spec.line, spec.region)
        first_seen[e164] = raw
    unused = set(lfile.lines) - {n.line for n in numbers.values()}
    for lid in sorted(unused):
        problems.append(ldoc.problem(("lines", lid), "no number leads to this line"))

    em = lfile.emergency
    if em.skill not in kfile.skills:
        problems.append(ldoc.problem(("emergency", "skill"), f"unknown skill {em.skill!r}"))
    if em.schedule not in sfile.schedules:
        problems.append(ldoc.problem(("emergency", "schedule"), f"unknown schedule {em.schedule!r}"))
    for skill, where in (menu_skills or {}).items():
        if skill not in kfile.skills:
            problems.append(Problem(where[0], where[1], f"unknown skill {skill!r} "
                                    f"(skills.yaml has {', '.join(sorted(kfile.skills))})"))
    if problems:
        raise ConfigError(problems)
    return Dialplan(
        directory=d, tz=tz, numbers=numbers, lines=lines,
        regions={k: v.name.model_dump(exclude_none=True) for k, v in rfile.regions.items()},
        schedules=schedules, holidays=dict(hfile.holidays), skills=dict(kfile.skills),
        emergency=em, menu_ids=frozenset(menu_ids or ()),
    )


def _menu_refs(d: Path, problems: list[Problem]):
    """Menu ids and the skills they route to, from the IVR menus (if that module is present)."""
    if not (d / "menus.yaml").exists():
        return None, None
    try:
        from ivr.dialplan import menus as menus_mod
    except ImportError:  # menus not written yet: nothing to cross-check
        return None, None
    try:
        menus = menus_mod.load_menus(d)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None, None
    refs = getattr(menus, "skill_refs", None)
    return frozenset(menus_mod_ids(menus)), (refs() if callable(refs) else None)


def menus_mod_ids(menus) -> list[str]:
    ids = getattr(menus, "ids", None)
    if callable(ids):
        return list(ids())
    if ids is not None:
        return list(ids)
    return list(getattr(menus, "menus", {}))
