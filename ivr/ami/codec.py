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

import operator
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

    Decoded messages are parsed lazily: the decoder keeps the frame's text and the headers are
    split on first access, except ``event`` (read off the first line) — so the many events a
    listener only dispatches on by name cost almost nothing.
    """

    __slots__ = ("_first", "_headers", "_multi", "_text", "bad_utf8")

    def __init__(self, headers: list[tuple[str, str]], bad_utf8: bool = False) -> None:
        self._text = None
        self.bad_utf8 = bad_utf8
        self._set(list(headers))

    @classmethod
    def _lazy(cls, text: str, bad: bool) -> Message:
        m = object.__new__(cls)
        m._text, m._headers, m._first, m._multi, m.bad_utf8 = text, None, None, None, bad
        return m

    def _set(self, headers: list[tuple[str, str]]) -> None:
        rev = headers[::-1]
        first = dict(zip(map(str.lower, map(_K, rev)), map(_V, rev), strict=True))
        self._headers, self._first = headers, first
        self._multi = None if len(first) == len(headers) else _multi_of(headers)

    def _load(self) -> dict[str, str]:
        """Split the frame's text into headers (rules 3 and 4)."""
        text = self._text or ""
        lines = text.split("\r\n")
        headers = [tuple(line.split(": ", 1)) for line in lines]
        if min(map(len, headers)) != 2 or " " in "".join(map(_K, headers)):
            headers = _slow_headers(lines)
        self._set(headers)  # type: ignore[arg-type]
        self._text = None
        return self._first  # type: ignore[return-value]

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._headers is None:
            self._load()
        return self._headers  # type: ignore[return-value]

    @classmethod
    def build(cls, *pairs: tuple[str, str], **kw: str) -> Message:
        """Convenience for tests and the emulator: ``Message.build(("Event", "Hangup"))``."""
        return cls([*pairs, *kw.items()])

    # -- lookup ------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        if self._first is None:
            v = self._quick(key)
            if v is not None:
                return v
            self._load()
        return self._first.get(key.lower(), default)  # type: ignore[union-attr]

    def _quick(self, key: str) -> str | None:
        """Exact-spelling lookup in the unsplit text (first occurrence, as ``get``).

        Only a hit is trusted; a miss (absent, or spelt differently) falls back to the full
        case-insensitive index. The result equals a full parse's unless one message spells the
        same key two ways (Asterisk never does).
        """
        text = self._text or ""
        tag = key + ": "
        if text.startswith(tag):
            i = len(tag)
        else:
            i = text.find("\r\n" + tag)
            if i < 0:
                return None
            i += len(tag) + 2
        j = text.find("\r\n", i)
        return text[i:] if j < 0 else text[i:j]

    def __getitem__(self, key: str) -> str:
        first = self._first if self._first is not None else self._load()
        return first[key.lower()]

    def __contains__(self, key: object) -> bool:
        first = self._first if self._first is not None else self._load()
        return isinstance(key, str) and key.lower() in first

    def mentions(self, key: str) -> bool:
        """Cheap pre-check: could this message hold ``key``? (never a false "no")."""
        text = self._text
        if text is None:
            return key in self
        return key in text or key.lower() in text.lower()

    def getall(self, key: str) -> list[str]:
        first = self._first if self._first is not None else self._load()
        lk = key.lower()
        if self._multi is not None and lk in self._multi:
            return list(self._multi[lk])
        v = first.get(lk)
        return [] if v is None else [v]

    def keys(self) -> list[str]:
        return [k for k, _ in self.headers]

    # -- classification ----------------------------------------------------------------------
    @property
    def event(self) -> str | None:
        """Event name, or None when this is not an event."""
        text = self._text
        if text is not None and text.startswith("Event: "):
            nl = text.find("\r\n")
            return text[7:] if nl < 0 else text[7:nl]
        return self.get("event")

    @property
    def response(self) -> str | None:
        """``Success``/``Error``/``Goodbye``/``Follows`` for responses; None for events.

        ``OriginateResponse`` *events* also carry a ``Response`` header, hence the check.
        """
        if self.event is not None:
            return None
        return self.get("response")

    @property
    def action(self) -> str | None:
        return self.get("action")

    @property
    def action_id(self) -> str | None:
        return self.get("actionid")

    @property
    def is_list_start(self) -> bool:
        return (self.get("eventlist") or "").lower() == "start"

    @property
    def is_list_complete(self) -> bool:
        return (self.get("eventlist") or "").lower() == "complete"

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
_K = operator.itemgetter(0)
_V = operator.itemgetter(1)


def _multi_of(headers: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    """Lower-cased key -> all values, for keys that repeat (``Variable``, ``Output``)."""
    seen: dict[str, list[str]] = {}
    for k, v in headers:
        seen.setdefault(k.lower(), []).append(v)
    return {k: v for k, v in seen.items() if len(v) > 1} or None


def _slow_headers(lines: list[str]) -> list[tuple[str, str]]:
    """Headers of a frame with irregular lines: free text becomes ``Output`` (rule 4)."""
    headers: list[tuple[str, str]] = []
    for line in lines:
        k, sep, v = line.partition(":")
        if not sep or " " in k:
            for sub in line.split("\n"):  # legacy output lines end with a bare LF
                if sub and sub != "--END COMMAND--":
                    headers.append(("Output", sub))
            continue
        headers.append((k, v[1:] if v[:1] == " " else v))
    return headers


def _head(text: str, raw: bytes | None) -> bytes:
    return raw[:64] if raw is not None else text[:64].encode("utf-8", "replace")


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
        """Cut every complete frame out of the buffer (rules 2, 4, 5, 6).

        Fast path: the complete part of the buffer is decoded in one go and split on
        ``\r\n\r\n``; only when that region holds invalid UTF-8 is it decoded frame by frame,
        so that one bad frame never taints its neighbours.
        """
        buf = self._buf
        last = buf.rfind(TERMINATOR, max(0, self._scan - 3))
        if last >= 0:
            region = bytes(buf[:last])
            del buf[: last + 4]
            try:
                frames = region.decode("utf-8").split("\r\n\r\n")
                bad = False
            except UnicodeDecodeError:
                frames = region.split(b"\r\n\r\n")  # type: ignore[assignment]
                bad = True
            parse = self._parse
            for frame in frames:
                if not frame:
                    continue
                if bad:
                    raw = frame
                    try:
                        out.append(parse(raw.decode("utf-8"), False, raw))
                    except UnicodeDecodeError:
                        out.append(parse(raw.decode("utf-8", "replace"), True, raw))
                else:
                    out.append(parse(frame, False, None))
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

    def _parse(self, text: str, bad: bool, raw: bytes | None) -> Item:
        """Check the limits (rule 6); the headers themselves are split lazily."""
        size = len(raw) if raw is not None else len(text)
        if size > self.max_message:
            return ProtocolError("message too large", size, _head(text, raw))
        if size > self.max_line and any(len(x) > self.max_line for x in text.split("\r\n")):
            return ProtocolError("header line too long", size, _head(text, raw))
        return Message._lazy(text, bad)

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
