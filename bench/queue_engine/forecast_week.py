"""Wall time of ``hotline forecast`` (default week, 30 replications) and ``hotline staff``.

Run: .venv/bin/python bench/queue_engine/forecast_week.py [--runs 5] [--cold]
     [--baseline DIR]

Each figure is the median of ``--runs`` fresh processes running the command as a user
would (interpreter start, imports, YAML, replications over the cores, output as JSON),
with a warm numba cache — the goals of issue 11 are < 3 s for the forecast and < 5 s for
staffing on this machine.  ``--cold`` also times one run of each with an empty cache (the
first run after installing: numba compiles the engine).  ``--baseline DIR`` runs an older
copy of the ``queue_engine`` package (``git archive REV queue_engine | tar -x -C DIR`` and a
``DIR/dialplans`` link) interleaved with this one, for before/after figures.  CPU seconds
(user + system of the process and its workers) are printed beside the wall time: other
sessions sharing the cores inflate the wall time, much less the CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {"forecast": ["forecast", "--json"], "staff": ["staff", "--json"]}
GOALS = {"forecast": 3.0, "staff": 5.0}


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one fresh ``hotline ARGV`` process."""
    code = "import sys; from ivr.cli import main; sys.exit(main(sys.argv[1:]))"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # cwd: not the checkout, whose queue_engine would shadow a --baseline copy on sys.path
    subprocess.run([sys.executable, "-c", code, *argv], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def uptime() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also time one run on an empty cache")
    ap.add_argument("--baseline", help="directory holding an older queue_engine package")
    args = ap.parse_args()
    envs = {"this tree": dict(os.environ)}
    if args.baseline:
        envs["baseline"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
        probe = "import queue_engine; print(queue_engine.__file__)"
        where = subprocess.run([sys.executable, "-c", probe], env=envs["baseline"],
                               cwd=tempfile.gettempdir(), capture_output=True, text=True,
                               check=True).stdout.strip()
        print(f"baseline: {where}")
    print(f"load average before: {uptime()} ({os.cpu_count()} cores)")
    for name, env in envs.items():  # the cache of each copy filled before timing
        for argv in COMMANDS.values():
            run_once(argv, env)
    cold: dict[tuple[str, str], tuple[float, float]] = {}
    if args.cold:
        for name, env in envs.items():
            for cmd, argv in COMMANDS.items():
                with tempfile.TemporaryDirectory() as cache:
                    cold[name, cmd] = run_once(argv, {**env, "NUMBA_CACHE_DIR": cache})
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):  # interleaved: the load hits every column alike
        for cmd, argv in COMMANDS.items():
            for name, env in envs.items():
                times.setdefault((name, cmd), []).append(run_once(argv, env))
    print(f"median of {args.runs} fresh processes, warm numba cache; load average after: "
          f"{uptime()}")
    for (name, cmd), runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        line = (f"  {name:9s} hotline {cmd:8s} wall {wall:5.2f} s (min {min(w for w, _ in runs):.2f}"
                f", goal < {GOALS[cmd]:g} s)  CPU {cpu:5.2f} s")
        if (name, cmd) in cold:
            line += f"  | cold cache: wall {cold[name, cmd][0]:5.2f} s CPU {cold[name, cmd][1]:5.2f} s"
        print(line)


if __name__ == "__main__":
    main()
