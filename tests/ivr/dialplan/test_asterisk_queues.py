"""The exported queues route as the simulator routes (issue 11): settings from asterisk.yaml,
teams as members with the penalty their overflow delay implies, queuerules.conf raising
QUEUE_MAX_PENALTY after that delay. Checked on the exported text, against
``queue_engine.acd.routing_delays`` of the same scenario."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from ivr.cli import main
from queue_engine.acd import routing_delays
from queue_engine.model import Model
from queue_engine.scenario import load_scenario

DIALPLANS = Path(__file__).resolve().parents[3] / "dialplans"


def sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = None
    for raw in text.splitlines():
        line = raw.split(" ;", 1)[0].strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("["):
            cur = line[1:-1]
            out[cur] = []
        else:
            out[cur].append(line)
    return out


def options(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        key, value = re.split(r"\s*=>?\s*", line, maxsplit=1)
        out.setdefault(key, []).append(value)
    return out


def copy_dialplans(tmp: Path, edits: dict[str, str]) -> Path:
    """dialplans/ copied with some files (relative paths) replaced."""
    d = tmp / "dialplans"
    shutil.copytree(DIALPLANS, d)
    for name, text in edits.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def export(d: Path, out: Path) -> int:
    return main(["dialplan", "--dir", str(d), "export", "asterisk", "--out", str(out)])


def eligible_after(queue: dict, rules: dict, penalty: int) -> float | None:
    """When app_queue lets a member of ``penalty`` take a caller who entered with
    QUEUE_MAX_PENALTY=0: at once if 0, else at the first penaltychange reaching it."""
    if penalty == 0:
        return 0.0
    rule = queue.get("defaultrule", [None])[0]
    for step in rules.get(rule, []):
        sec, max_pen = options([step])["penaltychange"][0].split(",")[:2]
        if int(max_pen) >= penalty:
            return float(sec)
    return None


def exported_routing(out: Path, members_of: dict[str, str]) -> dict[tuple[str, str], float]:
    """(team, skill) -> seconds a caller waits before the team may answer, read from the
    exported queues.conf members and queuerules.conf."""
    queues = sections((out / "queues.conf").read_text())
    rules = {k: v for k, v in sections((out / "queuerules.conf").read_text()).items()
             if k != "general"}
    team_of = {iface: team for team, iface in members_of.items()}
    got = {}
    for name, lines in queues.items():
        if not name.startswith("hotline-"):
            continue
        opts = options(lines)
        assert opts["penaltymemberslimit"] == ["0"]  # penalties always count
        for member in opts.get("member", []):
            iface, pen = member.split(",")[:2]
            got[team_of[iface], name.removeprefix("hotline-")] = eligible_after(
                opts, rules, int(pen))
    return got


def simulator_routing(scenario_path: Path) -> dict[tuple[str, str], float]:
    m = Model.from_scenario(load_scenario(scenario_path))
    return {(m.teams[t], m.skills[g]): d for t, row in enumerate(routing_delays(m))
            for g, d in enumerate(row) if d is not None}


def with_members(d: Path) -> dict[str, str]:
    """asterisk.yaml with one static member per team; returns team -> interface."""
    doc = yaml.safe_load((d / "asterisk.yaml").read_text())
    teams = load_scenario(d / doc["scenario"]).teams
    members = {t: f"PJSIP/{t}-1" for t in teams}
    doc["teams"] = {t: {"members": [i]} for t, i in members.items()}
    (d / "asterisk.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    return members


@pytest.mark.parametrize("policy", ["longest_idle", "overflow"])
def test_exported_members_and_rules_route_as_the_simulator(tmp_path, policy):
    sc_text = (DIALPLANS / "scenarios/gosuslugi.yaml").read_text()
    if policy == "overflow":  # non-best teams (universal on account) after routing delay
        sc_text = sc_text.replace("routing: {policy: longest_idle,", "routing: {policy: overflow,")
        assert "policy: overflow" in sc_text
    d = copy_dialplans(tmp_path, {"scenarios/gosuslugi.yaml": sc_text})
    members = with_members(d)
    assert export(d, tmp_path / "out") == 0
    got = exported_routing(tmp_path / "out", members)
    want = simulator_routing(d / "scenarios/gosuslugi.yaml")
    assert got == want
    # the universal team: at once in the queues it covers, in medical/housing after overflow
    assert got["universal", "general"] == 0 and got["universal", "medical"] == 480
    if policy == "overflow":
        assert got["universal", "account"] == 60
    else:
        assert got["universal", "account"] == 0


def test_callers_enter_with_max_penalty_zero_and_agents_log_in_by_team(tmp_path):
    out = tmp_path / "out"
    assert export(DIALPLANS, out) == 0
    ext = sections((out / "extensions.conf").read_text())
    ivr = ext["hotline-ivr"]
    queue_at = next(i for i, s in enumerate(ivr) if "Queue(${HOTLINE_QUEUE}" in s)
    assert "same => n,Set(QUEUE_MAX_PENALTY=0)" in ivr[:queue_at]
    agents = ext["hotline-agents"]
    login = [s for s in agents if "AddQueueMember(" in s]
    # login-universal, as the first lines of its extension say, with the exported penalties
    start = agents.index("exten => login-universal,1,Set(HOTLINE_AGENT=PJSIP/${CALLERID(num)})")
    adds = {}
    for s in agents[start + 1:]:
        m = re.match(r"same => n,AddQueueMember\(hotline-(\w+),\$\{HOTLINE_AGENT\},(\d+)\)", s)
        if m is None:
            break
        adds[m[1]] = int(m[2])
    assert adds == {"general": 0, "account": 0, "status": 0, "payments": 0,
                    "medical": 1, "housing": 1}
    assert len(login) == sum(1 for s in agents if "RemoveQueueMember(" in s)


def test_queue_settings_come_from_asterisk_yaml(tmp_path):
    text = (DIALPLANS / "asterisk.yaml").read_text()
    doc = yaml.safe_load(text)
    text = text.replace("queues: {}", "queues:\n  security: {timeout: 25, wrapuptime: 30}")
    text = text.replace("  retry: 5 ", "  retry: 7 ")
    d = copy_dialplans(tmp_path, {"asterisk.yaml": text})
    assert export(d, tmp_path / "out") == 0
    queues = {k: options(v) for k, v in sections((tmp_path / "out/queues.conf").read_text())
              .items() if k.startswith("hotline-")}
    centre = yaml.safe_load((DIALPLANS / "centre.yaml").read_text())
    for name, opts in queues.items():
        security = name == "hotline-security"
        assert opts["timeout"] == ["25" if security else str(doc["queue"]["timeout"])]
        assert opts["wrapuptime"] == ["30" if security else str(doc["queue"]["wrapuptime"])]
        assert opts["retry"] == ["7"]
        assert opts["strategy"] == [doc["queue"]["strategy"]]
        assert opts["servicelevel"] == [str(centre["service_level_seconds"])]


@pytest.mark.parametrize("edit, where, message", [
    ("queues: {}", "queues:\n  nosuch: {timeout: 5}", r"queues\.nosuch: unknown skill"),
    ("strategy: leastrecent", "strategy: fastest", r"queue\.strategy: "),
    ("timeout: 15 ", "timeout: -1 ", r"queue\.timeout: "),
    ("queues: {}", "queues: {}\nteams: {nobody: {members: [PJSIP/1]}}", r"teams\.nobody: no such"),
    ("queues: {}", "queues: {}\nteams: {universal: {members: ['sip 1']}}", r"teams\.universal"),
])
def test_bad_asterisk_yaml_is_refused_with_file_and_line(tmp_path, capsys, edit, where, message):
    text = (DIALPLANS / "asterisk.yaml").read_text()
    assert edit in text
    text = text.replace(edit, where, 1)
    d = copy_dialplans(tmp_path, {"asterisk.yaml": text})
    assert export(d, tmp_path / "out") == 1
    err = capsys.readouterr().err
    line = next(i for i, s in enumerate(text.splitlines(), 1) if where.splitlines()[-1] in s)
    assert re.search(rf"asterisk\.yaml:{line}: {message}", err), err
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert main(["dialplan", "--dir", str(d), "check"]) == 1
    assert re.search(message, capsys.readouterr().err)


def test_the_embedded_acd_reads_the_same_wrapuptime(tmp_path):
    from ivr.dialplan.asterisk_queues import queue_defaults

    text = (DIALPLANS / "asterisk.yaml").read_text().replace("wrapuptime: 10 ", "wrapuptime: 25 ")
    d = copy_dialplans(tmp_path, {"asterisk.yaml": text})
    assert queue_defaults(d).wrapuptime == 25
    (d / "asterisk.yaml").unlink()  # absent file: the documented defaults
    assert queue_defaults(d).wrapuptime == 10
