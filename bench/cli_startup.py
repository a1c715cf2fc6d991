"""Wall time of the `hotline` command as testers and scripts use it: lazy vs eager start-up.

Each figure is the median of N fresh interpreter runs, interleaved so that both variants see the
same machine load. "eager" builds the parser the way the CLI did before issue 8 (every command
module imported: numpy, scipy, SQLAlchemy, matplotlib and all); "lazy" is the shipped `hotline`,
which imports only the invoked command's module. Run: .venv/bin/python bench/cli_startup.py [N]
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
EAGER = "import sys; from ivr.cli import build_parser; build_parser(None).parse_args(sys.argv[1:])"
LAZY = "import sys; from ivr.cli import main; sys.exit(main())"
CASES = {
    "hotline --help": ["--help"],
    "hotline dialplan route 8 800 555-35-35": ["dialplan", "route", "8 800 555-35-35",
                                                "--at", "2026-11-23T13:00"],
    "hotline forecast --help": ["forecast", "--help"],
}


def run(code: str, args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([PY, "-c", code, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(f"median of {n} interleaved fresh-interpreter runs, {PY}")
    print(f"{'command':42} {'eager s':>8} {'lazy s':>8} {'ratio':>6}")
    for label, args in CASES.items():
        eager, lazy = [], []
        for _ in range(n):
            eager.append(run(EAGER, args))
            lazy.append(run(LAZY, args))
        e, z = statistics.median(eager), statistics.median(lazy)
        print(f"{label:42} {e:8.3f} {z:8.3f} {e / z:5.1f}x")


if __name__ == "__main__":
    main()
