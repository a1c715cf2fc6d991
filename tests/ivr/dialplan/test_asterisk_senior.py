"""The exported escalation path (issue 9, SPEC §4): agents blind-transfer to 'senior', which
queues the caller at hotline-senior with the scenario's escalation priority; seniors log in as
a team; a specialised group as the target needs no new queue."""
from __future__ import annotations

import yaml

from tests.ivr.dialplan.test_asterisk_queues import (
    DIALPLANS,
    copy_dialplans,
    export,
    options,
    sections,
)


def _exported(tmp_path, escalation: dict | None = None):
    edits = {}
    if escalation is not None:
        raw = yaml.safe_load((DIALPLANS / "scenarios/gosuslugi.yaml").read_text())
        raw["escalation"] = escalation
        edits["scenarios/gosuslugi.yaml"] = yaml.safe_dump(raw, allow_unicode=True)
    d = copy_dialplans(tmp_path, edits)
    out = tmp_path / "out"
    assert export(d, out) == 0
    return (sections((out / "extensions.conf").read_text()),
            sections((out / "queues.conf").read_text()))


def test_agents_transfer_to_senior_which_queues_with_priority(tmp_path):
    ext, queues = _exported(tmp_path)
    senior = ext["hotline-senior"]
    assert senior[0] == "exten => s,1,Set(QUEUE_PRIO=5)"
    assert "same => n,Queue(hotline-senior)" in senior
    assert "exten => senior,1,Goto(s,1)" in senior
    agents = ext["hotline-agents"]
    assert "exten => senior,1,Goto(hotline-senior,s,1)" in agents
    assert "same => n,AddQueueMember(hotline-senior,${HOTLINE_AGENT},0)" in agents
    assert options(queues["hotline-senior"])["weight"] == ["5"]
    # the caller's HOTLINE_* variables are set once, inherited (__) and never reset here
    assert not any("HOTLINE_" in line and "Set(" in line for line in senior)


def test_escalation_with_seniors_on_the_roster_exports(tmp_path):
    ext, queues = _exported(tmp_path, {"share": 0.05, "agents": 3, "priority": 7})
    assert ext["hotline-senior"][0] == "exten => s,1,Set(QUEUE_PRIO=7)"
    assert options(queues["hotline-senior"])["weight"] == ["7"]


def test_a_specialised_group_as_target_uses_its_own_queue(tmp_path):
    ext, queues = _exported(tmp_path, {"share": 0.05, "to": "complaints"})
    assert "same => n,Queue(hotline-complaints)" in ext["hotline-senior"]
    assert "hotline-senior" not in queues
