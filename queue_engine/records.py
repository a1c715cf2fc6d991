"""The plain record the IVR hands the queue engine (ARCHITECTURE rule 3).

A frozen dataclass and nothing else: the engine must not know about IVR
sessions, sockets or the database, only what it needs to queue and route.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QueueCall"]


@dataclass(frozen=True, slots=True)
class QueueCall:
    """One caller ready for an agent.

    ``arrival_time`` is seconds on the driver's clock (e.g. ``time.time()``);
    ``priority`` higher is answered first (security incidents top); ``skill`` is a
    skill id of ``dialplans/centre.yaml``.
    """

    call_id: str
    line: str
    region: str
    language: str
    skill: str
    priority: int
    identified: bool
    arrival_time: float
