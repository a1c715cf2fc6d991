"""Optional registration to an upstream SIP server (RFC 3261 §10), digest auth (RFC 2617).

``SipEndpoint(..., upstream="sip:hotline:secret@pbx.example:5060")`` keeps a binding there so
the server can route the hotline's numbers to us; calls are still answered from any peer.
pyVoIP's own ``gen_authorization`` hashes a fixed ``sip:<server>;transport=UDP`` URI and
ignores ``qop``, which servers that ask for ``qop=auth`` (Asterisk's PJSIP does) refuse —
so the digest is computed here. The binding is refreshed at 80 % of the granted expiry and
removed (``Expires: 0``) on stop; a failure is logged and retried with backoff, never fatal.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

import structlog

from ivr.drivers.sip import message as sipmsg

log = structlog.get_logger("ivr.drivers.sip.registration")
_PARAM = re.compile(r'(\w+)=("[^"]*"|[^\s,]+)')


@dataclass(frozen=True)
class Upstream:
    user: str
    password: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str, *, credentials: bool = True) -> Upstream:
        """``sip:user:password@host[:port]`` (``sip:host[:port]`` too if not ``credentials``:
        an outbound route that needs no digest)."""
        body = url.split(":", 1)[1] if url.startswith("sip:") else url
        cred, _, hp = body.rpartition("@")
        user, _, password = cred.partition(":")
        host, _, port = hp.partition(":")
        if (credentials and not user) or not host or not (port or "5060").isdigit():
            raise ValueError("expected sip:user:password@host[:port]" if credentials
                             else "expected sip:[user:password@]host[:port]")
        return cls(unquote(user), unquote(password), host, int(port or 5060))


def digest(challenge: str, *, method: str, uri: str, user: str, password: str,
           cnonce: str | None = None, nc: int = 1) -> str:
    """The ``Authorization`` value answering a ``WWW-Authenticate: Digest …`` challenge."""
    p = {k.lower(): v.strip('"') for k, v in _PARAM.findall(challenge)}
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
              "algorithm=MD5"]
    if "auth" in [q.strip() for q in p.get("qop", "").split(",")]:
        cnonce = cnonce or secrets.token_hex(8)
        count = f"{nc:08x}"
        response = hashlib.md5(
            f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
    else:
        response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    if "opaque" in p:
        fields.append(f'opaque="{p["opaque"]}"')
    return "Digest " + ", ".join([*fields, f'response="{response}"'])


class Registration:
    """Keeps one binding alive; ``send`` puts bytes on the endpoint's socket and ``wait``
    returns the next response for a Call-ID (the endpoint routes responses here)."""

    def __init__(self, upstream: Upstream, *, contact: str, local: tuple[str, int],
                 send: Callable[[bytes, tuple[str, int]], None], expires: int = 300,
                 timeout: float = 4.0) -> None:
        self.up, self.contact, self.local, self.send = upstream, contact, local, send
        self.expires, self.timeout = expires, timeout
        self.call_id, self.tag, self.cseq = f"{secrets.token_hex(8)}@hotline", \
            sipmsg.new_tag(), 0
        self.inbox: asyncio.Queue[sipmsg.Message] = asyncio.Queue()
        self.status: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.status == 200:
            await self.register(0)

    async def _keep(self) -> None:
        backoff = 5.0
        while True:
            try:
                granted = await self.register(self.expires)
            except Exception:
                log.exception("sip_register_failed")
                granted = 0
            if granted:
                backoff = 5.0
                await asyncio.sleep(max(5.0, 0.8 * granted))
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 300.0)

    async def register(self, expires: int) -> int:
        """One REGISTER (with one digest retry); the granted expiry, 0 on failure."""
        uri = f"sip:{self.up.host}:{self.up.port}"
        auth: tuple[str, str] | None = None
        for _ in range(2):
            self.cseq += 1
            via = (f"SIP/2.0/UDP {self.local[0]}:{self.local[1]};"
                   f"branch={sipmsg.new_branch()};rport")
            aor = f"<sip:{self.up.user}@{self.up.host}>"
            headers = [("Via", via), ("From", f"{aor};tag={self.tag}"), ("To", aor),
                       ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} REGISTER"),
                       ("Contact", self.contact), ("Expires", str(expires))]
            if auth:
                headers.append(auth)
            self.send(sipmsg.request("REGISTER", uri, headers), (self.up.host, self.up.port))
            reply = await self._final()
            self.status = reply.status if reply else None
            if reply is None:
                log.warning("sip_register_no_answer", server=self.up.host)
                return 0
            if reply.status in (401, 407) and auth is None:
                name = "WWW-Authenticate" if reply.status == 401 else "Proxy-Authenticate"
                answer = "Authorization" if reply.status == 401 else "Proxy-Authorization"
                auth = (answer, digest(reply.header(name), method="REGISTER", uri=uri,
                                       user=self.up.user, password=self.up.password))
                continue
            if reply.status != 200:
                log.warning("sip_register_refused", server=self.up.host, status=reply.status)
                return 0
            granted = reply.header("Expires") or _contact_expires(reply.header("Contact"))
            log.info("sip_registered", server=self.up.host, expires=granted or expires)
            return int(granted or expires)
        return 0

    async def _final(self) -> sipmsg.Message | None:
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    msg = await self.inbox.get()
                    if msg.status >= 200 and msg.cseq[0] == self.cseq:
                        return msg
        except TimeoutError:
            return None


def _contact_expires(contact: str) -> str:
    found = re.search(r"expires=(\d+)", contact)
    return found.group(1) if found else ""
