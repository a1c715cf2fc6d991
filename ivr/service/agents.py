"""Virtual agents as a SIP caller meets them: hold prompts while queued, "agent 17" answers.

The agents themselves — on shift by the scenario's roster, handle times drawn from it — are the
live ACD's (:mod:`queue_engine.acd`); :mod:`ivr.service.acd` runs their timers. This module is
the SIP endpoint's ``on_enqueue`` hook (see :mod:`ivr.drivers.sip`): the caller hears the hold
prompt in a loop until an agent takes the call, then the agent's announcement (prompt
``agent_answers`` when recorded, then the agent's number in words) and the line stays up for
the drawn talk time; the ACD's release ends the call (the endpoint sends BYE). A caller's BYE
while waiting is an abandonment, while talking the end of an answered call.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ivr.service.acd import AcdService

HOLD_PROMPT = "connecting"
AGENT_PROMPT = "agent_answers"


def agent_number(agent: str) -> int | None:
    tail = agent.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def announcement(hotline: Any, agent: str, lang: str) -> tuple[str, ...]:
    """Prompt ids for "agent N speaking" (the number said by the IVR's own speaker)."""
    n = agent_number(agent)
    words = tuple(hotline.speaker.number(n, lang)) if n is not None else ()
    return (AGENT_PROMPT, *words)


def sip_hook(service: AcdService, hotline: Any, hold_prompt: str = HOLD_PROMPT) -> Any:
    """The ``on_enqueue(call, enqueue)`` coroutine for :class:`ivr.drivers.sip.SipEndpoint`."""

    async def on_enqueue(call: Any, enqueue: Any) -> None:
        ticket = service.enqueue(call.session, enqueue)
        lang = call.session.lang
        codec = call.stream.codec
        hold = call.prompts.get(hold_prompt, lang, codec)
        try:
            while not ticket.answered.done():
                if not hold:
                    await asyncio.wait({ticket.answered})
                    break
                playing = asyncio.ensure_future(call.stream.play(hold))
                await asyncio.wait({ticket.answered, playing},
                                   return_when=asyncio.FIRST_COMPLETED)
                if not playing.done():
                    call.stream.stop_playback()
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await playing
            if ticket.answered.cancelled() or ticket.answered.exception() is not None:
                return  # the service stopped, or the call already has its outcome
            for prompt in announcement(hotline, ticket.answered.result(), lang):
                payloads = call.prompts.get(prompt, lang, codec)
                if payloads:
                    await call.stream.play(payloads)
            try:
                await asyncio.shield(ticket.released)
            except ConnectionAbortedError:
                return
            except asyncio.CancelledError:
                if ticket.released.cancelled():  # the service stopped: outcome written
                    return
                raise
        except asyncio.CancelledError:
            service.hangup(call.call_id, "caller hung up")
            raise

    return on_enqueue
