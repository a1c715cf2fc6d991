"""Virtual hold: a callback keeps the caller's place in the line without a caller on it.

A caller who leaves a callback request instead of waiting keeps a *virtual place* in the line
of the skill: the priority and the arrival time they had. The place has no patience and is
never given to an agent; it only says *when* to dial. Rules (owned here, applied by
:class:`queue_engine.acd.LiveAcd`):

* Order is the line's own: higher priority first, then earlier arrival (FCFS), ties by the
  order the places were taken.
* A place is **at the head** when no live caller of its line has precedence over it and every
  place ahead of it is already being dialled. Then it is dialled (``DialCallback``) — unless as
  many places of the line are already ringing as agents are on duty for it (nobody to take
  more of them; with no agent on duty nothing is dialled).
* While the citizen's phone rings the place stays (counted in the line's EWT, shown as
  "virtual") but blocks nobody: agents go on answering live callers behind it.
* The answered leg joins the live line with the original arrival time (the place is then
  converted, :meth:`VirtualHold.drop`); an unanswered dial drops the place and the next attempt
  takes it again with the same arrival.

Places live in small sorted lists per skill (a handful at a time); a check walks them from the
head and stops at the first one that must wait, so the cost per line change is O(places dialled).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["DialCallback", "VirtualHold", "place_id"]


@dataclass(frozen=True, slots=True)
class DialCallback:
    """Callback ``callback_id``'s place reached the head of ``skill``'s line at ``at``: dial."""

    call_id: str  # the virtual place's id in the line (``cb:<callback_id>``)
    callback_id: int
    skill: str
    at: float


def place_id(callback_id: int) -> str:
    return f"cb:{callback_id}"


class VirtualHold:
    """Virtual places of every skill line (``G`` skills)."""

    def __init__(self, G: int) -> None:
        self.lines: list[list[tuple[int, float, int, int]]] = [[] for _ in range(G)]
        self.places: dict[int, tuple[int, int, float, int]] = {}  # id -> (g, prio, at, seq)
        self.ringing: set[int] = set()
        self.ringing_per: list[int] = [0] * G
        self._seq = 0

    def add(self, callback_id: int, g: int, priority: int, arrival: float) -> bool:
        """Take a place; False if this callback already holds one."""
        if callback_id in self.places:
            return False
        self._seq += 1
        self.places[callback_id] = (g, priority, arrival, self._seq)
        bisect.insort(self.lines[g], (-priority, arrival, self._seq, callback_id))
        return True

    def drop(self, callback_id: int) -> int | None:
        """Give the place up (converted to a live caller, unanswered, cancelled); its skill."""
        item = self.places.pop(callback_id, None)
        if item is None:
            return None
        g, prio, at, seq = item
        line = self.lines[g]
        i = bisect.bisect_left(line, (-prio, at, seq, callback_id))
        if i < len(line) and line[i][3] == callback_id:
            del line[i]
        if callback_id in self.ringing:
            self.ringing.discard(callback_id)
            self.ringing_per[g] -= 1
        return g

    def due(self, g: int, live_head: tuple[int, float] | None, agents: int) -> list[int]:
        """Places of line ``g`` to dial now (marked ringing). ``live_head``: (−priority,
        arrival) of the first live caller, None if nobody waits; ``agents``: on duty for it."""
        line = self.lines[g]
        out: list[int] = []
        for neg_prio, at, _, cid in line:
            if live_head is not None and live_head < (neg_prio, at):
                break  # a live caller comes first
            if cid in self.ringing:
                continue
            if self.ringing_per[g] >= agents:
                break
            self.ringing.add(cid)
            self.ringing_per[g] += 1
            out.append(cid)
        return out

    def count(self, g: int) -> int:
        return len(self.lines[g])

    def ringing_count(self, g: int) -> int:
        return self.ringing_per[g]
