"""Sans-IO codec for the Asterisk Manager Interface (AMI): bytes in, messages out.

Modelled on h11: this file owns every framing rule; it never touches a socket or a clock, so the
same code serves the asyncio client, the emulator, the tests and the benchmarks. The rules below
are what a real Asterisk 22.10.1 puts on the wire (see ../shared/asterisk/transcripts).

Rules
-----
1. **Banner.** A server stream starts with one line ``Asterisk Call Manager/<ver>\\r\\n`` that is
   not followed by a blank line. With ``expect_banner=True`` the first line is taken as the banner
   if it contains no ``:``; otherwise the stream is parsed as if the banner had been skipped.
2. **Framing.** A message is a run of ``Key: Value\\r\\n`` lines ended by an empty line, i.e. the
   message ends at the first ``\\r\\n\\r\\n``. Empty frames (stray ``\\r\\n\\r\\n``) are ignored.
3. **Headers.** ``Key: Value`` is split at the first ``:``; exactly one space after the colon is
   removed and nothing else, because values may start with spaces (``RTPAUDIOQOSLOSS``). Keys are
   looked up case-insensitively (``CommandId`` on events answers ``CommandID`` on actions), their
   original spelling and order are kept for re-encoding. A repeated key (``Variable``,
   ``ChanVariable``, ``Output``) keeps every value in order: ``get`` returns the first, ``getall``
   all of them.
4. **Free text.** A line without ``:`` is command output. Asterisk ≥ 14 sends command output as
   repeated ``Output:`` headers; older ones send ``Response: Follows`` then raw lines (LF-ended)
   then ``--END COMMAND--``. Both end up in ``getall("Output")``. The legacy form is framed on
   ``\\r\\n\\r\\n`` like everything else: waiting for ``--END COMMAND--`` would let one stray
   ``Response: Follows`` swallow the stream up to ``max_message`` (found by the fuzz test).
5. **Text encoding.** Each complete frame is decoded as UTF-8 on its own (so a character split
   across two reads is never damaged). Invalid bytes never raise: the frame is decoded with
   U+FFFD replacement and ``Message.bad_utf8`` is set so the caller can log it.
6. **Limits.** A frame larger than ``max_message`` bytes, or holding a line longer than
   ``max_line`` bytes, becomes a ``ProtocolError`` item instead of a message; the decoder then
   discards bytes up to the next ``\\r\\n\\r\\n`` and resumes there (resync). Memory held by the
   decoder is therefore bounded by ``max_message`` whatever the peer sends.
7. **URL-encoded fields.** ``Env`` of ``AsyncAGIStart`` and ``Result`` of ``AsyncAGIExec`` are
   percent-encoded (``%20``, ``%0A``). ``parse_agi_env`` returns the ``agi_*`` variables as a
   dict; ``parse_agi_result`` turns ``200 result=49 endpos=16480`` into an ``AgiResult``.
8. **Encoding.** ``encode`` writes ``Key: Value\\r\\n`` per header plus a final ``\\r\\n``; list
   values become repeated headers. A CR or LF inside a key or value is refused (``ValueError``):
   it would let a caller-controlled string inject a second action.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = [
    "AgiResult",
    "Banner",
    "Decoder",
    "Message",
    "ProtocolError",
    "encode",
    "encode_action",
    "parse_agi_env",
    "parse_agi_result",
]

TERMINATOR = b"\r\n\r\n"
DEFAULT_MAX_MESSAGE = 1 << 20  # 1 MiB: a long "core show channels" still fits
DEFAULT_MAX_LINE = 64 << 10  # an AsyncAGIStart Env is ~1 KiB; 64 KiB is generous


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting line, e.g. ``Asterisk Call Manager/11.0.0`` (AMI protocol version 11)."""

    text: str

    @property
    def version(self) -> str:
        return self.text.rpartition("/")[2]


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A frame the decoder refused (too large, line too long); the stream carries on after it."""

    reason: str
    size: int
    head: bytes = b""  # first bytes of the refused frame, for the log


class Message:
    """One AMI message (action, response or event) with case-insensitive header access.

    ``headers`` is the list of ``(key, value)`` pairs in wire order, original spelling; it is
    what ``encode`` writes back, so ``encode(decode(x)) == x`` for well-formed input.
    """

    __slots__ = ("_first", "_multi", "bad_utf8", "headers")

    def __init__(self, headers: list[tuple[str, str]], bad_utf8: bool = False) -> None:
        self.headers = headers
        self.bad_utf8 = bad_utf8
        first: dict[str, str] = {}
        multi: dict[str, list[str]] | None = None
        for k, v in headers:
            lk = k.lower()
            if lk in first:
                if multi is None:
                    multi = {}
                lst = multi.get(lk)
                if lst is None:
                    multi[lk] = [first[lk], v]
                else:
                    lst.append(v)
            else:
                first[lk] = v
        self._first = first
        self._multi = multi

    @classmethod
    def build(cls, *pairs: tuple[str, str], **kw: str) -> Message:
        """Convenience for tests and the emulator: ``Message.build(("Event", "Hangup"))``."""
        return cls([*pairs, *kw.items()])

    # -- lookup ------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        return self._first.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._first

    def getall(self, key: str) -> list[str]:
        lk = key.lower()
        if self._multi is not None and lk in self._multi:
            return list(self._multi[lk])
        v = self._first.get(lk)
        return [] if v is None else [v]

    def keys(self) -> list[str]:
        return [k for k, _ in self.headers]

    # -- classification ----------------------------------------------------------------------
    @property
    def event(self) -> str | None:
        """Event name, or None when this is not an event."""
        return self._first.get("event")

    @property
    def response(self) -> str | None:
        """``Success``/``Error``/``Goodbye``/``Follows`` for responses; None for events.

        ``OriginateResponse`` *events* also carry a ``Response`` header, hence the check.
        """
        if "event" in self._first:
            return None
        return self._first.get("response")

    @property
    def action(self) -> str | None:
        return self._first.get("action")

    @property
    def action_id(self) -> str | None:
        return self._first.get("actionid")

    @property
    def is_list_start(self) -> bool:
        return self._first.get("eventlist", "").lower() == "start"

    @property
    def is_list_complete(self) -> bool:
        return self._first.get("eventlist", "").lower() == "complete"

    def as_dict(self) -> dict[str, str | list[str]]:
        """Original-case keys; repeated keys map to lists."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.headers:
            if k in out:
                prev = out[k]
                if isinstance(prev, list):
                    prev.append(v)
                else:
                    out[k] = [prev, v]
            else:
                out[k] = v
        return out

    def __repr__(self) -> str:
        head = self.event or self.response or self.action or "?"
        return f"<Message {head} {len(self.headers)} headers{' bad-utf8' if self.bad_utf8 else ''}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and other.headers == self.headers

    __hash__ = None  # type: ignore[assignment]


Item = Message | Banner | ProtocolError


class Decoder:
    """Incremental AMI decoder: ``feed(bytes) -> list[Message | Banner | ProtocolError]``.

    Holds at most ``max_message`` bytes of an incomplete frame (rule 6).
    """

    def __init__(
        self,
        expect_banner: bool = True,
        max_message: int = DEFAULT_MAX_MESSAGE,
        max_line: int = DEFAULT_MAX_LINE,
    ) -> None:
        self._buf = bytearray()
        self._scan = 0  # bytes of _buf already searched for a terminator
        self._want_banner = expect_banner
        self._discarding = False
        self.max_message = max_message
        self.max_line = max_line
        self.bytes_in = 0
        self.messages_out = 0

    def feed(self, data: bytes) -> list[Item]:
        """Add bytes from the peer; return every item completed by them, in order."""
        self.bytes_in += len(data)
        self._buf += data
        out: list[Item] = []
        if self._want_banner and not self._banner(out):
            return out
        while True:
            if self._discarding and not self._resync():
                break
            self._frames(out)
            if not self._discarding:
                break
        self.messages_out += len(out)
        return out

    def _banner(self, out: list[Item]) -> bool:
        """Rule 1. Returns False while the first line is still incomplete."""
        buf = self._buf
        nl = buf.find(b"\r\n")
        if nl < 0 and len(buf) <= self.max_line:
            return False
        self._want_banner = False
        if nl >= 0:
            line = bytes(buf[:nl])
            if b":" not in line:
                out.append(Banner(line.decode("utf-8", "replace")))
                del buf[: nl + 2]
        return True

    def _frames(self, out: list[Item]) -> None:
        """Cut every complete frame out of the buffer (rule 2, 4, 6)."""
        buf = self._buf
        find = buf.find
        pos = 0
        scan = self._scan
        while True:
            end = find(TERMINATOR, max(pos, scan - 3))
            if end < 0:
                break
            frame = bytes(buf[pos:end])
            pos = end + 4
            if frame:
                out.append(self._parse(frame))
        if pos:
            del buf[:pos]
        self._scan = len(buf)  # everything left has been searched
        if len(buf) > self.max_message:
            out.append(ProtocolError("message too large", len(buf), bytes(buf[:64])))
            self._discarding = True

    def _resync(self) -> bool:
        """Drop bytes up to and including the next terminator (rule 6); True once done."""
        buf = self._buf
        end = buf.find(TERMINATOR)
        self._scan = 0
        if end < 0:
            del buf[:-3]  # a terminator may straddle two reads
            return False
        del buf[: end + 4]
        self._discarding = False
        return True

    def _parse(self, frame: bytes) -> Item:
        if len(frame) > self.max_message:
            return ProtocolError("message too large", len(frame), frame[:64])
        try:
            text = frame.decode("utf-8")
            bad = False
        except UnicodeDecodeError:
            text = frame.decode("utf-8", "replace")
            bad = True
        headers: list[tuple[str, str]] = []
        append = headers.append
        max_line = self.max_line
        for line in text.split("\r\n"):
            if len(line) > max_line:
                return ProtocolError("header line too long", len(frame), frame[:64])
            k, sep, v = line.partition(":")
            if not sep or " " in k:
                for sub in line.split("\n"):  # legacy output lines end with a bare LF
                    if sub and sub != "--END COMMAND--":
                        append(("Output", sub))
                continue
            if v[:1] == " ":
                v = v[1:]
            append((k, v))
        return Message(headers, bad)

    def close(self) -> list[Item]:
        """End of stream: report an unterminated frame as an error (it is never a message)."""
        out: list[Item] = []
        if self._buf.strip():
            out.append(ProtocolError("truncated frame at end of stream", len(self._buf),
                                     bytes(self._buf[:64])))
        self._buf.clear()
        self._scan = 0
        return out


# -- encoding ---------------------------------------------------------------------------------
Fields = Mapping[str, "str | int | Iterable[str]"] | Iterable[tuple[str, str]]


def _pairs(fields: Fields) -> Iterator[tuple[str, str]]:
    items = fields.items() if isinstance(fields, Mapping) else fields
    for k, v in items:
        if isinstance(v, (list, tuple)):
            for one in v:
                yield k, str(one)
        elif v is None:
            continue
        else:
            yield k, str(v)


def encode(fields: Fields | Message) -> bytes:
    """Serialise one message (rule 8). Lists become repeated headers; None values are skipped."""
    pairs = fields.headers if isinstance(fields, Message) else _pairs(fields)
    parts: list[str] = []
    for k, v in pairs:
        if "\r" in k or "\n" in k or ":" in k or "\r" in v or "\n" in v:
            raise ValueError(f"CR/LF not allowed in AMI header {k!r}")
        parts.append(f"{k}: {v}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")


def encode_action(action: str, fields: Fields = (), action_id: str | None = None) -> bytes:
    """``Action: <action>`` + fields + ``ActionID`` last, as Asterisk's own clients write it."""
    pairs = [("Action", action), *_pairs(fields)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    return encode(pairs)


# -- AsyncAGI payloads ------------------------------------------------------------------------
def parse_agi_env(env: str | Message | None) -> dict[str, str]:
    """Decode an ``AsyncAGIStart`` ``Env`` into ``{"agi_dnid": "88005553535", ...}``.

    Invalid escapes and bytes are replaced, never raised: the Env is caller-influenced
    (caller id name) and one odd call must not stop the bridge.
    """
    if isinstance(env, Message):
        env = env.get("Env")
    if not env:
        return {}
    text = unquote(env, errors="replace")
    out: dict[str, str] = {}
    for line in text.split("\n"):
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v[1:] if v[:1] == " " else v
    return out


@dataclass(frozen=True, slots=True)
class AgiResult:
    """``200 result=49 endpos=16480`` → code=200, result="49", extra={"endpos": "16480"}.

    ``data`` is the parenthesised part (``(timeout)``, a variable's value); ``text`` is the rest
    of a non-200 line such as ``510 Invalid or unknown command``.
    """

    code: int
    result: str | None = None
    data: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    text: str = ""
    raw: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def int_result(self) -> int | None:
        try:
            return int(self.result) if self.result is not None else None
        except ValueError:
            return None

    @property
    def digit(self) -> str | None:
        """STREAM FILE / SAY / WAIT FOR DIGIT: ``result`` is the ASCII code of the key, 0 none."""
        n = self.int_result
        if n is not None and n > 0:
            try:
                return chr(n)
            except (ValueError, OverflowError):
                return None
        return None

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


_RESULT_RE = re.compile(r"^(\d{3})[ -]?(.*)$", re.DOTALL)
_KV_RE = re.compile(r"(\w+)=(\S*)")


def parse_agi_result(result: str | Message | None) -> AgiResult:
    """Decode an ``AsyncAGIExec`` ``Result``; garbage yields ``code=0`` rather than an error."""
    if isinstance(result, Message):
        result = result.get("Result")
    raw = unquote(result or "", errors="replace")
    m = _RESULT_RE.match(raw.strip())
    if not m:
        return AgiResult(code=0, text=raw.strip(), raw=raw)
    code = int(m.group(1))
    rest = m.group(2).strip()
    if code != 200:
        return AgiResult(code=code, text=rest, raw=raw)
    data = None
    if "(" in rest and rest.endswith(")"):
        head, _, tail = rest.partition("(")
        data = tail[:-1]
        rest = head.strip()
    res: str | None = None
    extra: dict[str, str] = {}
    for k, v in _KV_RE.findall(rest):
        if k == "result" and res is None:
            res = v
        else:
            extra[k] = v
    if res is None and rest.startswith("result="):
        res = ""
    return AgiResult(code=code, result=res, data=data, extra=extra, raw=raw)


def quote_agi_arg(value: str) -> str:
    """Quote one AGI command argument (``"..."`` with ``\\"`` and ``\\\\`` escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
