"""One zone for the IVR and the ACD (issue 11): ``hotline dialplan check`` refuses a centre.yaml
whose ``timezone`` is not schedules.yaml's, and accepts both moved together."""
from __future__ import annotations

import shutil
from pathlib import Path

from ivr.cli import main

DIALPLANS = Path(__file__).resolve().parents[3] / "dialplans"


def _zone(d: Path, name: str, zone: str) -> None:
    p = d / name
    p.write_text(p.read_text(encoding="utf-8").replace("timezone: Europe/Moscow",
                                                       f"timezone: {zone}"), encoding="utf-8")


def test_centre_and_dialplan_zones_must_agree(tmp_path, capsys):
    d = tmp_path / "dialplans"
    shutil.copytree(DIALPLANS, d)
    _zone(d, "centre.yaml", "Asia/Vladivostok")
    assert main(["dialplan", "--dir", str(d), "check"]) == 1
    assert "centre.yaml: timezone: Asia/Vladivostok differs from schedules.yaml's " \
           "Europe/Moscow" in capsys.readouterr().err
    _zone(d, "schedules.yaml", "Asia/Vladivostok")
    assert main(["dialplan", "--dir", str(d), "check"]) == 0
