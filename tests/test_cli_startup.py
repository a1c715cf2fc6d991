"""`hotline` imports only what the invoked command needs (issue 8: start-up time).

Not a timing test (figures: bench/cli_startup.py): it checks which heavy libraries a command
drags in, in a fresh interpreter, which is what the wall time is made of.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "scipy", "sqlalchemy", "matplotlib", "pydantic", "alembic")
PROBE = """
import contextlib, io, json, sys
from ivr.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def loaded(*args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library():
    assert loaded("--help") == set()


@pytest.mark.parametrize(("args", "own"), [(("forecast", "--help"), "--scenario"),
                                           (("db", "--help"), "upgrade"),
                                           (("call", "--help"), "--keys")])
def test_a_commands_help_lists_its_options(args, own, capsys):
    from ivr.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(args))
    assert exc.value.code == 0
    assert own in capsys.readouterr().out  # its own options, not the stub's


def test_routing_a_number_needs_no_database_nor_numbers_library():
    assert loaded("dialplan", "route", "88005553535", "--at", "2026-11-23T13:00") <= {"pydantic"}


def test_every_command_is_listed_in_help(capsys):
    from ivr.cli import COMMANDS, main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
