"""Busy ports do not stop ``hotline serve``: the part that cannot listen is named in the banner
and the rest serves (a second hotline on the same machine, a stale process)."""
from __future__ import annotations

import asyncio
import socket

import pytest

from ivr.service.serve import Options, Service

pytestmark = pytest.mark.timeout(60)


def test_busy_sip_and_web_ports_are_reported_not_fatal(db_url, tmp_path):
    pytest.importorskip("uvicorn")
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))

    async def body():
        svc = Service(Options(db_url=db_url, sip_port=udp.getsockname()[1],
                              web_port=tcp.getsockname()[1], forecast=False))
        await svc.start()
        try:
            return svc.banner(), dict(svc.missing)
        finally:
            await svc.stop()

    try:
        banner, missing = asyncio.run(body())
    finally:
        tcp.close()
        udp.close()
    assert "in use" in missing["sip"] and "in use" in missing["web"]
    assert "SIP     off: cannot listen" in banner and "web     off: cannot listen" in banner
    assert "virtual agents" in banner
