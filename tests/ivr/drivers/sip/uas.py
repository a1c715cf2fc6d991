"""A bare SIP user agent server for the outbound tests: keeps every request it gets, answers
exactly what a test tells it to (the endpoint's own replies are not used, so nothing of ours
checks ours)."""
from __future__ import annotations

import asyncio

from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip import sdp


class RawUas(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.requests: list[tuple[sipmsg.Message, tuple[str, int]]] = []
        self.inbox: asyncio.Queue[tuple[sipmsg.Message, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.tag = sipmsg.new_tag()

    @classmethod
    async def open(cls) -> RawUas:
        loop = asyncio.get_running_loop()
        _, uas = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return uas

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        msg = sipmsg.parse(data)
        self.requests.append((msg, addr))
        self.inbox.put_nowait((msg, addr))

    @property
    def port(self) -> int:
        return self.transport.get_extra_info("sockname")[1]

    @property
    def route(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    async def expect(self, method: str, timeout: float = 5.0) -> tuple[sipmsg.Message, tuple]:
        async with asyncio.timeout(timeout):
            while True:
                msg, addr = await self.inbox.get()
                if msg.is_request and msg.method == method:
                    return msg, addr

    def reply(self, req: sipmsg.Message, addr, code: int, *, body: bytes = b"",
              extra: tuple[tuple[str, str], ...] = ()) -> bytes:
        data = sipmsg.response(req, code, source=addr, to_tag=self.tag if code > 100 else "",
                               body=body, extra=extra)
        self.transport.sendto(data, addr)
        return data

    def answer(self, req: sipmsg.Message, addr, rtp_port: int) -> bytes:
        body = sdp.build("127.0.0.1", rtp_port, (sdp.PCMA,), 101)
        return self.reply(req, addr, 200, body=body,
                          extra=(("Contact", f"<sip:callee@127.0.0.1:{self.port}>"),))

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.requests if m.is_request and m.method == method)

    def responses(self, method: str) -> list[int]:
        return [m.status for m, _ in self.requests if not m.is_request and m.method == method]

    def bye(self, ok: sipmsg.Message, invite: sipmsg.Message, addr) -> None:
        """Our BYE inside the dialog the 200 ``ok`` made (we are the callee)."""
        headers = [("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch={sipmsg.new_branch()}"),
                   ("From", ok.header("To")), ("To", invite.header("From")),
                   ("Call-ID", invite.call_id), ("CSeq", "1 BYE")]
        target = sipmsg.uri_of(invite.header("Contact"))
        self.transport.sendto(sipmsg.request("BYE", target, headers), addr)


class RtpSink(asyncio.DatagramProtocol):
    """The callee's media port: counts what arrives, can send keys back as RFC 4733 events."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.peer: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls) -> RtpSink:
        loop = asyncio.get_running_loop()
        _, sink = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return sink

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.packets.append(data)
        self.peer = addr

    @property
    def port(self) -> int:
        return self.transport.get_extra_info("sockname")[1]

    def press(self, key: str, ts: int) -> None:
        from ivr.drivers.sip import rtp

        for i, payload in enumerate(rtp.event_payloads(key)):
            self.transport.sendto(rtp.build(101, 100 + i, ts, 1234, payload, i == 0), self.peer)
