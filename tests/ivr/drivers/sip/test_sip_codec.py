"""Wire-level pieces checked against pyVoIP 1.6.8's own parse (the reference we reuse)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from ivr.drivers.sip import g711, rtp, sdp
from ivr.drivers.sip import message as sipmsg

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

    import pyVoIP.VoIP  # noqa: F401 - before pyVoIP.RTP (its circular import)
    from pyVoIP.RTP import PayloadType, RTPClient, RTPMessage, TransmitType

INVITE = (
    b"INVITE sip:88005553535@127.0.0.1:5062 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-1;rport\r\n"
    b"From:\"Ivan\" <sip:+79161234567@10.0.0.7>;tag=abc\r\n"
    b"t: <sip:88005553535@127.0.0.1>\r\n"
    b"i: call-1@10.0.0.7\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:ivan@10.0.0.7:5070>\r\n"
    b"c: application/sdp\r\n\r\n"
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:96 telephone-event/8000\r\n"
)


def test_compact_headers_are_normalised_for_pyvoip():
    msg = sipmsg.parse(INVITE)
    assert msg.method == "INVITE" and msg.uri_user == "88005553535"
    assert msg.user("From") == "+79161234567" and msg.tag("From") == "abc"
    assert msg.call_id == "call-1@10.0.0.7" and msg.branch == "z9hG4bK-1"
    media = sdp.choose(msg.sdp, "x")
    assert (media.host, media.port, media.codec, media.event_pt) == ("10.0.0.7", 4000, 8, 96)


def test_response_goes_back_by_via_rport_and_echoes_headers():
    msg = sipmsg.parse(INVITE)
    source = ("192.0.2.9", 40000)  # behind a NAT: not what the Via says
    assert sipmsg.response_target(msg, source) == source
    resp = sipmsg.parse(sipmsg.response(msg, 180, source=source, to_tag="t1"))
    assert resp.status == 180 and resp.tag("To") == "t1" and resp.call_id == msg.call_id
    assert "received=192.0.2.9" in resp.header("Via") and "rport=40000" in resp.header("Via")


def test_via_without_rport_uses_its_own_port():
    msg = sipmsg.parse(INVITE.replace(b";rport", b""))
    assert sipmsg.response_target(msg, ("10.0.0.7", 33333)) == ("10.0.0.7", 5070)


@pytest.mark.parametrize("data", [b"garbage", b"INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\n",
                                  b"INVITE sip:x SIP/2.0\r\nno colon here\r\n\r\n",
                                  INVITE.replace(b"CSeq: 1 INVITE", b"CSeq: one"),
                                  INVITE.replace(b"a=rtpmap:96", b"a=rtpmap:77"), b"\xff" * 40])
def test_malformed_messages_raise_one_error_type(data):
    with pytest.raises(sipmsg.MalformedSip):
        sipmsg.parse(data)


def test_offer_without_g711_has_no_common_codec():
    msg = sipmsg.parse(INVITE.replace(b"RTP/AVP 8 0 96", b"RTP/AVP 18 96")
                       .replace(b"a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n",
                                b"a=rtpmap:18 G729/8000\r\n"))
    with pytest.raises(sdp.NoCommonCodec):
        sdp.choose(msg.sdp, "x")


def test_rtp_parse_agrees_with_pyvoip():
    rng = np.random.default_rng(5)
    for _ in range(50):
        payload = rng.integers(0, 256, 160, dtype=np.uint8).tobytes()
        seq, ts, ssrc = (int(x) for x in rng.integers(0, 2**16, 3))
        packet = rtp.build(0, seq, ts * 65536, ssrc, payload, marker=bool(seq % 2))
        ref = RTPMessage(packet, {0: PayloadType.PCMU})
        ours = rtp.parse(packet)
        assert ours == (0, ref.marker, ref.sequence, ref.timestamp, ref.SSRC, ref.payload)
    with pytest.raises(rtp.BadRtp):
        rtp.parse(b"\x00" * 20)


def test_sipp_pcaps_events_parse_like_pyvoip():
    """SIPp's own RFC 2833 capture: every event packet decodes, the key reported once."""
    pcap = Path("/usr/share/sip-tester/dtmf_2833_5.pcap")
    if not pcap.exists():
        pytest.skip("sip-tester pcaps not installed")
    from tests.sipp.pcaps import read_rtp

    packets = [p for p in read_rtp(pcap) if rtp.parse(p)[0] == 101]
    assert len(packets) > 3
    recv = rtp.EventReceiver()
    keys = [recv.feed(rtp.parse(p)[3], rtp.parse(p)[5]) for p in packets]
    assert [k for k in keys if k] == ["5"]


def test_event_receiver_takes_any_packet_once():
    payloads = rtp.event_payloads("7", 100)
    recv = rtp.EventReceiver()
    # the marker packet is lost: the next one still reports the key, the rest do not
    got = [recv.feed(1000, p) for p in payloads[1:]]
    assert got[0] == "7" and not any(got[1:])
    assert recv.feed(2600, payloads[0]) == "7"  # the same key again, a new event


def test_pcma_is_a_law_unlike_pyvoip():
    t = np.arange(1600) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    ours = g711.encode(pcm, sdp.PCMA)
    back = g711.decode(ours, sdp.PCMA).astype(float)
    assert np.max(np.abs(back - np.frombuffer(pcm, "<i2"))) < 300  # A-law step at 8000
    client = RTPClient({8: PayloadType.PCMA}, "127.0.0.1", 0, "127.0.0.1", 0,
                       TransmitType.SENDRECV)
    client.preference = PayloadType.PCMA
    eight_bit = audioop.bias(audioop.lin2lin(pcm, 2, 1), 1, 128)
    theirs = client.encode_packet(eight_bit)
    assert theirs == audioop.lin2ulaw(audioop.lin2lin(pcm, 2, 1), 1)  # μ-law under PCMA's name
    assert theirs != audioop.lin2alaw(audioop.lin2lin(pcm, 2, 1), 1)


def test_prompts_are_cut_into_padded_frames(tmp_path):
    import wave

    (tmp_path / "ru").mkdir()
    with wave.open(str(tmp_path / "ru" / "p.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\x00\x10" * 16000)  # 1 s at 16 kHz -> 8000 samples at 8 kHz
    frames = g711.Prompts(tmp_path).get("p", "en", sdp.PCMU)  # falls back to ru
    assert frames is not None and len(frames) == 50 and all(len(f) == 160 for f in frames)
    assert g711.Prompts(tmp_path).get("missing", "ru", sdp.PCMU) is None


def test_digest_matches_rfc2617_example():
    from ivr.drivers.sip.registration import Upstream, digest

    challenge = ('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                 'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                 'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    value = digest(challenge, method="GET", uri="/dir/index.html", user="Mufasa",
                   password="Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in value  # RFC 2617 §3.5
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value and "nc=00000001" in value
    assert Upstream.parse("sip:hot%40line:pw@pbx.example") == \
        Upstream("hot@line", "pw", "pbx.example", 5060)
