"""A SIP endpoint of our own: softphones and SIPp reach the IVR with no Asterisk.

    endpoint = SipEndpoint(hotline, host="127.0.0.1", port=5060, on_enqueue=None)
    await endpoint.start()           # UDP; port=0 picks a free one (endpoint.port)
    ...
    await endpoint.stop(drain_timeout=5.0)   # every call in progress gets its outcome

Each answered INVITE becomes one :class:`ivr.call.session.CallSession` driven exactly as the
console drives it (:mod:`.call`): Request-URI user (or ``To``) → the dialplan route, caller id
from ``P-Asserted-Identity`` or ``From``, prompts from ``recordings/<lang>/<id>.wav``, keys from
RFC 4733 events or in-band tones, barge-in, one outcome row whoever hangs up.

**Hand-over to the live ACD** (``hotline serve`` wires it; this package never imports it):
``on_enqueue(call, enqueue)`` is awaited when the IVR's last command is
:class:`ivr.call.protocol.Enqueue` (the session has already recorded the outcome ``queued``).
``call`` is a :class:`.call.SipCall`: ``call.stream.play(payloads)`` plays hold audio (20 ms
G.711 payloads in ``call.stream.codec``; ``call.prompts.get(id, lang, codec)`` gives a prompt's),
``call.session`` is the session, ``call.keys`` the keys pressed. Return when the caller was
answered or gave up; the endpoint then sends BYE (a caller's BYE cancels the awaitable). With no
hook the call simply ends after the IVR, as the console's does.

**Call recording** (SPEC §7): ``recorder(session, now)`` is called once the call is answered
and returns an object with ``audio(caller_pcm, ivr_pcm)`` (fed every 20 ms, 16-bit mono each
way), ``commands(cmds, now)`` (every batch the session returns, the first included) and
``close(now)`` (once, at hang-up) — :class:`ivr.records.recordings.CallRecorder` fits:
``recorder=lambda s, now: CallRecorder(factory, s, now)``. Consent is the recorder's business.

pyVoIP 1.6.8 is used for what it does right — SIP message and SDP parsing (:mod:`.message`,
:mod:`.sdp`); the rest is ours because pyVoIP gets it wrong for a server: it always REGISTERs,
routes responses to its server instead of the Via, never retransmits the 200, runs two polling
threads per RTP stream, encodes PCMA as μ-law, reports RFC 2833 keys only from the marker
packet, cannot send keys and has no in-band detection. Modules: :mod:`.transaction` (RFC 3261
timers), :mod:`.endpoint` (dialogs, registrar), :mod:`.media` (one 20 ms clock for all calls),
:mod:`.rtp` (packets, RFC 4733), :mod:`.g711` (codecs, pre-encoded prompts), :mod:`.dtmf`
(batched Goertzel detector, Q.24 rules), :mod:`.registration` (optional upstream REGISTER with
digest auth: ``SipEndpoint(..., upstream="sip:user:password@host:port")``), :mod:`.softphone`
(the test tool), :mod:`.dialog` (a call's dialog state, either side), :mod:`.outbound` (calls
we place).

**Calls we place** (callbacks): ``await endpoint.originate("+79161234567", session,
timeout_s=60)`` INVITEs ``sip:<number>@<gateway>`` — the ``outbound="sip:[user:password@]host:port"``
route, else the ``upstream`` — and returns an :class:`.outbound.OriginateResult` (``answered``,
``code``, ``reason``, ``sent``) as soon as the outcome is known; once answered the call runs
``session`` exactly as an answered inbound call runs its own (prompts, keys, ``on_enqueue``).
"""
from ivr.drivers.sip.endpoint import SipEndpoint

__all__ = ["SipEndpoint"]
