"""The queue engine's hotline subcommands, through an argparse parser built as ivr/cli does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_acd_scenario import SCENARIO, write_tiny

from queue_engine.cli import register


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="hotline")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_erlang_json(capsys) -> None:
    code, out, _ = run(["erlang", "--agents", "50", "--rate", "9/min", "--aht", "300",
                        "--patience", "600", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and round(d["mean_wait"], 2) == 8.83 and round(d["p_abandon"], 4) == 0.0147


def test_erlang_overload_is_reported(capsys) -> None:
    code, _, err = run(["erlang", "--agents", "40", "--rate", "540/h", "--aht", "300"], capsys)
    assert code == 2 and "without abandonment" in err


def test_simulate_and_compare_policies(tmp_path: Path, capsys) -> None:
    f = write_tiny(tmp_path)
    code, out, _ = run(["simulate", "--scenario", str(f), "--seed", "3", "--json",
                        "--compare"], capsys)
    d = json.loads(out)
    assert code == 0 and set(d["policies"]) == {"longest_idle", "overflow"}
    rows = d["policies"]["longest_idle"]["rows"]
    assert rows[-1]["skill"] == "all" and rows[-1]["offered"] > 1000
    code, out, _ = run(["simulate", "--scenario", str(f)], capsys)
    assert code == 0 and "routing longest_idle" in out


def test_forecast_json_table_and_plot(tmp_path: Path, capsys) -> None:
    f = write_tiny(tmp_path)
    png = tmp_path / "week.png"
    code, out, _ = run(["forecast", "--scenario", str(f), "--reps", "3", "--json",
                        "--plot", str(png)], capsys)
    d = json.loads(out)
    assert code == 0 and len(d["rows"]) == 5 * 12 + 9
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(["forecast", "--scenario", str(f), "--reps", "2", "--skill", "b"],
                       capsys)
    assert code == 0 and "mean wait" in out


def test_staff_json(tmp_path: Path, capsys) -> None:
    f = write_tiny(tmp_path)
    code, out, _ = run(["staff", "--scenario", str(f), "--target", "80/20", "--reps", "2",
                        "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["agent_hours"] >= d["erlang_agent_hours"] > 0
    assert set(d["roster"]) == {"a", "b"} and d["roster"]["a"]["sun"] == [0] * 24


def test_bad_scenario_exits_2_naming_file_and_line(tmp_path: Path, capsys) -> None:
    f = write_tiny(tmp_path, SCENARIO.replace("daily_calls: {a: 200", "daily_calls: {a: -1"))
    code, _, err = run(["forecast", "--scenario", str(f), "--reps", "1"], capsys)
    assert code == 2 and f"{f}:4: arrivals.daily_calls" in err


def test_bad_target_exits_2(tmp_path: Path, capsys) -> None:
    code, _, err = run(["staff", "--scenario", str(write_tiny(tmp_path)), "--target", "x"],
                       capsys)
    assert code == 2 and "expected 80/20" in err


def test_overloaded_hour_without_abandonment_is_reported(tmp_path: Path, capsys) -> None:
    from test_acd_scenario import CENTRE

    centre = CENTRE.replace("patience: {mean: 900}}\n  b:", "patience: {mean: .inf}}\n  b:")
    sc = SCENARIO.replace("daily_calls: {a: 200", "daily_calls: {a: 2000")
    f = write_tiny(tmp_path, sc, centre)
    code, out, err = run(["simulate", "--scenario", str(f), "--json"], capsys)
    assert code == 0 and "a on mon 08:00 is overloaded" in err
    assert json.loads(out)["policies"]["longest_idle"]["rows"][0]["skill"] == "a"
