"""Project-wide test fixtures.

Real components (ARCHITECTURE rule 4): a test that needs one is marked
``@pytest.mark.real("postgresql")`` (or sipp, chromium, espeak-ng, sox) or asks the
``require_real`` fixture. With ``CI=true`` a missing component FAILS the test — CI must install
it (.ci/run); on a developer's machine the test is skipped with the reason.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from glob import glob
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# No wall-clock deadlines (a loaded 2-core CI box is not a failure); in CI the examples are
# derived from the test itself, so a red run is reproducible and not a dice roll.
settings.register_profile("hotline", deadline=None, print_blob=True)
settings.register_profile("hotline-ci", deadline=None, print_blob=True, derandomize=True,
                          database=None)
settings.load_profile("hotline-ci" if IN_CI else "hotline")


def _pg_bindir() -> Path | None:
    for cand in sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "initdb").exists() and Path(cand, "postgres").exists():
            return Path(cand)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("postgres") else None


FINDERS: dict[str, Callable[[], object]] = {
    "postgresql": lambda: os.environ.get("HOTLINE_TEST_PG_URL") or _pg_bindir(),
    "sipp": lambda: shutil.which("sipp"),
    "chromium": lambda: shutil.which("chromium") or shutil.which("chromium-browser"),
    "espeak-ng": lambda: shutil.which("espeak-ng"),
    "sox": lambda: shutil.which("sox"),
}


def need(component: str):
    """Return the component's location, or fail (CI) / skip (locally) with the reason."""
    finder = FINDERS.get(component)
    if finder is None:
        raise ValueError(f"unknown real component {component!r}")
    found = finder()
    if found:
        return found
    msg = f"real component {component!r} is not installed (.ci/run installs it)"
    if IN_CI:
        pytest.fail(f"{msg}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(msg)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers(name="real"):
        for component in mark.args:
            need(component)


@pytest.fixture(autouse=True)
def _fresh_logging():
    """A CLI run in-process binds structlog to pytest's captured stream; unbind after each test."""
    yield
    import structlog

    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def require_real() -> Callable[[str], object]:
    return need


# ---- PostgreSQL: a private throwaway server per test session ---------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root: run them as the 'postgres' system user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a PostgreSQL server for the session (HOTLINE_TEST_PG_URL, or one started here)."""
    url = os.environ.get("HOTLINE_TEST_PG_URL")
    if url:
        yield url
        return
    bindir = need("postgresql")
    base = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "hotline",
                                      "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    log = base / "server.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run(_as_postgres_user([
        str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
        "-o", (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off"),
        "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://hotline@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                          "-w", "stop"]), capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hotline.db'}"
        return
    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

