"""``Originate`` with ``Async: true`` and its outcome (callbacks, notifications).

Asterisk answers an async Originate at once with "successfully queued"; the outcome comes later
as the ``OriginateResponse`` event carrying the same ActionID (``Reason: 4`` answered, ``0``
failed, ``1`` no such extension, ``3`` no answer, ``5`` busy, ``8`` congestion).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from ivr.drivers.ami.codec import Message
from ivr.drivers.ami.connection import AMIConnection, AMIDisconnected, AMIError

NOT_SENT = "not sent: AMI link down"
log = structlog.get_logger("ivr.drivers.ami.originate")


@dataclass
class OriginateResult:
    answered: bool
    reason: int  # 4 answered, 0 failed, 1 no such extension, 3 no answer, 5 busy, 8 congestion
    uniqueid: str | None = None
    channel: str | None = None
    message: Message | None = None


class Originator:
    """Matches ``OriginateResponse`` events to our Originate actions by ActionID."""

    def __init__(self, conn: AMIConnection) -> None:
        self.conn = conn
        self._waiting: dict[str, asyncio.Future] = {}
        conn.subscribe(self._on_message)

    @property
    def pending(self) -> int:
        return len(self._waiting)

    def _on_message(self, m: Message) -> None:
        if m.event == "OriginateResponse":
            fut = self._waiting.get(m.get("ActionID") or "")
            if fut is not None and not fut.done():
                fut.set_result(m)

    async def originate(
        self, channel: str, *, application: str | None = None, data: str | None = None,
        context: str | None = None, exten: str | None = None, priority: int = 1,
        caller_id: str | None = None, variables: dict[str, str] | None = None,
        timeout_s: float = 30.0, channel_id: str | None = None,
    ) -> OriginateResult:
        """``Originate`` with ``Async: true``; the outcome is the ``OriginateResponse`` event
        with our ActionID (``Reason: 4`` answered, ``0`` failed)."""
        fields: list[tuple[str, str]] = [("Channel", channel)]
        if application:
            fields += [("Application", application), ("Data", data or "")]
        else:
            fields += [("Context", context or ""), ("Exten", exten or ""),
                       ("Priority", str(priority))]
        if caller_id:
            fields.append(("CallerID", caller_id))
        fields += [("Async", "true"), ("Timeout", str(int(timeout_s * 1000)))]
        fields += [("Variable", f"{k}={v}") for k, v in (variables or {}).items()]
        if channel_id:
            fields.append(("ChannelId", channel_id))
        aid = self.conn.next_action_id()
        fut = asyncio.get_running_loop().create_future()
        self._waiting[aid] = fut
        try:
            if not self.conn.ready:
                return OriginateResult(False, -1, message=NOT_SENT)
            try:
                await self.conn.send_action("Originate", fields, action_id=aid)
            except AMIDisconnected:  # never acknowledged: Asterisk did not dial
                return OriginateResult(False, -1, message=NOT_SENT)
            m = await asyncio.wait_for(fut, timeout_s + 10)
        except AMIError as exc:
            log.warning("originate.refused", error=str(exc))
            return OriginateResult(False, 0, message=exc.message)
        except (TimeoutError, AMIDisconnected) as exc:
            log.warning("originate.unknown", error=repr(exc))
            return OriginateResult(False, -1)
        finally:
            self._waiting.pop(aid, None)
        reason = int(m.get("Reason", "0") or 0) if (m.get("Reason") or "0").isdigit() else 0
        uid = m.get("Uniqueid")
        return OriginateResult(reason == 4, reason, None if uid == "<unknown>" else uid,
                               m.get("Channel"), m)
