"""``Message``: one AMI message with case-insensitive, order-keeping header access.

Part of the codec (rules in ``ivr.drivers.ami.codec``): the decoder hands over the frame's text and the
headers are split lazily, on first access.
"""
from __future__ import annotations

import operator

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
