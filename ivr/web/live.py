"""What the dashboard reads: the running service's live figures (``ivr.service.board``).

The web app never computes a queue figure itself (ARCHITECTURE rule 8): it shows the snapshot
the live ACD's board builds and is woken by the board when something changes.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

GROUP_KEYS = ("skill", "name", "waiting", "longest_wait_s", "agents", "ewt_s", "answered",
              "abandoned", "short_abandoned", "service_level", "asa_s", "aht_s",
              "abandon_rate", "occupancy")
LINE_KEYS = ("line", "region", "in_ivr", "queued", "self_service_share")


@runtime_checkable
class LiveSource(Protocol):
    """``snapshot()`` — JSON-able::

        {"at": iso8601, "sl_definition": str,
         "groups": [{"skill", "name", "waiting", "longest_wait_s",
                     "agents": {"available", "on_call", "wrap_up"}, "ewt_s", "answered",
                     "abandoned", "short_abandoned", "service_level", "asa_s", "aht_s",
                     "abandon_rate", "occupancy"}],
         "lines": [{"line", "region", "in_ivr", "queued", "self_service_share"}],
         "callbacks": {"pending", "completed"}}

    ``subscribe()`` — a fresh snapshot on every change, coalesced (and at least one a second).
    """

    def snapshot(self) -> dict: ...

    def subscribe(self) -> AsyncIterator[dict]: ...
