"""One call's SIP dialog state, for calls we answered (UAS) and calls we placed (UAC).

The endpoint keeps every dialog by Call-ID, so a BYE, INFO or RTP timeout is handled the same
whichever side sent the INVITE. A UAS dialog derives its in-dialog requests from the caller's
INVITE (``invite``); a UAC dialog (:mod:`.outbound`) carries them itself: our ``From`` with
our tag (``local``), the callee's ``To`` with theirs (``remote``), its ``Contact`` (``target``)
and the route set (``routes``, the answer's ``Record-Route`` reversed, RFC 3261 §12.1.2).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.drivers.sip import message as sipmsg

if TYPE_CHECKING:
    from ivr.drivers.sip.call import SipCall
    from ivr.drivers.sip.media import RtpStream
    from ivr.drivers.sip.transaction import Retransmitter


@dataclass
class Dialog:
    invite: sipmsg.Message  # the caller's INVITE (UAS), the callee's 2xx (UAC)
    dest: tuple[str, int]
    tag: str
    stream: RtpStream | None = None
    call: SipCall | None = None
    answer: Retransmitter | None = None
    bye: Retransmitter | None = None
    cseq: int = 1
    answered: bool = False
    sdp_answer: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)
    uac: bool = False
    local: str = ""
    remote: str = ""
    target: str = ""
    routes: tuple[str, ...] = ()

    def bye_parts(self) -> tuple[str, str, str, tuple[str, ...]]:
        """``From``, ``To``, Request-URI and ``Route`` values for our BYE."""
        if self.uac:
            return self.local, self.remote, self.target, self.routes
        inv = self.invite
        to = inv.header("To")
        ours = to if ";tag=" in to else f"{to};tag={self.tag}"
        target = sipmsg.uri_of(inv.header("Contact")) or sipmsg.uri_of(inv.header("From"))
        return ours, inv.header("From"), target, tuple(inv.all("Record-Route"))
