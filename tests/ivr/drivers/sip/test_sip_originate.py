"""Calls the endpoint places (ivr.drivers.sip.outbound) against a bare UAS over real UDP:
the INVITE's shape, the ACKs, retransmissions, Timer B, the ring timeout's CANCEL, a number
that is not E.164, and a callee who answers, is greeted by the IVR and keys a menu choice."""
from __future__ import annotations

import asyncio

import pytest

from ivr.call.session import Hotline
from ivr.call.waits import FixedWait
from ivr.drivers.sip import SipEndpoint, sdp
from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip.outbound import OriginateResult, reason_for
from tests.ivr.drivers.sip.conftest import clock, rows
from tests.ivr.drivers.sip.uas import RawUas, RtpSink

pytestmark = pytest.mark.timeout(60)
NUMBER = "+79161234567"


def run_outbound(url: str, body, credentials: str = "", **kw):
    """A bare UAS as the gateway (``outbound=``), an endpoint on a free port, ``body(ep, uas)``."""
    async def main():
        uas = await RawUas.open()
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        options = {"clock": clock, "timeout_scale": 0.25, "t1": 0.05,
                   "outbound": uas.route.replace("sip:", f"sip:{credentials}")} | kw
        ep = SipEndpoint(hotline, "127.0.0.1", 0, **options)
        await ep.start()
        try:
            return await body(ep, uas)
        finally:
            await ep.stop(drain_timeout=2.0)
            uas.transport.close()
    return asyncio.run(main())


def session(ep: SipEndpoint):
    return ep.hotline.new_call(did="88005553535", caller=NUMBER)


def test_reasons_follow_the_final_code():
    assert [reason_for(c) for c in (200, 486, 600, 408, 480, 487, 404, 403, 503, 603, 302)] == [
        "answered", "busy", "busy", "no_answer", "no_answer", "no_answer", "rejected",
        "rejected", "rejected", "rejected", "rejected"]


@pytest.mark.parametrize("number", ["", "+7916;transport=tcp", "79161234567@evil", "7916 1234",
                                    "sip:79161234567", "+7916>\r\nX: y", "8(916)1234567"])
def test_a_number_that_is_not_e164_is_refused_before_anything_is_sent(sip_db, number):
    url, _ = sip_db

    async def body(ep, uas):
        with pytest.raises(ValueError):
            await ep.originate(number, session(ep))
        await asyncio.sleep(0.1)
        return len(uas.requests)

    assert run_outbound(url, body) == 0


def test_no_route_is_failed_and_not_sent(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        return await ep.originate(NUMBER, session(ep), timeout_s=1)

    assert run_outbound(url, body, outbound=None) == OriginateResult(False, 0, "failed", False)


def test_answered_call_runs_the_ivr_for_the_callee(sip_db, short_prompts):
    """INVITE → 100/180/200 → ACK (re-sent for the repeated 200) → the callee hears the IVR,
    keys 3 (documents) → the IVR queues the call and sends BYE."""
    url, _ = sip_db

    async def body(ep, uas):
        sink = await RtpSink.open()
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=10))
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 100)
        uas.reply(invite, addr, 180)
        ok = uas.answer(invite, addr, sink.port)
        ack1, _ = await uas.expect("ACK")
        result = await task
        uas.transport.sendto(ok, addr)  # the 200 again, as if our ACK was lost
        ack2, _ = await uas.expect("ACK")
        for _ in range(100):
            if len(sink.packets) > 10:
                break
            await asyncio.sleep(0.02)
        sink.press("3", ts=8000)
        bye, bye_addr = await uas.expect("BYE", timeout=30)
        uas.reply(bye, bye_addr, 200)
        await asyncio.sleep(0.2)
        sink.transport.close()
        return result, invite, ack1, ack2, bye, sipmsg.parse(ok), sink.packets, ep.port

    result, invite, ack1, ack2, bye, ok, packets, port = run_outbound(
        url, body, recordings=str(short_prompts))
    assert result == OriginateResult(True, 200, "answered")
    assert invite.uri.startswith(f"sip:{NUMBER}@127.0.0.1:") and invite.cseq == (1, "INVITE")
    assert sipmsg.uri_of(invite.header("Contact")) == f"sip:hotline@127.0.0.1:{port}"
    offer = sdp.choose(invite.sdp, "x")
    assert (offer.codec, offer.event_pt) == (sdp.PCMU, 101)
    for ack in (ack1, ack2):
        assert ack.cseq == (1, "ACK") and ack.call_id == invite.call_id
        assert ack.uri == sipmsg.uri_of(ok.header("Contact"))  # end to end, to the Contact
        assert ack.branch != invite.branch and ack.tag("To") == ok.tag("To")
        assert ack.tag("From") == invite.tag("From")
    assert bye.cseq == (2, "BYE") and bye.tag("From") == invite.tag("From")
    assert bye.tag("To") == ok.tag("To") and bye.uri == ack1.uri
    assert {p[1] & 0x7F for p in packets} == {sdp.PCMA}  # the codec the answer chose
    [row] = rows(url)
    assert (row.outcome, row.skill) == ("queued", "documents")


def test_callee_hangs_up_first(sip_db, short_prompts):
    url, _ = sip_db

    async def body(ep, uas):
        sink = await RtpSink.open()
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=10))
        invite, addr = await uas.expect("INVITE")
        ok = uas.answer(invite, addr, sink.port)
        await uas.expect("ACK")
        await task
        await asyncio.sleep(0.3)
        uas.bye(sipmsg.parse(ok), invite, addr)
        for _ in range(100):
            if not ep.dialogs:
                break
            await asyncio.sleep(0.05)
        sink.transport.close()
        return len(ep.dialogs), uas.count("BYE"), uas.responses("BYE")

    left, byes, answers = run_outbound(url, body, recordings=str(short_prompts))
    [row] = rows(url)
    assert row.outcome == "abandoned_ivr" and left == 0
    assert (byes, answers) == (0, [200])  # the callee's BYE answered, none of ours


def test_silent_gateway_ends_on_timer_b_with_one_invite_retransmitted(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        result = await ep.originate(NUMBER, session(ep), timeout_s=30)
        return result, [m for m, _ in uas.requests]

    result, seen = run_outbound(url, body, t1=0.02)
    assert result == OriginateResult(False, 0, "unreachable")
    assert len(seen) >= 4 and {m.method for m in seen} == {"INVITE"}
    assert len({(m.branch, m.call_id, m.header("CSeq"), m.tag("From")) for m in seen}) == 1
    assert rows(url) == []


def test_ring_timeout_cancels_and_acks_the_487(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=0.5))
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 183)
        cancel, caddr = await uas.expect("CANCEL")
        uas.reply(cancel, caddr, 200)
        uas.reply(invite, addr, 487)
        ack, _ = await uas.expect("ACK")
        result = await task
        return result, invite, cancel, ack, uas.count("INVITE")

    result, invite, cancel, ack, invites = run_outbound(url, body)
    assert result == OriginateResult(False, 487, "no_answer")
    assert invites == 1
    assert cancel.branch == invite.branch and cancel.cseq == (1, "CANCEL")
    assert cancel.uri == invite.uri and cancel.header("To") == invite.header("To")
    assert ack.branch == invite.branch and ack.cseq == (1, "ACK") and ack.tag("To")
    assert rows(url) == []


def test_busy_is_acked_hop_by_hop_and_reacked_when_repeated(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=5))
        invite, addr = await uas.expect("INVITE")
        busy = uas.reply(invite, addr, 486)
        first, _ = await uas.expect("ACK")
        uas.transport.sendto(busy, addr)
        again, _ = await uas.expect("ACK")
        return await task, invite, first, again

    result, invite, first, again = run_outbound(url, body)
    assert result == OriginateResult(False, 486, "busy")
    assert first.branch == invite.branch == again.branch and first.uri == invite.uri


def test_a_provisional_after_we_gave_up_gets_its_cancel(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        result = await ep.originate(NUMBER, session(ep), timeout_s=0.2)  # nothing answered
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 180)
        cancel, caddr = await uas.expect("CANCEL")
        uas.reply(cancel, caddr, 200)
        uas.reply(invite, addr, 487)
        await uas.expect("ACK")
        return result, cancel.branch == invite.branch

    result, same_branch = run_outbound(url, body, t1=0.5)
    assert result == OriginateResult(False, 0, "unreachable") and same_branch


def test_serve_passes_the_outbound_route_from_flag_or_environment(monkeypatch):
    from ivr.cli import build_parser
    from ivr.service.cli import _options

    monkeypatch.setenv("HOTLINE_SIP_OUTBOUND", "sip:trunk:pw@10.0.0.5:5080")
    argv = ["serve", "--no-web"]
    assert _options(build_parser(argv).parse_args(argv)).sip_outbound == \
        "sip:trunk:pw@10.0.0.5:5080"
    argv = ["serve", "--sip-outbound", "sip:10.0.0.6"]
    assert _options(build_parser(argv).parse_args(argv)).sip_outbound == "sip:10.0.0.6"


@pytest.mark.parametrize("route", ["sip:host:port", "sip:", "sip:user:pw@"])
def test_a_malformed_outbound_route_is_refused_at_start(route):
    with pytest.raises(ValueError, match="host"):
        SipEndpoint(None, outbound=route)


def test_softphone_answers_a_placed_call_hears_the_ivr_and_keys_a_choice(sip_db, short_prompts):
    """End to end with our own softphone as the citizen (``hotline softphone answer``): the
    greeting is heard, key 3 (RFC 4733) queues the call for documents, the IVR hangs up."""
    from ivr.drivers.sip.softphone import Softphone
    from tests.sipp.test_sipp import free_port

    url, _ = sip_db
    port = free_port()

    async def main():
        phone = asyncio.ensure_future(Softphone().answer(port, ["3"], linger=20, wait=20))
        await asyncio.sleep(0.2)
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        ep = SipEndpoint(hotline, "127.0.0.1", 0, clock=clock, t1=0.1,
                         outbound=f"sip:127.0.0.1:{port}", recordings=str(short_prompts))
        await ep.start()
        try:
            result = await ep.originate(NUMBER, hotline.new_call(did="88005553535"))
            heard = await asyncio.wait_for(phone, 60)
        finally:
            await ep.stop(drain_timeout=2.0)
        return result, heard

    result, heard = asyncio.run(main())
    assert result == OriginateResult(True, 200, "answered")
    assert heard["sent"] == ["3"] and heard["ended_by"] == "remote" and heard["speech_s"] > 0.2
    [row] = rows(url)
    assert (row.outcome, row.skill) == ("queued", "documents")


def test_endpoint_stopping_cancels_a_ringing_call(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=30))
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 180)
        await asyncio.sleep(0.1)
        stopping = asyncio.ensure_future(ep.stop(drain_timeout=0.5))
        cancel, _ = await uas.expect("CANCEL")
        await stopping
        return await task, cancel.branch == invite.branch

    assert run_outbound(url, body) == (OriginateResult(False, 0, "failed"), True)


def test_an_answer_racing_a_cancelled_originate_is_acked_and_hung_up(sip_db):
    """The dialler gave up (its task cancelled) while the phone rang; the citizen picks up in
    that instant: the 200 gets its ACK and at once our BYE — no call left open."""
    url, _ = sip_db

    async def body(ep, uas):
        sink = await RtpSink.open()
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=30))
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 180)
        await asyncio.sleep(0.1)
        task.cancel()
        await uas.expect("CANCEL")
        uas.answer(invite, addr, sink.port)  # too late to cancel: the 200 wins at the callee
        ack, _ = await uas.expect("ACK")
        bye, bye_addr = await uas.expect("BYE")
        uas.reply(bye, bye_addr, 200)
        sink.transport.close()
        return task.cancelled(), ack.cseq, bye.cseq, bye.call_id == invite.call_id

    assert run_outbound(url, body) == (True, (1, "ACK"), (2, "BYE"), True)
    assert rows(url) == []  # the session never started


def test_gateway_by_name_and_an_unknown_name(sip_db):
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=0.3))
        invite, _ = await uas.expect("INVITE")
        return await task, invite.uri

    async def main():
        uas = await RawUas.open()
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        out = []
        for route in (f"sip:localhost:{uas.port}", "sip:no-such-host.invalid:5060"):
            ep = SipEndpoint(hotline, "127.0.0.1", 0, clock=clock, t1=0.05, outbound=route)
            await ep.start()
            try:
                if "invalid" in route:
                    out.append(await ep.originate(NUMBER, session(ep), timeout_s=0.3))
                else:
                    out.append(await body(ep, uas))
            finally:
                await ep.stop(drain_timeout=0)
        uas.transport.close()
        return out

    (result, uri), unknown = asyncio.run(main())
    assert result.reason == "unreachable" and uri.startswith(f"sip:{NUMBER}@localhost:")
    assert unknown == OriginateResult(False, 0, "failed", sent=False)


def test_a_response_for_another_branch_is_not_ours(sip_db):
    """Same Call-ID and CSeq but not our INVITE's branch (a stray or forged 200): ignored."""
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=5))
        invite, addr = await uas.expect("INVITE")
        forged = sipmsg.parse(sipmsg.request("INVITE", invite.uri, [
            ("Via", invite.header("Via").replace(invite.branch, "z9hG4bKforged")),
            ("From", invite.header("From")), ("To", invite.header("To")),
            ("Call-ID", invite.call_id), ("CSeq", "1 INVITE")]))
        uas.answer(forged, addr, 4000)
        await asyncio.sleep(0.2)
        uas.reply(invite, addr, 486)
        await uas.expect("ACK")
        return await task, uas.count("ACK")

    assert run_outbound(url, body) == (OriginateResult(False, 486, "busy"), 1)


def test_proxy_challenge_gets_proxy_authorization_and_the_2xx_ack_carries_it(sip_db):
    import re

    from ivr.drivers.sip.registration import digest

    url, _ = sip_db
    challenge = 'Digest realm="trunk", nonce="abc123", qop="auth", algorithm=MD5'

    async def body(ep, uas):
        sink = await RtpSink.open()
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=5))
        first, addr = await uas.expect("INVITE")
        uas.reply(first, addr, 407, extra=(("Proxy-Authenticate", challenge),))
        ack407, _ = await uas.expect("ACK")
        second, addr = await uas.expect("INVITE")
        uas.answer(second, addr, sink.port)
        ack, _ = await uas.expect("ACK")
        result = await task
        sink.transport.close()
        return result, first, ack407, second, ack

    result, first, ack407, second, ack = run_outbound(url, body, credentials="trunkuser:pa55@")
    assert result == OriginateResult(True, 200, "answered")
    assert ack407.branch == first.branch and ack407.cseq == (1, "ACK")
    assert second.cseq == (2, "INVITE") and second.branch != first.branch
    assert (second.call_id, second.tag("From")) == (first.call_id, first.tag("From"))
    auth = second.header("Proxy-Authorization")
    cnonce = re.search(r'cnonce="([^"]+)"', auth).group(1)
    assert auth == digest(challenge, method="INVITE", uri=second.uri, user="trunkuser",
                          password="pa55", cnonce=cnonce)
    assert ack.cseq == (2, "ACK") and ack.header("Proxy-Authorization") == auth


def test_the_citizen_sees_the_hotline_number_in_p_asserted_identity(sip_db):
    """``caller_id`` (serve: HOTLINE_SIP_CALLER_ID) goes out as RFC 3325 P-Asserted-Identity;
    the From user stays the trunk's account; a caller id that is not + and digits is refused."""
    url, _ = sip_db

    async def body(ep, uas):
        task = asyncio.ensure_future(ep.originate(NUMBER, session(ep), timeout_s=5))
        invite, addr = await uas.expect("INVITE")
        uas.reply(invite, addr, 486)
        await uas.expect("ACK")
        return await task, invite

    result, invite = run_outbound(url, body, "trunk7@", caller_id="88005553535")
    assert result.reason == "busy"
    assert invite.header("P-Asserted-Identity").startswith("<sip:88005553535@")
    assert invite.header("From").startswith("<sip:trunk7@")
    with pytest.raises(ValueError):
        SipEndpoint(None, outbound="sip:10.0.0.6", caller_id="8800;evil")
