"""Virtual citizens for ``hotline demo``: the phones our callbacks ring.

An :class:`~ivr.service.callbacks.Outbound` with no network: each dial rings for a drawn time
and is answered with probability ``answer_p`` (else it rings out at the timeout: SPEC §6's next
attempt follows). An answered leg runs its session as the SIP endpoint would — the greeting
plays (``PROMPT_S`` simulated seconds a prompt), its ``Enqueue`` joins the live ACD at the
caller's original place, and the citizen stays on the line until the agent releases the call.
Time is the service clock's (simulated, ``speed`` times faster).
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import numpy as np

from ivr.call.protocol import Enqueue, Play
from ivr.service.acd import AcdService
from ivr.service.callbacks import DialResult

PROMPT_S = 3.0


class VirtualCitizens:
    """See the module docstring. ``ring_s``: (low, high) of the uniform ring time."""

    def __init__(self, acd: AcdService, *, answer_p: float = 0.75,
                 ring_s: tuple[float, float] = (4.0, 25.0), seed: int = 0) -> None:
        self.acd, self.clock = acd, acd.clock
        self.answer_p, self.ring_s = answer_p, ring_s
        self.rng = np.random.default_rng(seed)
        self.dials: list[str] = []
        self._legs: set[asyncio.Task] = set()

    async def originate(self, number: str, session: Any, *, timeout_s: float) -> DialResult:
        self.dials.append(number)
        ring = float(self.rng.uniform(*self.ring_s))
        answers = bool(self.rng.random() < self.answer_p) and ring < timeout_s
        await asyncio.sleep(self.clock.real(ring if answers else timeout_s))
        if not answers:
            return DialResult(False, 480, "no_answer")
        leg = asyncio.get_running_loop().create_task(self._leg(session))
        self._legs.add(leg)
        leg.add_done_callback(self._legs.discard)
        return DialResult(True, 200, "answered")

    async def _leg(self, session: Any) -> None:
        commands = session.start(self.clock.now())
        said = sum(len(c.prompts) for c in commands if isinstance(c, Play))
        enqueue = next((c for c in commands if isinstance(c, Enqueue)), None)
        await asyncio.sleep(self.clock.real(said * PROMPT_S))
        if enqueue is None or self.acd.closing:
            return
        ticket = self.acd.enqueue(session, enqueue)
        with contextlib.suppress(asyncio.CancelledError, ConnectionAbortedError):
            await ticket.released
