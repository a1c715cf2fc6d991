"""Sans-IO codec for the Asterisk Manager Interface (AMI): bytes in, messages out.

Modelled on h11: this file owns every framing rule; it never touches a socket or a clock, so the
same code serves the asyncio client, the emulator, the tests and the benchmarks. The rules below
are what a real Asterisk 22.10.1 puts on the wire (see tests/data/asterisk/transcripts).

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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ivr.drivers.ami.agi import AgiResult, parse_agi_env, parse_agi_result, quote_agi_arg
from ivr.drivers.ami.message import Message

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
    "quote_agi_arg",
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


Item = Message | Banner | ProtocolError


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
    # lone surrogates (text decoded with "surrogateescape") go out as the raw bytes they stand
    # for: the emulator replays what Asterisk passes through, e.g. a CP1251 caller name
    return "".join(parts).encode("utf-8", "surrogateescape")


def encode_action(action: str, fields: Fields = (), action_id: str | None = None) -> bytes:
    """``Action: <action>`` + fields + ``ActionID`` last, as Asterisk's own clients write it."""
    pairs = [("Action", action), *_pairs(fields)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    return encode(pairs)


# -- AsyncAGI payloads ------------------------------------------------------------------------
