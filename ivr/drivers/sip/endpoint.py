"""The SIP user agent server: one UDP socket, dialogs, the registrar, one media clock.

Answers INVITEs for any hotline number from any peer (no registrar needed): 100, 180 and a
200 with our SDP, the 200 retransmitted until the ACK (RFC 3261 §13.3.1.4); every response
goes where the top ``Via`` says (``received``/``rport``, RFC 3581), never to a configured
server. Unknown number → 404, no common codec → 488 (both retransmitted until their ACK),
CANCEL before the answer → 487, BYE either way, OPTIONS → 200, REGISTER → 200 (a binding is
kept so softphones that insist on registering can), INFO ``application/dtmf-relay`` → a key.
Malformed datagrams get a 400 when they carry enough to answer, else are dropped and logged.
With ``upstream="sip:user:password@host:port"`` it also keeps a registration there
(:mod:`.registration`).
"""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip import sdp
from ivr.drivers.sip.call import EnqueueHook, Recorder, SipCall, settle_calls
from ivr.drivers.sip.dialog import Dialog
from ivr.drivers.sip.g711 import Prompts
from ivr.drivers.sip.media import MediaClock
from ivr.drivers.sip.outbound import OriginateResult, Outbound
from ivr.drivers.sip.registration import Registration, Upstream
from ivr.drivers.sip.transaction import T1, ResponseCache, Retransmitter

log = structlog.get_logger("ivr.drivers.sip")
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO"


class SipEndpoint(asyncio.DatagramProtocol):
    """See the package docstring; ``port=0`` picks a free port (read :attr:`port` after start)."""

    def __init__(self, hotline: Any, host: str = "127.0.0.1", port: int = 5060, *,
                 recordings: str = "recordings", clock: Callable[[], datetime] | None = None,
                 on_enqueue: EnqueueHook | None = None, rtp_timeout: float = 30.0,
                 codecs: tuple[int, ...] = (sdp.PCMU, sdp.PCMA), inband: bool = True,
                 timeout_scale: float = 1.0, ring_delay: float = 0.0, t1: float = T1,
                 upstream: str | None = None, recorder: Recorder | None = None,
                 outbound: str | None = None, caller_id: str | None = None) -> None:
        self.hotline, self.host, self.port = hotline, host, port
        self.prompts = Prompts(recordings)
        self.clock = clock or (lambda: datetime.now(hotline.dialplan.tz))
        self.on_enqueue, self.codecs, self.inband = on_enqueue, codecs, inband
        self.recorder = recorder
        self.timeout_scale, self.ring_delay, self.t1 = timeout_scale, ring_delay, t1
        self.media = MediaClock(rtp_timeout)
        self.dialogs: dict[str, Dialog] = {}
        self.bindings: dict[str, tuple[str, tuple[str, int]]] = {}
        self.cache = ResponseCache(64 * t1)
        self.finals: dict[str, Retransmitter] = {}  # Call-ID -> non-2xx awaiting its ACK
        self.transport: asyncio.DatagramTransport | None = None
        self.accepting = False
        self.stats = {"malformed": 0, "calls": 0, "rejected": 0}
        self.upstream = Upstream.parse(upstream) if upstream else None
        self.registration: Registration | None = None
        gateway = Upstream.parse(outbound, credentials=False) if outbound else self.upstream
        self.outbound = Outbound(self, gateway, caller_id)  # calls we place: .outbound

    # ---- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, self.port))
        assert self.transport is not None
        self.port = int(self.transport.get_extra_info("sockname")[1])
        self.accepting = True
        log.info("sip_listening", host=self.host, port=self.port)
        if self.upstream is not None:
            self.registration = Registration(self.upstream, contact=self._contact(),
                                             local=(self.host, self.port), send=self._send)
            self.registration.start()

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Refuse new calls (503), let calls finish for ``drain_timeout`` s, then end the rest
        with an outcome (``error``: endpoint stopped) and a BYE."""
        self.accepting = False
        self.outbound.abort_all()
        if self.registration is not None:
            await self.registration.stop()
        calls = [d.call.task for d in self.dialogs.values() if d.call and d.call.task]
        if calls and drain_timeout > 0:
            await asyncio.wait(calls, timeout=drain_timeout)
        for dialog in list(self.dialogs.values()):
            if dialog.call is not None and dialog.call.ended_by is None:
                dialog.call.shutdown("sip endpoint stopped")
        if not await settle_calls(drain_timeout + 5.0):  # outcomes from the calls' db threads
            log.error("sip_outcomes_pending")
        byes = [d.bye for d in self.dialogs.values() if d.bye and d.bye.active]
        deadline = asyncio.get_running_loop().time() + 1.0
        while any(b.active for b in byes) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        for retrans in [*self.finals.values(), *(d.answer for d in self.dialogs.values()),
                        *(d.bye for d in self.dialogs.values())]:
            if retrans is not None:
                retrans.stop()
        self.outbound.close()
        await self.media.stop()
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        log.debug("sip_socket_error", error=str(exc))

    # ---- input -------------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # CRLF keep-alive
        try:
            msg = sipmsg.parse(data)
        except sipmsg.MalformedSip as exc:
            self._malformed(data, addr, str(exc))
            return
        try:
            if msg.is_request:
                self._request(msg, addr)
            else:
                self._response(msg)
        except Exception as exc:
            log.exception("sip_request_failed", method=msg.method, error=type(exc).__name__)
            if msg.is_request and msg.method != "ACK":
                self._reply(msg, addr, 500)

    def _malformed(self, data: bytes, addr: tuple[str, int], reason: str) -> None:
        self.stats["malformed"] += 1
        log.warning("sip_malformed", peer=f"{addr[0]}:{addr[1]}", reason=reason)
        try:
            start, headers, body = sipmsg._split(data)
            bare = sipmsg.Message(start, headers, body)
            if bare.is_request and all(bare.header(h) for h in ("Via", "From", "To", "Call-ID",
                                                                "CSeq")):
                self._send(sipmsg.response(bare, 400, source=addr, reason="Bad Request"),
                           sipmsg.response_target(bare, addr))
        except Exception:  # noqa: BLE001, S110 - nothing to answer with
            pass

    def _request(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        method = msg.method
        if method == "ACK":
            self._ack(msg)
            return
        now = asyncio.get_running_loop().time()
        cached = self.cache.get((msg.branch, method), now)
        if cached is not None:
            self._send(*cached)
            return
        handler = {"INVITE": self._invite, "BYE": self._bye, "CANCEL": self._cancel,
                   "OPTIONS": self._options, "REGISTER": self._register,
                   "INFO": self._info}.get(method)
        if handler is None:
            self._reply(msg, addr, 405, extra=(("Allow", ALLOW),))
        else:
            handler(msg, addr)

    def _response(self, msg: sipmsg.Message) -> None:
        if self.registration is not None and msg.call_id == self.registration.call_id:
            self.registration.inbox.put_nowait(msg)
            return
        if self.outbound.feed(msg):
            return
        dialog = self.dialogs.get(msg.call_id)
        if dialog is not None and msg.method == "BYE" and msg.status >= 200 and dialog.bye:
            dialog.bye.stop()
            self._forget(msg.call_id)

    # ---- output ------------------------------------------------------------------------------
    def _send(self, data: bytes, dest: tuple[str, int]) -> None:
        # a retransmitter of a dialog already forgotten may still fire after stop(): drop it
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, dest)

    def _reply(self, msg: sipmsg.Message, addr: tuple[str, int], code: int, **kw: Any) -> bytes:
        data = sipmsg.response(msg, code, source=addr, **kw)
        dest = sipmsg.response_target(msg, addr)
        self._send(data, dest)
        if code >= 200 or msg.method == "INVITE":
            self.cache.put((msg.branch, msg.method), data, dest,
                           asyncio.get_running_loop().time())
        return data

    def _final_non2xx(self, msg: sipmsg.Message, addr: tuple[str, int], code: int,
                      tag: str, reason: str = "") -> None:
        """A final error to an INVITE, resent until its ACK (Timer G/H)."""
        data = sipmsg.response(msg, code, source=addr, to_tag=tag, reason=reason)
        dest = sipmsg.response_target(msg, addr)
        self.cache.put((msg.branch, "INVITE"), data, dest, asyncio.get_running_loop().time())
        call_id = msg.call_id  # ACK matched by Call-ID: some UACs give that ACK a new branch
        self.finals[call_id] = Retransmitter(
            lambda: self._send(data, dest), t1=self.t1,
            on_give_up=lambda: self.finals.pop(call_id, None))

    # ---- INVITE ------------------------------------------------------------------------------
    def _invite(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        existing = self.dialogs.get(msg.call_id)
        if existing is not None and msg.tag("To"):  # re-INVITE: keep the media as it is
            self._reply(msg, addr, 200, to_tag=existing.tag, body=existing.sdp_answer,
                        extra=(("Contact", self._contact()),))
            return
        if existing is not None:
            return  # a retransmission racing the cache: the transaction is already running
        self._reply(msg, addr, 100)
        tag = sipmsg.new_tag()
        if not self.accepting:
            self._final_non2xx(msg, addr, 503, tag)
            return
        did = msg.uri_user or msg.user("To")
        now = self.clock()
        try:
            self.hotline.dialplan.route(did, now)
        except Exception as exc:  # noqa: BLE001 - RouteError, ValueError: not our number
            self.stats["rejected"] += 1
            log.warning("sip_unknown_number", did=did, reason=str(exc)[:200])
            self._final_non2xx(msg, addr, 404, tag)
            return
        try:
            offer = sdp.choose(msg.sdp, addr[0])
            if offer.codec not in self.codecs:
                raise sdp.NoCommonCodec(f"codec {offer.codec} disabled")
        except sdp.NoCommonCodec as exc:
            self.stats["rejected"] += 1
            log.warning("sip_no_common_codec", did=did, reason=str(exc))
            self._final_non2xx(msg, addr, 488, tag)
            return
        dialog = Dialog(msg, sipmsg.response_target(msg, addr), tag)
        self.dialogs[msg.call_id] = dialog
        asyncio.get_running_loop().create_task(self._answer(dialog, msg, addr, did, offer))

    async def _answer(self, dialog: Dialog, msg: sipmsg.Message, addr: tuple[str, int],
                      did: str, offer: sdp.Media) -> None:
        self._reply(msg, addr, 180, to_tag=dialog.tag)
        if self.ring_delay:
            await asyncio.sleep(self.ring_delay)
            if self.dialogs.get(msg.call_id) is not dialog:
                return  # cancelled while ringing
        stream = await self.media.open(self.host, (offer.host, offer.port), offer.codec,
                                       offer.event_pt, inband=self.inband)
        dialog.stream = stream
        dialog.sdp_answer = sdp.build(self.host, stream.local_port, (offer.codec,),
                                      offer.event_pt if offer.event_pt is not None else 101)
        data = sipmsg.response(msg, 200, source=addr, to_tag=dialog.tag, body=dialog.sdp_answer,
                               extra=(("Contact", self._contact()), ("Allow", ALLOW)))
        self.cache.put((msg.branch, "INVITE"), data, dialog.dest,
                       asyncio.get_running_loop().time())
        dialog.answer = Retransmitter(lambda: self._send(data, dialog.dest), t1=self.t1,
                                      on_give_up=lambda: self._no_ack(msg.call_id))
        dialog.answered = True
        self.stats["calls"] += 1
        caller = msg.user("P-Asserted-Identity") if msg.header("P-Asserted-Identity") else ""
        session = self.hotline.new_call(did=did, caller=caller or msg.user("From") or None,
                                        call_id=_call_id(msg.call_id))
        self._start_call(dialog, msg.call_id, session, self.recorder)

    def _start_call(self, dialog: Dialog, call_id: str, session: Any,
                    recorder: Recorder | None) -> None:
        """The answered dialog runs ``session`` (ours, or a placed call's: .outbound)."""
        assert dialog.stream is not None
        stream = dialog.stream
        dialog.call = SipCall(session, stream, prompts=self.prompts, clock=self.clock,
                              hangup=self._hang_up, on_enqueue=self.on_enqueue,
                              timeout_scale=self.timeout_scale, recorder=recorder)
        stream.on_timeout = lambda: self._caller_gone(call_id, "rtp_timeout", bye=True)
        dialog.call.start()

    def _ack(self, msg: sipmsg.Message) -> None:
        final = self.finals.pop(msg.call_id, None)
        if final is not None:
            final.stop()
            return
        dialog = self.dialogs.get(msg.call_id)
        if dialog is not None and dialog.answer is not None:
            dialog.answer.stop()

    def _no_ack(self, call_id: str) -> None:
        log.warning("sip_no_ack", sip_call_id=call_id)
        self._caller_gone(call_id, "no_ack", bye=True)

    # ---- ending ------------------------------------------------------------------------------
    def _in_dialog(self, msg: sipmsg.Message, addr: tuple[str, int]) -> Dialog | None:
        """A request inside a call: 200 and its dialog, or 481 and None."""
        dialog = self.dialogs.get(msg.call_id)
        self._reply(msg, addr, 481 if dialog is None else 200)
        return dialog

    def _bye(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        if self._in_dialog(msg, addr) is not None:
            self._caller_gone(msg.call_id, "normal", bye=False)

    def _cancel(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        dialog = self.dialogs.get(msg.call_id)
        if dialog is None or dialog.invite.branch != msg.branch:
            self._reply(msg, addr, 481)
            return
        self._reply(msg, addr, 200)
        if not dialog.answered:  # still ringing: the INVITE ends with 487
            del self.dialogs[msg.call_id]
            self._final_non2xx(dialog.invite, addr, 487, dialog.tag)

    def _caller_gone(self, call_id: str, cause: str, *, bye: bool) -> None:
        dialog = self.dialogs.get(call_id)
        if dialog is None:
            return
        if dialog.answer is not None:
            dialog.answer.stop()
        if dialog.call is not None:
            dialog.call.caller_gone(cause)
        if dialog.stream is not None:
            dialog.stream.close()
        if bye:
            self._send_bye(dialog)
        else:
            self._forget(call_id)

    def _hang_up(self, call: SipCall) -> None:
        """The IVR ended the call: BYE the caller (once)."""
        dialog = next((d for d in self.dialogs.values() if d.call is call), None)
        if dialog is None:
            return
        if dialog.answer is not None:
            dialog.answer.stop()
        call.stream.close()
        self._send_bye(dialog)

    def _send_bye(self, dialog: Dialog) -> None:
        if dialog.bye is not None:
            return
        inv = dialog.invite
        dialog.cseq += 1
        ours, theirs, target, routes = dialog.bye_parts()
        via = f"SIP/2.0/UDP {self.host}:{self.port};branch={sipmsg.new_branch()};rport"
        headers = [("Via", via), *(("Route", r) for r in routes), ("From", ours),
                   ("To", theirs), ("Call-ID", inv.call_id), ("CSeq", f"{dialog.cseq} BYE")]
        data = sipmsg.request("BYE", target, headers)
        call_id = inv.call_id
        dialog.bye = Retransmitter(lambda: self._send(data, dialog.dest), t1=self.t1,
                                   on_give_up=lambda: self._forget(call_id))

    def _forget(self, call_id: str) -> None:
        dialog = self.dialogs.pop(call_id, None)
        if dialog is not None and dialog.stream is not None:
            dialog.stream.close()

    # ---- calls we place ----------------------------------------------------------------------
    async def originate(self, number: str, session: Any, *,
                        timeout_s: float = 60.0) -> OriginateResult:
        """Call ``number`` (``+`` and digits) through the outbound route and run ``session``
        (``call_id``, ``start``, ``feed``, ``done``, ``fail``) once answered; see .outbound."""
        return await self.outbound.originate(number, session, timeout_s=timeout_s)

    # ---- the rest ----------------------------------------------------------------------------
    def _options(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        self._reply(msg, addr, 200, to_tag=sipmsg.new_tag(), extra=(("Allow", ALLOW),))

    def _register(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        """Minimal registrar: no authentication, the binding kept for its ``Expires``."""
        aor = sipmsg.uri_of(msg.header("To"))
        contact = msg.header("Contact")
        expires = msg.header("Expires", "3600")
        if contact == "*" or expires == "0":
            self.bindings.pop(aor, None)
        elif contact:
            self.bindings[aor] = (sipmsg.uri_of(contact), addr)
        extra = (("Contact", f"{contact};expires={expires}"),) if contact and contact != "*" \
            else ()
        self._reply(msg, addr, 200, to_tag=sipmsg.new_tag(), extra=(*extra,
                                                                    ("Expires", expires)))

    def _info(self, msg: sipmsg.Message, addr: tuple[str, int]) -> None:
        dialog = self._in_dialog(msg, addr)
        if dialog is not None and dialog.call is not None and \
                "dtmf-relay" in msg.header("Content-Type"):
            for line in msg.body.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition("=")
                if name.strip().lower() == "signal" and value.strip():
                    dialog.call.key(value.strip()[:1])

    def _contact(self) -> str:
        return f"<sip:hotline@{self.host}:{self.port}>"


def _call_id(sip_call_id: str) -> str:
    """The session's call id: the SIP Call-ID (hashed if too long for the calls table)."""
    if len(sip_call_id) <= 64:
        return sip_call_id
    return "sip-" + hashlib.sha1(sip_call_id.encode()).hexdigest()
