"""SimPy and Ciw models of M/M/c+M, run inside the benchmark's own venv (bench/.venv-peers).

Prints one JSON object: arrivals per second of each peer on the same queue as
``sim_speed.py`` (c agents, AHT, patience, λ from ρ).  Not imported by the package.
"""

from __future__ import annotations

import json
import random
import sys
import time


def simpy_rate(c: int, lam: float, aht: float, patience: float, n: int, seed: int) -> dict:
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=c)
    waits: list[float] = []
    abandoned = [0]

    def caller(env: simpy.Environment):
        t0 = env.now
        with agents.request() as req:
            got = yield req | env.timeout(rng.expovariate(1 / patience))
            if req in got:
                waits.append(env.now - t0)
                yield env.timeout(rng.expovariate(1 / aht))
            else:
                abandoned[0] += 1

    def source(env: simpy.Environment):
        for _ in range(n):
            yield env.timeout(rng.expovariate(lam))
            env.process(caller(env))

    env.process(source(env))
    t = time.perf_counter()
    env.run()
    dt = time.perf_counter() - t
    return {"arrivals": n, "seconds": dt, "rate": n / dt, "p_abandon": abandoned[0] / n}


def ciw_rate(c: int, lam: float, aht: float, patience: float, n: int, seed: int) -> dict:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Exponential(rate=1 / aht)],
        number_of_servers=[c],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / patience)],
    )
    ciw.seed(seed)
    q = ciw.Simulation(net)
    t = time.perf_counter()
    q.simulate_until_max_customers(n, method="Arrive")
    dt = time.perf_counter() - t
    recs = q.get_all_records()
    ab = sum(1 for r in recs if r.record_type == "renege")
    return {"arrivals": n, "seconds": dt, "rate": n / dt, "p_abandon": ab / max(len(recs), 1)}


if __name__ == "__main__":
    c, lam, aht, pat, n_simpy, n_ciw, seed = sys.argv[1:8]
    args = (int(c), float(lam), float(aht), float(pat))
    import ciw
    import simpy

    out = {"simpy": simpy_rate(*args, int(n_simpy), int(seed)),
           "ciw": ciw_rate(*args, int(n_ciw), int(seed)),
           "simpy_version": simpy.__version__, "ciw_version": ciw.__version__}
    print(json.dumps(out))
