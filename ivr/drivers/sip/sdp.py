"""SDP offer/answer for G.711 + RFC 4733 telephone-events, over pyVoIP's SDP parse."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PCMU, PCMA = 0, 8
CODECS = {PCMU: "PCMU", PCMA: "PCMA"}
NAMES = {"PCMU": PCMU, "PCMA": PCMA}


class NoCommonCodec(ValueError):
    """The offer has no G.711 audio stream (answered 488)."""


@dataclass(frozen=True)
class Media:
    """What both sides agreed: where to send RTP, which codec, the telephone-event type."""

    host: str
    port: int
    codec: int
    event_pt: int | None


def choose(sdp: dict[str, Any], fallback_host: str) -> Media:
    """The first G.711 codec of the first audio stream, in the offerer's order of preference."""
    for m in sdp.get("m", []):
        if m.get("type") != "audio" or not m.get("port"):
            continue
        codec, event = None, None
        for pt in m.get("methods", []):
            rtpmap = m.get("attributes", {}).get(pt, {}).get("rtpmap", {})
            name = str(rtpmap.get("name", "")).upper()
            num = int(pt) if pt.isdigit() else -1
            if codec is None and num in CODECS and name in ("", CODECS[num]):
                codec = num
            if name == "TELEPHONE-EVENT" and event is None:
                event = num
        if codec is not None:
            conns = sdp.get("c") or [{}]
            return Media(conns[0].get("address") or fallback_host, int(m["port"]), codec, event)
    raise NoCommonCodec("no PCMU/PCMA audio in the offer")


def build(host: str, port: int, codecs: tuple[int, ...], event_pt: int | None = 101,
          session_id: int = 1) -> bytes:
    """An SDP (offer or answer) with the given codecs and telephone-event 0-15."""
    fmts = [*map(str, codecs), *([str(event_pt)] if event_pt is not None else [])]
    lines = ["v=0", f"o=hotline {session_id} {session_id} IN IP4 {host}", "s=hotline",
             f"c=IN IP4 {host}", "t=0 0", f"m=audio {port} RTP/AVP {' '.join(fmts)}"]
    lines += [f"a=rtpmap:{c} {CODECS[c]}/8000" for c in codecs]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-15"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()
