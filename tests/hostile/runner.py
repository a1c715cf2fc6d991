"""Run hostile ``hotline`` invocations in subprocesses: count tracebacks, hangs, exit codes."""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    code: int | None  # None: killed after the timeout (a hang)
    traceback: bool
    stderr_tail: str

    @property
    def unhandled(self) -> bool:
        """Ended by ``hotline``'s last-resort printer: no traceback, but no proper message."""
        return '"command_failed"' in self.stderr_tail or "command_failed" in self.stderr_tail

    @property
    def hang(self) -> bool:
        return self.code is None


def run_one(argv: list[str], env: dict[str, str], timeout: float) -> Outcome:
    cmd = [sys.executable, "-m", "ivr.cli", *argv]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        err = (exc.stderr or b"").decode("utf-8", "replace")
        return Outcome(tuple(argv), None, "Traceback" in err, err[-300:])
    err = proc.stderr.decode("utf-8", "replace")
    return Outcome(tuple(argv), proc.returncode, "Traceback (most recent call last)" in err,
                   err[-300:])


def run_all(cases: list[list[str]], workdir: Path, *, timeout: float = 40.0,
            workers: int = 4) -> list[Outcome]:
    env = {**os.environ, "HOTLINE_DB_URL": f"sqlite:///{workdir / 'hostile.db'}",
           "HOTLINE_SECRET": "hostile-suite-secret-0123456789", "PYTHONIOENCODING": "utf-8",
           "HOTLINE_SECRET_FILE": str(workdir / "secret")}
    argvs = [[a.replace("{d}", str(workdir)) for a in argv] for argv in cases]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda a: run_one(a, env, timeout), argvs))
