"""Calls we place (UAC): ``await endpoint.originate(number, session)`` → :class:`OriginateResult`.

The callee is ``sip:<number>@<gateway>``: the ``outbound="sip:[user:password@]host:port"``
route, else the registration's ``upstream``; every request of the call goes to that address
(an outbound proxy, as trunks expect). Rules, RFC 3261:

* ``number`` is the dialler's normalised E.164: anything but ``+`` and digits is refused
  (``ValueError``) before a byte is sent, so no URI parameter or header can ride in on it.
* One INVITE client transaction (§17.1.1): retransmitted at T1, 2·T1, 4·T1… until a response;
  no response in 64·T1 (Timer B) → ``unreachable`` (code 0). A 401/407 is ACKed and answered
  by ONE new INVITE (same Call-ID and From tag, CSeq + 1) carrying the digest of
  :func:`.registration.digest`; a second challenge is ``rejected``. No other INVITE is ever sent.
* Every non-2xx final is ACKed hop by hop (the INVITE's branch, To with the callee's tag, §17.1.1.3)
  and re-ACKed if repeated: 486/600 → ``busy``, 408/480/487 → ``no_answer``, other → ``rejected``.
* Ring timeout (``timeout_s`` from the first INVITE) → CANCEL (§9.1: only once a provisional
  came; if none has, the peer never spoke: ``unreachable``, and a late provisional still gets
  its CANCEL); the 487 is ACKed → ``no_answer``. A 2xx racing the CANCEL wins: the citizen
  picked up, the call goes on.
* A 2xx is ACKed end to end (new branch, to its ``Contact``, ``Route`` = ``Record-Route``
  reversed, same credentials, §13.2.2.4), re-ACKed on every retransmission. The media comes
  from its SDP; the call becomes one of the endpoint's dialogs (:mod:`.dialog`), so BYE either
  way, keys, RTP timeout, ``on_enqueue`` and ``stop()`` behave as for a call we answered, and a
  :class:`.call.SipCall` runs ``session`` (started only now). A 2xx after we gave up is ACKed
  and BYE'd.
* ``originate`` returns as soon as the outcome is known — at the answer (the call goes on in
  the background) or at the failure; cancelling it CANCELs the call.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from ivr.citizens.checksums import mask_tail
from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip import sdp
from ivr.drivers.sip.dialog import Dialog
from ivr.drivers.sip.registration import Upstream, digest
from ivr.drivers.sip.transaction import Retransmitter

log = structlog.get_logger("ivr.drivers.sip.outbound")
NUMBER = re.compile(r"\+?[0-9]{2,20}")
BUSY, NO_ANSWER = {486, 600}, {408, 480, 487}
EVENT_PT = 101


@dataclass(frozen=True)
class OriginateResult:
    """``code``: the final SIP status (0: none came); ``sent``: False if no INVITE left us
    (no route, endpoint stopped) — the attempt may be given back."""

    answered: bool
    code: int
    reason: str  # answered, busy, no_answer, rejected, unreachable, failed
    sent: bool = True


def reason_for(code: int) -> str:
    if 200 <= code < 300:
        return "answered"
    return "busy" if code in BUSY else "no_answer" if code in NO_ANSWER else "rejected"


def dial_uri_user(number: str) -> str:
    """The number as the Request-URI's user part, or ``ValueError``."""
    if not isinstance(number, str) or not NUMBER.fullmatch(number):
        raise ValueError("originate: the number must be + and digits only (normalised E.164)")
    return number


class ClientInvite:
    """The INVITE, ACK and CANCEL transactions of one originate, as a state machine fed with
    responses (:meth:`feed`); :attr:`result` resolves once the outcome is known."""

    def __init__(self, *, send: Callable[[bytes], None], local: tuple[str, int], contact: str,
                 gateway: Upstream, number: str, offer: bytes, t1: float,
                 on_late_answer: Callable[[sipmsg.Message], None],
                 caller_id: str | None = None) -> None:
        self.send, self.local, self.contact, self.gw = send, local, contact, gateway
        self.offer, self.t1, self.on_late_answer = offer, t1, on_late_answer
        self.call_id = f"{secrets.token_hex(10)}@{local[0]}"
        self.tag = sipmsg.new_tag()
        self.uri = f"sip:{number}@{gateway.host}:{gateway.port}"
        self.frm = f"<sip:{gateway.user or 'hotline'}@{gateway.host}>;tag={self.tag}"
        self.to = f"<sip:{number}@{gateway.host}>"
        # the number the citizen sees (RFC 3325, as carriers take it from a trusted trunk); the
        # From user stays the account the trunk authenticates
        self.identity = [("P-Asserted-Identity", f"<sip:{caller_id}@{gateway.host}>")] \
            if caller_id else []
        self.cseq = 0
        self.invites = 0  # INVITE requests built (1, or 2 after a digest challenge)
        self.auth: tuple[str, str] | None = None
        self.vias: dict[int, str] = {}
        self.acks: dict[int, bytes] = {}
        self.ack_2xx: bytes | None = None
        self.answer: sipmsg.Message | None = None
        self.provisional = 0  # the last 1xx status
        self.cancel_wanted = False
        self.result: asyncio.Future[OriginateResult] = \
            asyncio.get_running_loop().create_future()
        self._tx: Retransmitter | None = None
        self._cancel: Retransmitter | None = None
        self._timers: list[asyncio.TimerHandle] = []

    # ---- requests ----------------------------------------------------------------------------
    def start(self, timeout_s: float) -> None:
        self._invite()
        self._timers.append(asyncio.get_running_loop().call_later(timeout_s, self.abort))

    def _invite(self) -> None:
        self.cseq += 1
        self.invites += 1
        via = f"SIP/2.0/UDP {self.local[0]}:{self.local[1]};branch={sipmsg.new_branch()};rport"
        self.vias[self.cseq] = via
        headers = [("Via", via), ("From", self.frm), ("To", self.to), ("Call-ID", self.call_id),
                   ("CSeq", f"{self.cseq} INVITE"), ("Contact", self.contact),
                   ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"), *self.identity,
                   *([self.auth] if self.auth else [])]
        data = sipmsg.request("INVITE", self.uri, headers, self.offer)
        if self._tx is not None:
            self._tx.stop()
        # Timer A doubles without the T2 cap (§17.1.1.2); Timer B ends it
        self._tx = Retransmitter(lambda: self.send(data), t1=self.t1, cap=64 * self.t1,
                                 on_give_up=lambda: self._resolve(False, 0, "unreachable"))

    def _ack(self, to: str, num: int, *, via: str, target: str,
             extra: tuple[tuple[str, str], ...] = ()) -> bytes:
        headers = [("Via", via), *extra, ("From", self.frm), ("To", to),
                   ("Call-ID", self.call_id), ("CSeq", f"{num} ACK")]
        data = sipmsg.request("ACK", target, headers)
        self.send(data)
        return data

    def abort(self) -> None:
        """Ring timeout, a cancelled originate, the endpoint stopping: CANCEL if a provisional
        came, else give up now (a provisional that still comes gets its CANCEL then)."""
        if self.result.done() or self.cancel_wanted:
            return
        self.cancel_wanted = True
        if self.provisional:
            self._send_cancel()
            self._timers.append(asyncio.get_running_loop().call_later(
                64 * self.t1, lambda: self._resolve(False, 0, "no_answer")))
        else:
            if self._tx is not None:
                self._tx.stop()
            self._resolve(False, 0, "unreachable")

    def _send_cancel(self) -> None:
        if self._cancel is not None:
            return
        headers = [("Via", self.vias[self.cseq]), ("From", self.frm), ("To", self.to),
                   ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} CANCEL")]
        data = sipmsg.request("CANCEL", self.uri, headers)
        self._cancel = Retransmitter(lambda: self.send(data), t1=self.t1)

    # ---- responses ---------------------------------------------------------------------------
    def feed(self, msg: sipmsg.Message) -> None:
        num, method, status = msg.cseq[0], msg.method, msg.status
        if method == "CANCEL":
            if status >= 200 and self._cancel is not None:
                self._cancel.stop()
            return
        if method != "INVITE" or num not in self.vias or \
                msg.branch != sipmsg.via_params(self.vias[num]).get("branch"):
            return  # not an answer to an INVITE of ours (§17.1.3: branch and method match)
        if status < 200:
            if num == self.cseq and self.answer is None and self.cseq not in self.acks:
                self._proceeding(status)
        elif status >= 300:
            self._error(msg, num, status)
        elif self.ack_2xx is not None:
            self.send(self.ack_2xx)  # the 2xx again: our ACK was lost (§13.2.2.4)
        else:
            self._answered(msg, num)

    def _proceeding(self, status: int) -> None:
        if self._tx is not None:
            self._tx.stop()  # Proceeding: no more retransmissions, no Timer B
        first = not self.provisional
        self.provisional = status
        if first:
            log.debug("sip_originate_ringing", sip_call_id=self.call_id, status=status)
        if self.cancel_wanted:  # we gave up before it came: CANCEL now (§9.1)
            self._send_cancel()

    def _error(self, msg: sipmsg.Message, num: int, status: int) -> None:
        if num in self.acks:  # a retransmitted final: its ACK again
            self.send(self.acks[num])
            return
        self.acks[num] = self._ack(msg.header("To"), num, via=self.vias[num], target=self.uri)
        if num != self.cseq:
            return
        if self._tx is not None:
            self._tx.stop()
        name = {401: "WWW-Authenticate", 407: "Proxy-Authenticate"}.get(status)
        challenge = msg.header(name) if name else ""
        if challenge and self.auth is None and self.gw.user and not self.cancel_wanted:
            field = "Authorization" if status == 401 else "Proxy-Authorization"
            self.auth = (field, digest(challenge, method="INVITE", uri=self.uri,
                                       user=self.gw.user, password=self.gw.password))
            self.provisional = 0
            self._invite()
            return
        self._resolve(False, status, reason_for(status))

    def _answered(self, msg: sipmsg.Message, num: int) -> None:
        if self._tx is not None:
            self._tx.stop()
        target = sipmsg.uri_of(msg.header("Contact")) or self.uri
        via = f"SIP/2.0/UDP {self.local[0]}:{self.local[1]};branch={sipmsg.new_branch()};rport"
        routes = tuple(reversed(msg.all("Record-Route")))
        self.ack_2xx = self._ack(msg.header("To"), num, via=via, target=target,
                                 extra=(*(("Route", r) for r in routes),
                                        *([self.auth] if self.auth else [])))
        self.answer = msg
        if self.result.done():
            self.on_late_answer(msg)  # we gave up on it: ACK (done) and BYE
        else:
            self._resolve(True, msg.status, "answered")

    def give_up(self, why: str) -> None:
        """Nobody will run this call: the outcome is ``failed`` now, a later 2xx gets a BYE."""
        if not self.result.done():
            log.info("sip_originate_given_up", sip_call_id=self.call_id, why=why)
        self._resolve(False, 0, "failed")

    def _resolve(self, answered: bool, code: int, reason: str) -> None:
        if not self.result.done():
            self.result.set_result(OriginateResult(answered, code, reason))
        for timer in self._timers:
            timer.cancel()

    def close(self) -> None:
        """Stop every timer and retransmission (the transaction's linger is over)."""
        for tx in (self._tx, self._cancel):
            if tx is not None:
                tx.stop()
        for timer in self._timers:
            timer.cancel()


class Outbound:
    """The endpoint's placed calls: legs by SIP Call-ID, each kept 64·T1 after its outcome to
    absorb retransmitted responses. ``ep`` is the :class:`.endpoint.SipEndpoint`."""

    def __init__(self, ep: Any, gateway: Upstream | None, caller_id: str | None = None) -> None:
        if caller_id is not None:
            dial_uri_user(caller_id)  # + and digits only, or ValueError at start
        self.ep, self.gateway, self.caller_id = ep, gateway, caller_id
        self.legs: dict[str, ClientInvite] = {}
        self._address: tuple[float, tuple[str, int]] | None = None  # (resolved at, address)

    async def address(self) -> tuple[str, int]:
        """The gateway's IP address and port, resolved off the loop and kept a minute (a name
        given to ``sendto`` would be resolved inside the loop, blocking every call)."""
        assert self.gateway is not None
        loop = asyncio.get_running_loop()
        if self._address is None or loop.time() - self._address[0] > 60.0:
            infos = await loop.getaddrinfo(self.gateway.host, self.gateway.port,
                                           family=socket.AF_INET, type=socket.SOCK_DGRAM)
            self._address = (loop.time(), infos[0][4][:2])
        return self._address[1]

    def feed(self, msg: sipmsg.Message) -> bool:
        """A response for one of our INVITEs/CANCELs? Handle it and say so."""
        leg = self.legs.get(msg.call_id)
        if leg is None or msg.method not in ("INVITE", "CANCEL"):
            return False
        leg.feed(msg)
        return True

    async def originate(self, number: str, session: Any, *,
                        timeout_s: float = 60.0) -> OriginateResult:
        user = dial_uri_user(number)
        ep, gw = self.ep, self.gateway
        masked = mask_tail(number, keep=2)
        if gw is None or not ep.accepting or ep.transport is None:
            log.warning("sip_originate_not_sent", number=masked,
                        why="no outbound route" if gw is None else "endpoint not running")
            return OriginateResult(False, 0, "failed", sent=False)
        try:
            dest = await self.address()
        except OSError as exc:
            log.warning("sip_originate_not_sent", number=masked, why=f"gateway: {exc}")
            return OriginateResult(False, 0, "failed", sent=False)
        stream = await ep.media.open(ep.host, None, ep.codecs[0], EVENT_PT, inband=ep.inband)
        ep.media.remove(stream)  # silent, and no RTP timeout, until the answer
        leg = ClientInvite(
            send=lambda data: ep._send(data, dest), local=(ep.host, ep.port),
            contact=ep._contact(), gateway=gw, number=user, t1=ep.t1, caller_id=self.caller_id,
            offer=sdp.build(ep.host, stream.local_port, ep.codecs, EVENT_PT),
            on_late_answer=lambda msg: self._bye_unwanted(leg, msg, dest))
        self.legs[leg.call_id] = leg
        log.info("sip_originate", number=masked, sip_call_id=leg.call_id,
                 call_id=getattr(session, "call_id", None), gateway=f"{gw.host}:{gw.port}")
        leg.start(timeout_s)
        try:
            result = await asyncio.shield(leg.result)
        except asyncio.CancelledError:
            leg.abort()
            leg.give_up("originate cancelled")
            stream.close()
            raise
        finally:
            asyncio.get_running_loop().call_later(64 * ep.t1, self._forget, leg.call_id)
        if result.answered:
            result = self._connect(leg, session, stream, dest)
        else:
            stream.close()
        log.info("sip_originate_result", sip_call_id=leg.call_id, answered=result.answered,
                 code=result.code, reason=result.reason)
        return result

    def _connect(self, leg: ClientInvite, session: Any, stream: Any,
                 dest: tuple[str, int]) -> OriginateResult:
        """The 2xx came: the answer's media, a dialog of the endpoint, the session running."""
        ep, msg = self.ep, leg.answer
        assert msg is not None
        dialog = self._dialog(leg, msg, dest)
        try:
            media = sdp.choose(msg.sdp, dest[0])
            if media.codec not in ep.codecs:
                raise sdp.NoCommonCodec(f"codec {media.codec} disabled")
        except sdp.NoCommonCodec as exc:
            log.warning("sip_originate_bad_answer", sip_call_id=leg.call_id, reason=str(exc))
            stream.close()
            ep._send_bye(dialog)
            return OriginateResult(False, msg.status, "failed")
        stream.retarget((media.host, media.port), media.codec, media.event_pt)
        stream.last_rx = ep.media.now()
        ep.media.add(stream)
        dialog.stream = stream
        dialog.sdp_answer = sdp.build(ep.host, stream.local_port, (media.codec,),  # re-INVITEs
                                      media.event_pt if media.event_pt is not None else EVENT_PT)
        ep.stats["outbound"] = ep.stats.get("outbound", 0) + 1
        # recorded as inbound calls are when the session states its consent (recording_allowed)
        ep._start_call(dialog, leg.call_id, session,
                       ep.recorder if hasattr(session, "recording_allowed") else None)
        return OriginateResult(True, msg.status, "answered")

    def _dialog(self, leg: ClientInvite, msg: sipmsg.Message, dest: tuple[str, int]) -> Dialog:
        dialog = Dialog(msg, dest, leg.tag, cseq=leg.cseq,
                        answered=True, sdp_answer=leg.offer, uac=True, local=leg.frm,
                        remote=msg.header("To"),
                        target=sipmsg.uri_of(msg.header("Contact")) or leg.uri,
                        routes=tuple(reversed(msg.all("Record-Route"))))
        self.ep.dialogs[leg.call_id] = dialog
        return dialog

    def _bye_unwanted(self, leg: ClientInvite, msg: sipmsg.Message,
                      dest: tuple[str, int]) -> None:
        log.warning("sip_originate_late_answer", sip_call_id=leg.call_id)
        self.ep._send_bye(self._dialog(leg, msg, dest))

    def _forget(self, call_id: str) -> None:
        leg = self.legs.pop(call_id, None)
        if leg is not None:
            leg.close()

    def abort_all(self) -> None:
        """The endpoint is stopping: every call still ringing is cancelled."""
        for leg in self.legs.values():
            if not leg.result.done():
                leg.abort()
                leg.give_up("sip endpoint stopped")

    def close(self) -> None:
        for call_id in list(self.legs):
            self._forget(call_id)
