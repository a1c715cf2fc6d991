"""What one replication returns: flat per-attempt arrays (statistics come later, in numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ABANDONED", "ANSWERED", "CALLBACK_TAKEN", "CLOSED", "UNFINISHED", "SimResult"]

ANSWERED, ABANDONED, CLOSED, CALLBACK_TAKEN, UNFINISHED = 0, 1, 2, 3, 4


@dataclass
class SimResult:
    """Per attempt (fresh calls, retrials and callbacks alike), times in seconds."""

    arrival: np.ndarray
    skill: np.ndarray
    outcome: np.ndarray  # ANSWERED / ABANDONED / CLOSED / CALLBACK_TAKEN / UNFINISHED
    wait: np.ndarray  # to answer or abandonment; nan otherwise
    service: np.ndarray  # handle time when answered, else nan
    team: np.ndarray  # answering team or -1
    attempt: np.ndarray  # 1 = first call, 2.. = retrials
    callback: np.ndarray  # bool: an outbound callback attempt
    ahead: np.ndarray | None = None  # trace: live callers waiting in the skill on arrival
    asterisk_h: np.ndarray | None = None  # trace: app_queue holdtime estimate on arrival
    hol: np.ndarray | None = None  # trace: head-of-line delay on arrival
    parent: np.ndarray | None = None  # attempt this one follows (-1 for a fresh call)
    events: int = 0
    path: str = ""  # which engine ran: kiefer-wolfowitz / event-loop / hybrid: …
