"""Plain records between the IVR and the queue engine (ARCHITECTURE rule 3).

:class:`QueueCall` is what the IVR hands the engine for one caller; :class:`CallRecords`
is what comes back from the ``calls`` table (or from the simulator, in the same columns)
for fitting scenarios and hourly reports.  Plain data only: the engine must not know
about IVR sessions, sockets or the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["QUEUE_OUTCOMES", "CallRecords", "QueueCall"]


@dataclass(frozen=True, slots=True)
class QueueCall:
    """One caller ready for an agent.

    ``arrival_time`` is seconds on the driver's clock (e.g. ``time.time()``);
    ``priority`` higher is answered first (security incidents top); ``skill`` is a
    skill id of ``dialplans/centre.yaml``.
    """

    call_id: str
    line: str
    region: str
    language: str
    skill: str
    priority: int
    identified: bool
    arrival_time: float


# ---- call records: the ``calls`` table's columns, as numpy columns --------------------------

#: Final outcomes of a caller who reached an agent queue (the IVR's ``queued`` is replaced by
#: one of these once the queue is done with the call).
QUEUE_OUTCOMES = ("answered", "abandoned", "callback", "timeout", "queued")
_TIMES = ("started", "queued", "answered", "ended")


@dataclass
class CallRecords:
    """Rows of the ``calls`` table as columns; times are UTC epoch seconds, nan when absent.

    Why columns: fitting and hourly reports group tens of thousands of calls with numpy.
    The columns are the table's (``call_id``, ``caller_hash`` → ``caller``, ``line``,
    ``region``, ``skill``, ``outcome``, ``menu_path``, ``callback_requested``, ``agent_id``
    → ``agent``, ``started_at``/``queued_at``/``answered_at``/``ended_at``); ``queued`` is the
    moment the caller joined the agent queue (the ``queued_at`` column, written with the final
    queue outcome; for rows older than that column ``ivr.store.call_records`` derives it from
    the drivers' "after W s").  A callback the centre dials out has ``menu_path ==
    ["callback"]``; the IVR's callback offer is marked ``callback`` (accepted) or
    ``callback:declined`` in ``menu_path``.
    """

    call_id: np.ndarray
    caller: np.ndarray
    line: np.ndarray
    region: np.ndarray
    skill: np.ndarray
    outcome: np.ndarray
    menu_path: list[list[str]]
    callback_requested: np.ndarray
    agent: np.ndarray
    started: np.ndarray
    queued: np.ndarray
    answered: np.ndarray
    ended: np.ndarray

    def __len__(self) -> int:
        return int(self.call_id.size)

    @property
    def outbound(self) -> np.ndarray:
        """Callbacks the centre dialled (not fresh demand)."""
        return np.array([bool(p) and p[0] == "callback" for p in self.menu_path], dtype=bool)

    @property
    def wait(self) -> np.ndarray:
        """Seconds in the agent queue: to the answer, else to leaving (nan if never queued)."""
        left = np.where(np.isfinite(self.answered) & (self.outcome == "answered"),
                        self.answered, self.ended)
        return np.where(np.isfinite(self.queued), left - self.queued, np.nan)

    def select(self, mask: np.ndarray) -> CallRecords:
        idx = np.nonzero(mask)[0]
        cols = {k: getattr(self, k)[idx] for k in _COLS if k != "menu_path"}
        return CallRecords(menu_path=[self.menu_path[i] for i in idx], **cols)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> CallRecords:
        """Rows keyed by the table's column names (aware datetimes, or epoch seconds)."""
        cols: dict[str, list] = {k: [] for k in _COLS}
        for r in rows:
            cols["call_id"].append(str(r["call_id"]))
            cols["caller"].append(r.get("caller_hash") or r.get("caller") or r["call_id"])
            for k in ("line", "region", "skill", "outcome"):
                cols[k].append(r.get(k) or "")
            cols["agent"].append(r.get("agent_id") or "")
            cols["menu_path"].append(list(r.get("menu_path") or []))
            cols["callback_requested"].append(bool(r.get("callback_requested")))
            for k in _TIMES:
                cols[k].append(_epoch(r.get(f"{k}_at")))
        return cls(**{k: (v if k == "menu_path" else np.array(
            v, dtype=float if k in _TIMES else bool if k == "callback_requested" else object))
            for k, v in cols.items()})

    def rows(self) -> Iterator[dict[str, Any]]:
        """The same records as ``calls`` rows (aware UTC datetimes, None where absent)."""
        for i in range(len(self)):
            yield {"call_id": self.call_id[i], "caller_hash": self.caller[i],
                   "line": self.line[i] or None, "region": self.region[i] or None,
                   "skill": self.skill[i] or None, "outcome": self.outcome[i],
                   "menu_path": self.menu_path[i],
                   "callback_requested": bool(self.callback_requested[i]),
                   "agent_id": self.agent[i] or None,
                   **{f"{k}_at": _dt(getattr(self, k)[i]) for k in _TIMES}}


_COLS = ("call_id", "caller", "line", "region", "skill", "outcome", "menu_path",
         "callback_requested", "agent", "started", "queued", "answered", "ended")


def _epoch(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            raise ValueError("naive datetime in a call record: times are aware UTC")
        return v.timestamp()
    return float(v)


def _dt(x: float) -> dt.datetime | None:
    return None if not math.isfinite(x) else dt.datetime.fromtimestamp(x, dt.UTC)


def from_simulation(model: Any, res: Any, monday: dt.date, tz: str = "Europe/Moscow",
                    ivr_seconds: float = 40.0, menus: Mapping[str, str] | None = None,
                    self_service: Mapping[str, float] | None = None,
                    seed: int = 0, sim_seed: int | None = None) -> CallRecords:
    """A simulated run (:class:`queue_engine.results.SimResult`) as ``calls`` rows.

    Sim time 0 is ``monday`` 00:00 local time in ``tz``.  Each caller's IVR part lasts
    ``ivr_seconds`` before it queues.  ``menus`` (skill -> menu key) names the branch in
    ``menu_path``; ``self_service`` (skill -> share) adds callers who picked that branch
    and were served by the IVR alone (the simulator never sees them), so a fit can
    recover the shares.  Retrials keep their caller (``parent`` chain); agents are
    recorded by team name.  ``sim_seed`` (the seed ``res`` was simulated with) marks every
    after-hours callback request, also those whose callback falls past the horizon.
    """
    from zoneinfo import ZoneInfo

    from queue_engine.results import ABANDONED, ANSWERED, CALLBACK_TAKEN, CLOSED

    t0 = dt.datetime.combine(monday, dt.time(0), ZoneInfo(tz)).timestamp()
    n = res.arrival.size
    caller = np.arange(n)
    par = res.parent if res.parent is not None else np.full(n, -1)
    for i in np.nonzero(par >= 0)[0]:  # parents come first: one pass follows each chain
        caller[i] = caller[par[i]]
    oc = res.outcome
    q = t0 + res.arrival
    w = np.nan_to_num(res.wait)
    ans = oc == ANSWERED
    answered = np.where(ans, q + w, np.nan)
    ended = np.select([ans, oc == ABANDONED, oc == CALLBACK_TAKEN, oc == CLOSED],
                      [q + w + np.nan_to_num(res.service), q + w, q, q], np.nan)
    outcome = np.select([ans, oc == ABANDONED, oc == CALLBACK_TAKEN, oc == CLOSED],
                        ["answered", "abandoned", "callback", "after_hours"], "queued")
    asked = np.zeros(n, dtype=bool)
    closed = oc == CLOSED
    if sim_seed is not None:  # the replication's own draws: who asked for a callback
        from queue_engine.sim import draw_inputs

        asked[draw_inputs(model, np.random.default_rng(sim_seed)).asks] = True
    elif res.callback.any():  # an after-hours request is followed by a callback attempt
        asked[par[res.callback & (par >= 0)]] = True
    skills = np.asarray(model.skills, dtype=object)
    teams = np.asarray([*model.teams, ""], dtype=object)
    menus = menus or {}
    paths = []
    for i in range(n):
        s = model.skills[res.skill[i]]
        if res.callback[i]:
            paths.append(["callback"])
        else:
            p = [f"main:{menus.get(s, s)}:{s}"]
            if oc[i] == CALLBACK_TAKEN or (closed[i] and asked[i]):
                p.append("callback")
            paths.append(p)
    rec = CallRecords(
        call_id=np.array([f"sim:{i}" for i in range(n)], dtype=object),
        caller=np.array([f"c{c}" for c in caller], dtype=object),
        line=np.full(n, "federal", dtype=object), region=np.full(n, "", dtype=object),
        skill=skills[res.skill], outcome=outcome.astype(object), menu_path=paths,
        callback_requested=(oc == CALLBACK_TAKEN) | (closed & asked) | res.callback,
        agent=teams[np.where(ans, res.team, -1)],
        started=np.where(res.callback, q, q - ivr_seconds), queued=np.where(closed, np.nan, q),
        answered=answered, ended=ended)
    if not self_service:
        return rec
    rng = np.random.default_rng(seed)
    fresh = ~res.callback & (res.attempt == 1)
    extra = []
    for g, s in enumerate(model.skills):
        share = float(self_service.get(s, 0.0))
        if share <= 0:
            continue
        k = rng.binomial(int((fresh & (res.skill == g)).sum()), share / (1 - share))
        st = t0 + rng.choice(res.arrival[fresh & (res.skill == g)], size=k)
        extra.append((s, st))
    return _concat(rec, extra, menus, ivr_seconds)


def _concat(rec: CallRecords, extra: list[tuple[str, np.ndarray]],
            menus: Mapping[str, str], ivr_seconds: float) -> CallRecords:
    """``rec`` plus callers the IVR served alone (outcome ``self_served``)."""
    k = sum(st.size for _, st in extra)
    if not k:
        return rec
    skill = np.concatenate([np.full(st.size, s, dtype=object) for s, st in extra])
    started = np.concatenate([st for _, st in extra]) - ivr_seconds
    nan = np.full(k, np.nan)
    add = CallRecords(
        call_id=np.array([f"sim:ss{i}" for i in range(k)], dtype=object),
        caller=np.array([f"ss{i}" for i in range(k)], dtype=object),
        line=np.full(k, "federal", dtype=object), region=np.full(k, "", dtype=object),
        skill=np.full(k, "", dtype=object), outcome=np.full(k, "self_served", dtype=object),
        menu_path=[[f"main:{menus.get(s, s)}:{s}"] for s in skill],
        callback_requested=np.zeros(k, dtype=bool), agent=np.full(k, "", dtype=object),
        started=started, queued=nan, answered=nan, ended=started + ivr_seconds)
    return CallRecords(**{c: (getattr(rec, c) + getattr(add, c)) if c == "menu_path"
                          else np.concatenate([getattr(rec, c), getattr(add, c)])
                          for c in _COLS})


def calendar_model(model: Any, monday: dt.date, weeks: int,
                   holidays: Iterable[dt.date] = ()) -> Any:
    """``model``'s week repeated ``weeks`` times from ``monday``, holidays closed to agents
    (except 24/7 skills) — the simulated counterpart of a period of call records."""
    from dataclasses import replace

    lam = np.tile(model.lam, (1, weeks))
    open_ = np.tile(model.open_, (1, weeks))
    always = model.open_.all(axis=1)
    for d in holidays:
        k = (d - monday).days
        if 0 <= k < 7 * weeks:
            open_[~always, k * 24:(k + 1) * 24] = False
    return replace(model, lam=lam, open_=open_, staff=np.tile(model.staff, (1, weeks)),
                   meta={**{k: v for k, v in model.meta.items() if not k.startswith("_")}})
