"""Bad dialplan input: file, line and value named, exit 1, never a traceback."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def plan(tmp_path):
    d = tmp_path / "dialplans"
    shutil.copytree(ROOT / "dialplans", d)
    return d


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def check(plan, capsys):
    rc = main(["dialplan", "--dir", str(plan), "check"])
    err = capsys.readouterr().err
    return rc, err


def test_the_shipped_dialplan_is_valid(capsys):
    assert main(["dialplan", "check"]) == 0
    assert "15 numbers" in capsys.readouterr().out


@pytest.mark.parametrize("file, old, new, needle, message", [
    ("numbers.yaml", '"8 800 555-35-40": {line: regional',
     '"8-800-555-35-35": {line: regional', '"8-800-555-35-35"', "duplicate number +78005553535"),
    ("numbers.yaml", '{line: tax_consult,', '{line: tax_consul,', "tax_consul",
     "unknown line 'tax_consul'"),
    ("numbers.yaml", 'region: siberia}', 'region: sibiria}', "sibiria", "unknown region 'sibiria'"),
    ("numbers.yaml", '"8 800 100-70-70"', '"8 800 100-70"', '"8 800 100-70"', "9 digits"),
    ("lines.yaml", "schedule: daily_08_20           # 002/004",
     "schedule: daily_8_20           # 002/004", "daily_8_20", "unknown schedule 'daily_8_20'"),
    ("lines.yaml", "  skill: security", "  skill: securty", "securty", "unknown skill 'securty'"),
    ("lines.yaml", "languages: [ru, en]", "languages: [ru, de]", "[ru, de]",
     "language 'de' is not offered"),
    ("schedules.yaml", 'mon-fri: "08:00-20:00", sat: "09:00-18:00", sun: closed, holidays: closed}',
     'mon-fri: "20:00-08:00", sat: "09:00-18:00", sun: closed, holidays: closed}', '"20:00-08:00"',
     "impossible hours '20:00-08:00'"),
    ("schedules.yaml", 'hours: {daily: "08:00-20:00"}', 'hours: {daily: "08:00-25:00"}',
     "25:00", "no such time of day"),
    ("schedules.yaml", 'hours: {daily: "00:00-24:00"}', 'hours: {daily: closed}',
     "hours: {daily: closed}", "never opens"),
    ("schedules.yaml", 'sat: closed, sun: closed, holidays: closed}',
     'sun: closed, holidays: closed}', 'mon-fri: "09:00-18:00", sun', "no hours for sat"),
    ("schedules.yaml", '"2026-11-03": "08:00-19:00"', '"2026-11-03": "8 to 7"', "8 to 7",
     "hours must look like"),
    ("holidays.yaml", '"2026-02-23":', '"2026-02-30":', "2026-02-30", "date"),
    ("skills.yaml", "  pf:         {name:", "  pf:         {nam:", "{nam:", "unknown key"),
])
def test_bad_value_names_file_line_and_value(plan, capsys, file, old, new, needle, message):
    path = plan / file
    edit(path, old, new)
    rc, err = check(plan, capsys)
    assert rc == 1
    expected = f"{path}:{line_of(path, needle)}:"
    assert any(ln.startswith(expected) and message in ln for ln in err.splitlines()), err
    assert "Traceback" not in err


def test_malformed_yaml_names_the_line(plan, capsys):
    path = plan / "lines.yaml"
    edit(path, "    menu: tax\n", "    menu: [tax\n")
    rc, err = check(plan, capsys)
    assert rc == 1 and re.search(rf"{re.escape(str(path))}:\d+: YAML syntax", err), err


def test_duplicate_yaml_key_is_an_error_not_a_silent_overwrite(plan, capsys):
    path = plan / "lines.yaml"
    edit(path, "  tax_consult:\n", "  tax:\n")
    rc, err = check(plan, capsys)
    assert rc == 1 and "duplicate key" in err


def test_missing_file_is_reported(plan, capsys):
    (plan / "holidays.yaml").unlink()
    rc, err = check(plan, capsys)
    assert rc == 1 and "holidays.yaml: cannot read" in err


def test_console_script_prints_no_traceback(plan):
    edit(plan / "numbers.yaml", "{line: tax_consult,", "{line: nope,")
    proc = subprocess.run([sys.executable, "-m", "ivr.cli", "dialplan", "--dir", str(plan), "check"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 1
    assert "unknown line 'nope'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("number, message", [
    ("8 800 555", "7 digits"), ("8 800 000-00-00", "not a hotline number"), ("abc", "unexpected"),
])
def test_route_of_a_bad_number_exits_1_with_a_message(capsys, number, message):
    assert main(["dialplan", "route", number]) == 1
    assert message in capsys.readouterr().err


def test_per_line_override_changes_only_that_line(plan, capsys):
    edit(plan / "lines.yaml", "    menu: complaints\n    languages: [ru]\n",
         '    menu: complaints\n    languages: [ru]\n    overrides: {"2026-11-23": "10:00-12:00"}\n')
    from datetime import datetime

    from ivr.dialplan.model import load_dialplan

    dp = load_dialplan(plan)
    monday_9 = datetime(2026, 11, 23, 9, 0)
    assert dp.route("8 800 555-88-88", monday_9).open is False  # complaints: opens at 10 today
    assert dp.route("8 800 555-88-88", monday_9).next_open.hour == 10
    assert dp.route("8 800 555-35-35", monday_9).open is True  # federal keeps 08-20
    edit(plan / "lines.yaml", '"2026-11-23": "10:00-12:00"', '"2026-11-23": "12:00-10:00"')
    rc, err = check(plan, capsys)
    assert rc == 1 and "lines.complaints.overrides.2026-11-23: impossible hours" in err


@pytest.mark.parametrize("argv", [
    ["dialplan", "route", "102", "--at", "yesterday"],
    ["call", "102", "--at", "tomorrow noon", "--keys", "1"],
])
def test_bad_moment_is_a_usage_error_not_a_traceback(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not an ISO time" in err and "Traceback" not in err
