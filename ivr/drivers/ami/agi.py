"""AsyncAGI payloads inside AMI events: ``Env`` of AsyncAGIStart, ``Result`` of AsyncAGIExec.

Both are URL-encoded on the wire (codec rule 7); these helpers never raise on odd input, since
an Env carries caller-influenced text and one odd call must not stop the bridge.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from ivr.drivers.ami.message import Message


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
