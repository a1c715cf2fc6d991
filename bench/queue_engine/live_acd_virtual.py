"""The live ACD's cost per event with and without virtual hold (callbacks keeping places).

Drives :class:`queue_engine.acd.LiveAcd` on the default scenario's roster through the Monday
lunchtime peak (12:00–15:00 Moscow, ``--scale`` × its arrivals): every caller is offered and
either answered or abandons at its drawn patience. The peer run ``virtual`` turns a share of the
callers (``--share``) into callbacks: the request takes a virtual place at the caller's arrival,
is dialled when the place reaches the head (``DialCallback``), rings ``RING_S`` and its answered
leg is offered at the original place. Both peers run in this one process, alternately, ``--reps``
times; the figure is the median wall time per ACD call (offer / abandon / tick / hold / unhold)
and the ratio of the two.

    python bench/queue_engine/live_acd_virtual.py [--scale 1] [--share 0.15] [--reps 5]
"""
from __future__ import annotations

import argparse
import datetime as dt
import heapq
import os
import statistics
import time

import numpy as np

from queue_engine.acd import Connect, DialCallback, LiveAcd
from queue_engine.live import MSK, LiveCentre, week_hour_origin
from queue_engine.records import QueueCall
from queue_engine.scenario import load_scenario
from queue_engine.variates import SkillDraws, arrivals

RING_S = 20.0


def run(scenario, share: float, scale: float, seed: int) -> tuple[float, int, dict]:
    centre = LiveCentre(scenario)
    acd = LiveAcd(centre, seed=seed)
    model = centre.model
    rng = np.random.default_rng(seed)
    t_all, g_all = arrivals(model, rng)
    start = dt.datetime(2026, 11, 23, 12, 0, tzinfo=MSK).timestamp()
    origin = week_hour_origin(start, centre.tz)
    lo, hi = start - origin, start - origin + 3 * 3600
    pick = (t_all >= lo) & (t_all < hi)
    if scale != 1.0:
        pick &= rng.random(t_all.size) < min(scale, 1.0)
    times, groups = t_all[pick] + origin, g_all[pick]
    draws = SkillDraws(model, rng.spawn(len(model.skills)))
    events: list[tuple[float, int, str, object]] = []  # (at, seq, kind, data)
    seq = 0
    for i, (ts, g) in enumerate(zip(times.tolist(), groups.tolist())):
        skill = model.skills[g]
        kind = "hold" if rng.random() < share else "offer"
        events.append((ts, seq := seq + 1, kind, (f"c{i}", skill, ts, draws.patience(g))))
    heapq.heapify(events)
    calls = answered = dials = 0
    work = 0.0
    waiting: set[str] = set()
    held: dict[int, tuple[str, float]] = {}
    acd.start(start)
    while events or acd.next_due() < start + 4 * 3600:
        nxt = events[0][0] if events else float("inf")
        if acd.next_due() <= nxt:
            now = acd.next_due()
            t0 = time.perf_counter()
            out = acd.tick(now)
        else:
            now, _, kind, data = heapq.heappop(events)
            t0 = time.perf_counter()
            if kind == "offer" or kind == "leg":
                cid, skill, arrival, patience = data
                out = acd.offer(QueueCall(cid, "federal", "all", "ru", skill, 1, False, now),
                                now, place=arrival if kind == "leg" else None)
                waiting.add(cid)
                heapq.heappush(events, (now + patience, seq := seq + 1, "abandon", cid))
            elif kind == "abandon":
                out = []
                if data in waiting:
                    acd.abandon(data, now)
            elif kind == "hold":
                cid, skill, arrival, patience = data
                cb = int(cid[1:])
                held[cb] = (skill, arrival)
                out = acd.hold(cb, skill, 1, arrival, now)
            else:  # answered: the leg joins at its place
                cb = data
                skill, arrival = held.pop(cb)
                out = acd.unhold(cb, now)
                heapq.heappush(events, (now, seq := seq + 1, "leg",
                                        (f"leg{cb}", skill, arrival, 3600.0)))
        work += time.perf_counter() - t0
        calls += 1
        for a in out:
            if isinstance(a, Connect):
                waiting.discard(a.call_id)
                answered += 1
            elif isinstance(a, DialCallback):
                dials += 1
                heapq.heappush(events, (now + RING_S, seq := seq + 1, "answered", a.callback_id))
    return work / calls, calls, {"answered": answered, "dials": dials, "callers": len(times),
                                 "total_ms": work * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--share", type=float, default=0.15)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    scenario = load_scenario()
    per: dict[str, list[float]] = {"plain": [], "virtual": []}
    info = {}
    for rep in range(a.reps):
        for name, share in (("plain", 0.0), ("virtual", a.share)):
            us, _calls, info[name] = run(scenario, share, a.scale, seed=rep)
            per[name].append(us * 1e6)
    plain, virt = statistics.median(per["plain"]), statistics.median(per["virtual"])
    print(f"load {os.getloadavg()[0]:.2f}; Monday 12-15, {info['plain']['callers']} callers, "
          f"{a.reps} reps each, medians")
    print(f"plain   {plain:7.2f} µs per ACD call  ({info['plain']['answered']} answered, "
          f"{info['plain']['total_ms']:.0f} ms for the 3 hours)")
    print(f"virtual {virt:7.2f} µs per ACD call  ({info['virtual']['dials']} callbacks dialled, "
          f"share {a.share:.0%}, {info['virtual']['total_ms']:.0f} ms)")
    print(f"ratio virtual/plain {virt / plain:.2f}")


if __name__ == "__main__":
    main()
