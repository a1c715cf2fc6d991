"""SimPy and Ciw models of the benchmark's centre, run inside the benchmark's own venv.

Run by ``sim_speed.py`` (never imported by the package):
``peers.py ENGINE C LAM AHT PATIENCE N SEED`` prints one JSON object: the engine's
version, the seconds the simulation took, wall and CPU (imports and set-up excluded, as
for ours), and
per call in arrival order (after a 5 % warm-up) the batch means that ``sim_speed.py``
checks against Erlang A.

The centre: two skill groups, each offered λ/2, served by two teams of C/2 agents that
both answer both skills, longest-waiting caller first, exponential patience.
* SimPy: each team is a ``Resource``; a caller requests both and takes the first agent
  granted (cancelling or releasing the other), or hangs up when patience runs out.
* Ciw: one node whose C servers are shared by two customer classes (Ciw has no team
  structure; with both teams answering both skills the pooled servers are the same
  queue), class-specific arrivals and reneging.
"""

from __future__ import annotations

import json
import random
import sys
import time

WARM = 0.05
BATCHES = 20
SL_T = 20.0


def batches(waits: list[float], abandoned: list[bool]) -> dict:
    """Per batch of calls (arrival order, warm-up dropped): mean wait, P(abandon), SL."""
    n = len(waits)
    start = int(n * WARM)
    size = (n - start) // BATCHES
    out: dict[str, list[float]] = {"mean_wait": [], "p_abandon": [], "sl": []}
    for b in range(BATCHES):
        w = waits[start + b * size:start + (b + 1) * size]
        a = abandoned[start + b * size:start + (b + 1) * size]
        ans = [x for x, ab in zip(w, a) if not ab]
        out["mean_wait"].append(sum(w) / len(w))
        out["p_abandon"].append(sum(a) / len(a))
        out["sl"].append(sum(1 for x in ans if x <= SL_T) / max(len(ans), 1))
    return out


def run_simpy(c: int, lam: float, aht: float, patience: float, n: int, seed: int) -> dict:
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    teams = [simpy.Resource(env, capacity=c // 2), simpy.Resource(env, capacity=c - c // 2)]
    waits = [0.0] * n
    abandoned = [False] * n

    def caller(env: simpy.Environment, k: int):
        t0 = env.now
        ra, rb = teams[0].request(), teams[1].request()
        got = yield ra | rb | env.timeout(rng.expovariate(1 / patience))
        if ra in got or rb in got:
            mine, other = (ra, rb) if ra in got else (rb, ra)
            if other.triggered:
                other.resource.release(other)
            else:
                other.cancel()
            waits[k] = env.now - t0
            yield env.timeout(rng.expovariate(1 / aht))
            mine.resource.release(mine)
        else:
            ra.cancel()
            rb.cancel()
            waits[k] = env.now - t0
            abandoned[k] = True

    def source(env: simpy.Environment):
        for k in range(n):
            yield env.timeout(rng.expovariate(lam))
            rng.random()  # the skill group: both are answered alike, drawn to keep the work
            env.process(caller(env, k))

    env.process(source(env))
    t, cpu = time.perf_counter(), time.process_time()
    env.run()
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    return {"version": simpy.__version__, "arrivals": n, "seconds": dt, "cpu": cpu,
            **batches(waits, abandoned)}


def run_ciw(c: int, lam: float, aht: float, patience: float, n: int, seed: int) -> dict:
    import ciw

    classes = ["skill a", "skill b"]
    net = ciw.create_network(
        arrival_distributions={k: [ciw.dists.Exponential(rate=lam / 2)] for k in classes},
        service_distributions={k: [ciw.dists.Exponential(rate=1 / aht)] for k in classes},
        number_of_servers=[c],
        reneging_time_distributions={k: [ciw.dists.Exponential(rate=1 / patience)]
                                     for k in classes},
    )
    ciw.seed(seed)
    q = ciw.Simulation(net)
    t, cpu = time.perf_counter(), time.process_time()
    q.simulate_until_max_customers(n, method="Arrive")
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    recs = sorted(q.get_all_records(), key=lambda r: r.arrival_date)
    # callers still waiting at the end have no record: the arrivals counted are all of them
    waits = [r.waiting_time for r in recs]
    abandoned = [r.record_type == "renege" for r in recs]
    return {"version": ciw.__version__, "arrivals": n, "seconds": dt, "cpu": cpu,
            **batches(waits, abandoned)}


if __name__ == "__main__":
    engine, c, lam, aht, pat, n, seed = sys.argv[1:8]
    fn = run_simpy if engine == "simpy" else run_ciw
    print(json.dumps(fn(int(c), float(lam), float(aht), float(pat), int(n), int(seed))))
