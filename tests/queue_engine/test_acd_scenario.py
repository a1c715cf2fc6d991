"""Scenario files: the shipped ones load; bad ones are refused naming file, line and key."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from queue_engine.model import Model
from queue_engine.scenario import ScenarioError, load_centre, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SKILLS = {"account", "status", "documents", "payments", "tech", "pf", "social", "tax",
          "medical", "housing", "complaints", "orgs", "security", "general"}

CENTRE = """\
hours: {mon: [8, 20], tue: [8, 20], wed: [8, 20], thu: [8, 20], fri: [8, 20],
        sat: [9, 18], sun: closed}
skills:
  a: {name: A, aht: {mean: 300, cv: 0.8}, patience: {mean: 900}}
  b: {name: B, aht: {mean: 200}, patience: {mean: 900}, priority: 5}
"""
SCENARIO = """\
name: tiny
centre: centre.yaml
arrivals:
  daily_calls: {a: 200, b: 50}
  days: {mon: 1, tue: 1, wed: 1, thu: 1, fri: 1, sat: 0.5, sun: 0}
  profile:
    weekday: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    sat:     [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
teams:
  ab:
    skills: {a: 1.0, b: 1.0}
    roster:
      weekday: [0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0]
      sat:     [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0]
"""


def write_tiny(tmp: Path, scenario: str = SCENARIO, centre: str = CENTRE) -> Path:
    (tmp / "centre.yaml").write_text(centre, encoding="utf-8")
    f = tmp / "tiny.yaml"
    f.write_text(scenario, encoding="utf-8")
    return f


def test_shipped_centre_has_the_menu_skills_and_hours() -> None:
    c = load_centre()
    assert set(c.skills) == SKILLS
    assert c.skills["security"].always_open and c.skills["security"].priority == max(
        s.priority for s in c.skills.values())
    assert c.hours["mon"] == (8, 20) and c.hours["sat"] == (9, 18) and c.hours["sun"] is None


def test_shipped_default_scenario_compiles() -> None:
    m = Model.from_scenario(load_scenario())
    assert m.lam.shape == (14, 168) and (m.lam >= 0).all()
    assert m.staff.sum() > 0


def _refusal(tmp_path: Path, old: str, new: str, target: str = "scenario") -> ScenarioError:
    sc, ce = SCENARIO, CENTRE
    if target == "scenario":
        assert old in sc
        sc = sc.replace(old, new)
    else:
        assert old in ce
        ce = ce.replace(old, new)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_tiny(tmp_path, sc, ce))
    return info.value


def test_negative_rate_names_file_line_key(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "daily_calls: {a: 200", "daily_calls: {a: -5")
    assert err.file.endswith("tiny.yaml") and err.line == 4
    assert "daily_calls" in err.key and "negative" in err.reason
    assert str(err).startswith(f"{err.file}:4:")


def test_cv_not_positive_is_refused_in_the_centre_file(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "cv: 0.8", "cv: 0", target="centre")
    assert err.file.endswith("centre.yaml") and err.line == 4
    assert err.key == "skills.a.aht.cv" and "greater than 0" in err.reason


def test_zero_agents_on_an_open_hour_with_calls(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "      sat:     [0, 0, 0, 0, 0, 0, 0, 0, 0, 3",
                   "      sat:     [0, 0, 0, 0, 0, 0, 0, 0, 0, 0")
    assert err.line == 14 and err.key == "teams.ab.roster.sat.9"
    assert "zero agents" in err.reason and "sat 09:00" in err.reason


def test_unknown_skill_in_team(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "skills: {a: 1.0, b: 1.0}", "skills: {a: 1.0, zz: 1.0}")
    assert err.line == 11 and err.key == "teams.ab.skills.zz"


def test_unknown_key_and_broken_yaml(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "name: tiny", "name: tiny\nfoo: 1")
    assert err.line == 2 and err.key == "foo"
    err = _refusal(tmp_path, "name: tiny", "name: [tiny")
    assert err.line is not None and "not valid YAML" in err.reason


def test_queue_engine_never_imports_ivr() -> None:
    for f in (ROOT / "queue_engine").rglob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "ivr" or n.startswith("ivr.") for n in names), f


def test_duplicate_key_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    err = _refusal(tmp_path, "  days: {mon: 1,", "  daily_calls: {a: 1}\n  days: {mon: 1,")
    assert err.line == 5 and err.key == "arrivals.daily_calls"
    assert "duplicate key (first on line 4)" in err.reason


def test_skill_names_and_priorities_come_from_the_dialplans_skills_yaml() -> None:
    """One list of skills for the IVR, the Asterisk export and the queue engine."""
    import yaml

    from queue_engine.scenario import DIALPLANS

    spec = yaml.safe_load((DIALPLANS / "skills.yaml").read_text(encoding="utf-8"))["skills"]
    centre = load_centre()
    assert set(centre.skills) == set(spec)
    for sid, s in centre.skills.items():
        assert s.priority == spec[sid].get("priority", 0)
        assert (s.name, s.name_en) == (spec[sid]["name"]["ru"], spec[sid]["name"]["en"])
    assert max(centre.skills, key=lambda s: centre.skills[s].priority) == "security"


def test_a_skill_missing_from_skills_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "skills.yaml").write_text("skills:\n  a: {name: {ru: А, en: A}}\n",
                                          encoding="utf-8")
    body = CENTRE.replace("  a: {name: A, ", "  a: {").replace("  b: {name: B, ", "  b: {")
    body = body.replace(", priority: 5", "")
    (tmp_path / "centre.yaml").write_text("skills_from: skills.yaml\n" + body, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_centre(tmp_path / "centre.yaml")
    assert "centre.yaml" in str(err.value) and "skills.b" in str(err.value)
    assert "not a skill of skills.yaml" in str(err.value)
