"""SIP messages: pyVoIP 1.6.8's parser behind a normalising front, and our own builders.

pyVoIP parses the start line, ``From``/``To`` (tags, user part), ``CSeq`` and the SDP body
correctly for SIPp's and softphones' messages, so we keep it. What it cannot do is taken
care of here, before it sees the bytes:

* compact header names (``v:``, ``f:``, ``i:``…) and ``Name:value`` without a space are
  rewritten to ``Name: value`` (pyVoIP splits on ``": "`` and knows only long names);
* REGISTER, OPTIONS and INFO are accepted (pyVoIP knows INVITE/ACK/BYE/CANCEL only);
* every failure inside pyVoIP (``IndexError``, ``KeyError``…) becomes :class:`MalformedSip`.

We keep the raw header lines too: a response must echo ``Via``, ``From``, ``To``, ``Call-ID``
and ``CSeq`` byte for byte (RFC 3261 §8.2.6.2), and pyVoIP's parsed form loses them. Its
response builders route by the configured server instead of by ``Via`` — that is why the
builders below are ours.
"""
from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

with warnings.catch_warnings():  # pyVoIP imports audioop (deprecated in 3.11, gone in 3.13)
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyVoIP.VoIP  # noqa: F401 - must come first: pyVoIP.SIP alone is a circular import
    from pyVoIP.SIP import SIPMessage, SIPMessageType

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO")
COMPACT = {"v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
           "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding"}
CANONICAL = {n.lower(): n for n in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
    "Max-Forwards", "Record-Route", "Route", "Expires", "User-Agent", "Allow", "Supported",
    "P-Asserted-Identity", "Content-Encoding", "WWW-Authenticate", "Authorization", "Subject")}
MAX_MESSAGE = 65_000
REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 481: "Call/Transaction Does Not Exist",
           486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
           500: "Server Internal Error", 503: "Service Unavailable"}


class MalformedSip(ValueError):
    """Bytes that are not a SIP message we can answer."""


class _Parser(SIPMessage):
    def parse(self, data: bytes) -> None:
        self.SIPCompatibleMethods = list(METHODS)
        super().parse(data)


@dataclass
class Message:
    """One parsed request or response: raw header lines plus pyVoIP's structured view."""

    start: str
    headers: list[tuple[str, str]]
    body: bytes
    parsed: Any = field(repr=False, default=None)

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/")

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0] if self.is_request else self.cseq[1]

    @property
    def uri(self) -> str:
        return self.start.split(" ")[1]

    @property
    def status(self) -> int:
        return int(self.start.split(" ")[1])

    def header(self, name: str, default: str = "") -> str:
        low = name.lower()
        return next((v for n, v in self.headers if n.lower() == low), default)

    def all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for n, v in self.headers if n.lower() == low]

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        num, method = self.header("CSeq").split()
        return int(num), method

    @property
    def branch(self) -> str:
        return via_params(self.all("Via")[0]).get("branch", "") if self.all("Via") else ""

    def tag(self, which: str) -> str:
        return str(self.parsed.headers.get(which, {}).get("tag", "")) if self.parsed else ""

    def user(self, which: str) -> str:
        """The user part of ``From``/``To`` (pyVoIP's parse), '' if none."""
        return str(self.parsed.headers.get(which, {}).get("number") or "") if self.parsed else ""

    @property
    def uri_user(self) -> str:
        uri = self.uri.split(";", 1)[0]
        body = uri.split(":", 1)[1] if ":" in uri else uri
        return body.split("@", 1)[0] if "@" in body else ""

    @property
    def sdp(self) -> dict[str, Any]:
        if not self.body or self.parsed is None:
            return {}
        return self.parsed.body if isinstance(self.parsed.body, dict) else {}


def _split(data: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedSip("not UTF-8") from exc
    start, headers = lines[0].strip(), []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation line
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MalformedSip(f"bad header line {line[:40]!r}")
        name = name.strip()
        name = COMPACT.get(name, CANONICAL.get(name.lower(), name))
        headers.append((name, value.strip()))
    return start, headers, body


def parse(data: bytes) -> Message:
    """Parse one datagram; raise :class:`MalformedSip` for anything we cannot answer."""
    if len(data) > MAX_MESSAGE:
        raise MalformedSip("message too large")
    start, headers, body = _split(data)
    parts = start.split(" ")
    if len(parts) < 3 or not (parts[0] == "SIP/2.0" or parts[2] == "SIP/2.0"):
        raise MalformedSip(f"bad start line {start[:60]!r}")
    msg = Message(start, headers, body)
    for required in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not msg.header(required):
            raise MalformedSip(f"missing {required}")
    try:
        msg.cseq  # noqa: B018 - validates "number METHOD"
    except ValueError as exc:
        raise MalformedSip("bad CSeq") from exc
    if msg.is_request and parts[0] not in METHODS:
        return msg  # parsed enough to answer 405
    normal = "\r\n".join([start, *(f"{n}: {v}" for n, v in headers)]).encode() + b"\r\n\r\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            msg.parsed = _Parser(normal + body)
    except Exception as exc:
        raise MalformedSip(f"{type(exc).__name__} in pyVoIP's parser") from exc
    if msg.parsed.type not in (SIPMessageType.MESSAGE, SIPMessageType.RESPONSE):
        raise MalformedSip("neither request nor response")
    return msg


def via_params(via: str) -> dict[str, str]:
    """``SIP/2.0/UDP host:port;branch=z9;rport`` → {"sent-by": "host:port", "branch": …}."""
    first = via.split(",")[0].strip()
    parts = first.split(";")
    proto_host = parts[0].split()
    out = {"sent-by": proto_host[-1] if proto_host else ""}
    for p in parts[1:]:
        k, _, v = p.strip().partition("=")
        out[k.lower()] = v
    return out


def response_target(msg: Message, source: tuple[str, int]) -> tuple[str, int]:
    """Where a response goes (RFC 3261 §18.2.2, RFC 3581): the ``Via``'s ``received`` host,
    and the source port if ``rport`` was asked for, else the ``Via``'s own port."""
    params = via_params(msg.all("Via")[0])
    _host, _, port = params["sent-by"].partition(":")
    if "rport" in params:
        return params.get("received") or source[0], source[1]
    return params.get("received") or source[0], int(port or 5060)


def stamp_via(via: str, source: tuple[str, int]) -> str:
    """The top ``Via`` with ``received`` and a filled ``rport`` (RFC 3581 §4)."""
    head, _, rest = via.partition(",")
    params = via_params(head)
    out = head.strip()
    if "rport" in params and not params["rport"]:
        out = out.replace(";rport", f";rport={source[1]}", 1)
    if "received" not in params:
        out += f";received={source[0]}"
    return out + ("," + rest if rest else "")


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def response(req: Message, code: int, *, source: tuple[str, int], to_tag: str = "",
             extra: tuple[tuple[str, str], ...] = (), body: bytes = b"",
             content_type: str = "application/sdp", reason: str = "") -> bytes:
    """A response echoing the request's Via/From/To/Call-ID/CSeq; ``to_tag`` added if absent."""
    vias = req.all("Via")
    lines = [f"SIP/2.0 {code} {reason or REASONS.get(code, 'Unknown')}"]
    lines += [f"Via: {stamp_via(vias[0], source)}", *(f"Via: {v}" for v in vias[1:])]
    to = req.header("To")
    if to_tag and ";tag=" not in to and code > 100:
        to = f"{to};tag={to_tag}"
    lines += [f"Record-Route: {r}" for r in req.all("Record-Route")]
    lines += [f"From: {req.header('From')}", f"To: {to}", f"Call-ID: {req.call_id}",
              f"CSeq: {req.header('CSeq')}", "Server: hotline"]
    lines += [f"{n}: {v}" for n, v in extra]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def request(method: str, uri: str, headers: list[tuple[str, str]], body: bytes = b"",
            content_type: str = "application/sdp") -> bytes:
    """A request with the given headers (caller supplies Via/From/To/Call-ID/CSeq)."""
    lines = [f"{method} {uri} SIP/2.0", *(f"{n}: {v}" for n, v in headers),
             "Max-Forwards: 70", "User-Agent: hotline"]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def uri_of(name_addr: str) -> str:
    """``"Bob" <sip:bob@h;transport=udp>;tag=1`` → ``sip:bob@h;transport=udp``."""
    if "<" in name_addr:
        return name_addr.split("<", 1)[1].split(">", 1)[0]
    return name_addr.split(";", 1)[0].strip()


def host_port(uri: str, default_port: int = 5060) -> tuple[str, int]:
    """Host and port of a SIP URI (``sip:user@host:port;params``)."""
    body = uri.split(":", 1)[1] if uri.startswith(("sip:", "sips:")) else uri
    body = body.split(";", 1)[0].split("?", 1)[0]
    hp = body.rsplit("@", 1)[-1]
    host, _, port = hp.partition(":")
    return host, int(port) if port else default_port
