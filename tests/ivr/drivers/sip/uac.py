"""A bare SIP user agent for tests: sends exactly the bytes a test wants, keeps what comes back."""
from __future__ import annotations

import asyncio
import secrets
import socket

from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip import rtp, sdp


class RawUac(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[sipmsg.Message] = asyncio.Queue()
        self.raw: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.call_id = f"{secrets.token_hex(6)}@test"
        self.branch = sipmsg.new_branch()

    @classmethod
    async def open(cls, server_port: int) -> RawUac:
        loop = asyncio.get_running_loop()
        _, uac = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0),
                                                     remote_addr=("127.0.0.1", server_port))
        return uac

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.raw.append(data)
        try:
            self.inbox.put_nowait(sipmsg.parse(data))
        except sipmsg.MalformedSip:
            pass

    @property
    def port(self) -> int:
        return self.transport.get_extra_info("sockname")[1]

    def send(self, data: bytes) -> None:
        self.transport.sendto(data)

    def headers(self, method: str, cseq: int = 1, to_tag: str = "",
                branch: str | None = None) -> list[tuple[str, str]]:
        to = "<sip:88005553535@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        return [("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch or self.branch};rport"),
                ("From", "<sip:+79161234567@127.0.0.1>;tag=uac1"), ("To", to),
                ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}"),
                ("Contact", f"<sip:uac@127.0.0.1:{self.port}>")]

    def invite(self, service: str = "88005553535", codecs: tuple[int, ...] = (sdp.PCMU,),
               rtp_port: int = 4000, body: bytes | None = None) -> bytes:
        offer = body if body is not None else sdp.build("127.0.0.1", rtp_port, codecs, 101)
        data = sipmsg.request("INVITE", f"sip:{service}@127.0.0.1", self.headers("INVITE"), offer)
        self.send(data)
        return data

    def ack(self, to_tag: str, new_branch: bool = True) -> None:
        branch = sipmsg.new_branch() if new_branch else self.branch
        self.send(sipmsg.request("ACK", "sip:88005553535@127.0.0.1",
                                 self.headers("ACK", 1, to_tag, branch)))

    def bye(self, to_tag: str) -> None:
        self.send(sipmsg.request("BYE", "sip:88005553535@127.0.0.1",
                                 self.headers("BYE", 2, to_tag, sipmsg.new_branch())))

    async def expect(self, status: int | str, timeout: float = 5.0) -> sipmsg.Message:
        """The next response with this status (or request with this method)."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.inbox.get()
                if (msg.is_request and msg.method == status) or \
                        (not msg.is_request and msg.status == status):
                    return msg

    async def answered(self) -> tuple[str, tuple[str, int]]:
        """INVITE → 200: the To-tag and where the endpoint wants RTP."""
        self.invite()
        ok = await self.expect(200)
        media = sdp.choose(ok.sdp, "127.0.0.1")
        return ok.tag("To"), (media.host, media.port)


def event_packets(key: str, ts: int, seq: int = 1) -> list[bytes]:
    return [rtp.build(101, seq + i, ts, 0x1234, p, marker=i == 0)
            for i, p in enumerate(rtp.event_payloads(key))]


def udp(port: int, data: bytes) -> None:
    """One datagram to 127.0.0.1:port from a throw-away socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, ("127.0.0.1", port))
