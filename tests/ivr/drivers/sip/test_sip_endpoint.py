"""The endpoint's SIP behaviour and bad input, over real UDP with a bare user agent: each bad
message gets its answer and the calls around it carry on."""
from __future__ import annotations

import asyncio

import pytest

from ivr.drivers.sip import sdp
from tests.ivr.drivers.sip.conftest import rows, run_with_endpoint
from tests.ivr.drivers.sip.uac import RawUac, event_packets, udp

pytestmark = pytest.mark.timeout(60)


def test_malformed_sip_is_answered_or_dropped_and_calls_go_on(sip_db, capsys):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, _ = await uac.answered()  # a call in progress
        uac.ack(tag)
        uac.send(f"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{uac.port};branch=z9hG4bKx"
                 ";rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: bad1\r\n"
                 "CSeq: one\r\n\r\n".encode())
        for _ in range(100):  # the 400 echoes the bad CSeq, so only its raw bytes are kept
            bad = next((r for r in uac.raw if r.startswith(b"SIP/2.0 400")), None)
            if bad:
                break
            await asyncio.sleep(0.02)
        for junk in (b"\x00\xff" * 50, b"hello", b"SIP/2.0 banana", b"\r\n\r\n"):
            udp(ep.port, junk)
        other = await RawUac.open(ep.port)
        other_tag, _ = await other.answered()  # a new call is still answered
        other.ack(other_tag)
        uac.bye(tag)
        await uac.expect(200)
        other.bye(other_tag)
        await other.expect(200)
        return bad, ep.stats["malformed"]

    bad, malformed = run_with_endpoint(url, body)
    assert bad is not None and b"Call-ID: bad1" in bad
    assert malformed == 4  # the bad INVITE and three junk datagrams; a bare CRLF is a keep-alive
    assert len(rows(url)) == 2 and all(r.outcome == "abandoned_ivr" for r in rows(url))
    assert "sip_malformed" in capsys.readouterr().out


def test_no_common_codec_is_488_until_acked(sip_db):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        offer = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                 b"m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
        uac.invite(body=offer)
        first = await uac.expect(488)
        again = await uac.expect(488)  # retransmitted: no ACK yet
        uac.ack(first.tag("To"), new_branch=False)
        await asyncio.sleep(0.5)
        return first, again, len(ep.finals)

    first, again, pending = run_with_endpoint(url, body)
    assert again.call_id == first.call_id and pending == 0
    assert rows(url) == []


def test_200_is_retransmitted_until_ack_and_invite_retransmission_absorbed(sip_db):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        data = uac.invite()
        ok = await uac.expect(200)
        uac.send(data)  # the INVITE again: the same 200, no second call
        await uac.expect(200)
        await uac.expect(200)  # T1 passed without ACK: resent
        uac.ack(ok.tag("To"))
        await asyncio.sleep(0.6)
        uac.inbox = asyncio.Queue()
        await asyncio.sleep(0.6)
        after_ack = uac.inbox.qsize()
        uac.bye(ok.tag("To"))
        await uac.expect(200)
        return ep.stats["calls"], after_ack

    calls, after_ack = run_with_endpoint(url, body)
    assert calls == 1 and after_ack == 0
    assert len(rows(url)) == 1


def test_cancel_while_ringing_is_487(sip_db):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        uac.invite()
        ringing = await uac.expect(180)
        uac.send(b"CANCEL sip:88005553535@127.0.0.1 SIP/2.0\r\n" + b"\r\n".join(
            f"{n}: {v}".encode() for n, v in uac.headers("CANCEL")) + b"\r\nContent-Length: 0\r\n\r\n")
        await uac.expect(200)
        terminated = await uac.expect(487)
        uac.ack(ringing.tag("To"), new_branch=False)
        return terminated

    terminated = run_with_endpoint(url, body, ring_delay=1.0)
    assert terminated.method == "INVITE"
    assert rows(url) == []  # never answered


def test_rtp_garbage_then_a_real_key(sip_db, short_prompts):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, media = await uac.answered()
        uac.ack(tag)
        for junk in (b"", b"\x00" * 11, b"\x80" * 12, b"\xbf" + b"\x00" * 40, b"\x40" * 200):
            udp(media[1], junk)
        await asyncio.sleep(0.2)
        for packet in event_packets("3", ts=8000):
            udp(media[1], packet)
            await asyncio.sleep(0.02)
        bye = await uac.expect("BYE", timeout=40)  # menu 3: queued, the IVR hangs up
        return bye

    run_with_endpoint(url, body, rtp_timeout=60, recordings=str(short_prompts))
    [row] = rows(url)
    assert (row.outcome, row.skill) == ("queued", "documents")


def test_peer_vanishing_without_bye_ends_on_rtp_timeout(sip_db):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, _ = await uac.answered()
        uac.ack(tag)  # ...and then silence: no RTP, no BYE
        bye = await uac.expect("BYE", timeout=10)
        return bye

    bye = run_with_endpoint(url, body, rtp_timeout=1.0)
    assert bye.method == "BYE"
    [row] = rows(url)
    assert row.outcome == "abandoned_ivr"


def test_stop_gives_every_call_its_outcome(sip_db):
    url, _ = sip_db

    async def body(ep):
        uacs = [await RawUac.open(ep.port) for _ in range(3)]
        for uac in uacs:
            tag, _ = await uac.answered()
            uac.ack(tag)
        await ep.stop(drain_timeout=0.2)
        return [await uac.expect("BYE") for uac in uacs]

    byes = run_with_endpoint(url, body)
    assert len(byes) == 3
    got = rows(url)
    assert len(got) == 3 and all(r.outcome == "error" for r in got)
    assert all("stopped" in (r.detail or "") for r in got)


def test_options_register_unknown_method_and_stray_bye(sip_db):
    url, _ = sip_db

    async def body(ep):
        uac = await RawUac.open(ep.port)
        out = {}
        for method, extra in (("OPTIONS", []), ("REGISTER", [("Expires", "600")]),
                              ("SUBSCRIBE", []), ("BYE", [])):
            from ivr.drivers.sip import message as sipmsg

            uac.send(sipmsg.request(method, "sip:127.0.0.1",
                                    uac.headers(method, branch=sipmsg.new_branch()) + extra))
            msg = await uac.inbox.get()
            out[method] = msg.status
        return out, dict(ep.bindings)

    statuses, bindings = run_with_endpoint(url, body)
    assert statuses == {"OPTIONS": 200, "REGISTER": 200, "SUBSCRIBE": 405, "BYE": 481}
    assert "sip:88005553535@127.0.0.1" in bindings
    assert sdp.PCMU == 0
