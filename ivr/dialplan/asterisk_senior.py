"""The senior group in the Asterisk export (SPEC §4 escalation, issue 9).

An agent escalates a caller by a **blind transfer to ``senior``** — his phone's transfer key
(SIP REFER) or the blind-transfer feature code — from his context ``[hotline-agents]``:
``exten => senior`` sends the caller into ``[hotline-senior]``, which queues him at
``hotline-senior`` with the scenario's ``escalation.priority`` (``QUEUE_PRIO``). The caller's
channel is the same channel, so every ``HOTLINE_*`` variable (DID, line, region, menu,
language) stays on it; the bridge notes the transfer from Asterisk's ``BlindTransfer`` event
and the senior's answer from the queue's ``AgentConnect``, and the record shows the IVR path
and identification result (``ivr.drivers.ami.transfers``).

The queue ``hotline-senior`` has the default queue options of ``asterisk.yaml`` (or its
``queues: {senior: …}`` override) and no static members: seniors log in with
``login-senior`` like any team. When the scenario's ``escalation.to`` is an existing skill (a
specialised group) the transfer goes to that skill's queue and no new queue is made.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ivr.dialplan.asterisk_queues import QueueConfig, QueuePlan, queue_name

__all__ = ["TARGET", "agents_target", "escalation_of", "senior_context", "with_senior_plan"]

TARGET = "senior"  # what an agent transfers to (an extension of [hotline-agents])
CONTEXT = "hotline-senior"


def escalation_of(directory: str | Path, cfg: QueueConfig) -> Any:
    """The scenario's ``escalation`` section (the scenario ``asterisk.yaml`` names)."""
    from queue_engine.scenario import load_scenario

    return load_scenario(Path(directory) / cfg.file.scenario).escalation


def with_senior_plan(cfg: QueueConfig, esc: Any) -> QueueConfig:
    """``cfg`` with the senior queue (team ``senior`` at penalty 0) when it is a new group."""
    if esc.to in cfg.plans:  # a skill of the centre, or already added
        return cfg
    options = cfg.file.queues.get(esc.to) or cfg.file.queue
    plan = QueuePlan(esc.to, options, ((esc.to, 0, 0.0),), ())
    return replace(cfg, plans={**cfg.plans, esc.to: plan})


def senior_context(esc: Any) -> list[str]:
    """``[hotline-senior]`` and the agents' transfer target ``senior``."""
    return [
        f"[{CONTEXT}]",
        "; escalation (SPEC §4): agents blind-transfer callers here; the channel keeps its",
        "; HOTLINE_* variables, the bridge records the transfer (BlindTransfer)",
        f"exten => s,1,Set(QUEUE_PRIO={esc.priority})  ; scenario escalation.priority",
        " same => n,Set(QUEUE_MAX_PENALTY=0)",
        f" same => n,Queue({queue_name(esc.to)})",
        " same => n,Hangup()",
        f"exten => {TARGET},1,Goto(s,1)",
        "",
    ]


def agents_target() -> list[str]:
    """Lines of ``[hotline-agents]``: the extension an agent transfers a caller to."""
    return ["; an agent escalates by a blind transfer to 'senior' (SPEC §4)",
            f"exten => {TARGET},1,Goto({CONTEXT},s,1)", ""]
