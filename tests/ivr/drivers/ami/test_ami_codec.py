"""The codec against the real Asterisk 22 transcripts, byte for byte, plus fuzzing."""
from __future__ import annotations

import random

import pytest
from ami_transcripts import SCENARIOS, TRANSCRIPTS, client_bytes, server_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.drivers.ami.codec import (
    Banner,
    Decoder,
    Message,
    ProtocolError,
    encode,
    encode_action,
    parse_agi_env,
    parse_agi_result,
)


def test_all_transcripts_present():
    assert TRANSCRIPTS.is_dir(), f"transcripts missing at {TRANSCRIPTS}"
    assert set(SCENARIOS) >= {
        "asyncagi_sip_dtmf", "misc_errors_and_command", "originate_local_asyncagi",
        "originate_local_simple", "queue_abandon", "queue_timeout",
    }


def _decode(data: bytes, chunks: list[int] | None, banner: bool = True) -> list:
    dec = Decoder(expect_banner=banner)
    out: list = []
    if chunks is None:
        out += dec.feed(data)
    else:
        i = 0
        for n in chunks:
            out += dec.feed(data[i:i + n])
            i += n
        out += dec.feed(data[i:])
    assert dec.close() == []
    return out


def _count_frames(data: bytes) -> int:
    body = data.split(b"\r\n", 1)[1] if data.startswith(b"Asterisk Call Manager") else data
    return len([f for f in body.split(b"\r\n\r\n") if f])


def _chunkings(data: bytes, seed: int) -> dict[str, list[int] | None]:
    rnd = random.Random(seed)
    sizes = []
    total = 0
    while total < len(data):
        n = rnd.randint(1, 97)
        sizes.append(n)
        total += n
    return {"whole": None, "random": sizes, "bytewise": [1] * len(data)}


@pytest.mark.parametrize("name", SCENARIOS)
def test_server_transcript_replay_any_chunking(name):
    data = server_bytes(name)
    results = {k: _decode(data, c) for k, c in _chunkings(data, hash(name) & 0xFFFF).items()}
    whole = results["whole"]
    assert isinstance(whole[0], Banner) and whole[0].text == "Asterisk Call Manager/11.0.0"
    assert whole[0].version == "11.0.0"
    msgs = whole[1:]
    assert all(isinstance(m, Message) and not m.bad_utf8 for m in msgs)
    assert len(msgs) == _count_frames(data)
    for k, other in results.items():
        assert other == whole, k
    # the wire bytes come back exactly
    assert b"Asterisk Call Manager/11.0.0\r\n" + b"".join(encode(m) for m in msgs) == data
    assert msgs[0].response == "Success" and msgs[0]["message"] == "Authentication accepted"
    assert msgs[-1].response == "Goodbye"


@pytest.mark.parametrize("name", SCENARIOS)
def test_client_actions_round_trip_exactly(name):
    data = client_bytes(name)
    for chunks in _chunkings(data, 7).values():
        msgs = _decode(data, chunks, banner=False)
        assert all(isinstance(m, Message) for m in msgs)
        assert b"".join(encode(m) for m in msgs) == data
    msgs = _decode(data, None, banner=False)
    assert msgs[0].action == "Login" and msgs[0]["username"] == "ivr"
    assert msgs[-1].action == "Logoff"
    # rebuilding each action through encode_action gives the same bytes
    for m in msgs:
        fields = [(k, v) for k, v in m.headers if k not in ("Action", "ActionID")]
        assert encode_action(m.action, fields, m.action_id) == encode(m)


def _msgs(name: str) -> list[Message]:
    return [m for m in Decoder().feed(server_bytes(name)) if isinstance(m, Message)]


def test_asyncagi_fields():
    msgs = _msgs("asyncagi_sip_dtmf")
    start = next(m for m in msgs if m.event == "AsyncAGIStart")
    env = parse_agi_env(start)
    assert env["agi_dnid"] == "88005553535"
    assert env["agi_callerid"] == "79161234567"
    assert env["agi_channel"] == "PJSIP/trunk-00000000"
    assert env["agi_accountcode"] == ""
    assert env["agi_language"] == "ru"
    assert start["accountcode"] == ""  # "AccountCode: " keeps its empty value
    execs = [m for m in msgs if m.event == "AsyncAGIExec"]
    # the event says CommandId (lower-case d); lookup is case-insensitive
    assert [m["CommandID"] for m in execs] == ["cmd-stream-1", "cmd-getdata-1"]
    assert "CommandId" in [k for k, _ in execs[0].headers]
    r1 = parse_agi_result(execs[0])
    assert (r1.code, r1.result, r1.extra, r1.digit) == (200, "49", {"endpos": "16480"}, "1")
    r2 = parse_agi_result(execs[1])
    assert (r2.result, r2.digit is not None, r2.timed_out) == ("2345", True, False)
    starts = [m for m in msgs if m.event == "AGIExecStart"]
    assert starts[0]["CommandId"] == "745858339"  # internal id, not ours
    dtmf = [m["digit"] for m in msgs if m.event == "DTMFEnd"]
    assert dtmf == ["1", "2", "3", "4", "5"]
    names = [m.event for m in msgs if m.event in (
        "HangupRequest", "AsyncAGIEnd", "SoftHangupRequest", "Hangup")]
    assert names == ["HangupRequest", "AsyncAGIEnd", "SoftHangupRequest", "Hangup"]
    hangup = next(m for m in msgs if m.event == "Hangup")
    assert hangup["cause"] == "0" and hangup["Cause-txt"] == "Unknown"
    loss = next(m for m in msgs if m.get("Variable") == "RTPAUDIOQOSLOSS")
    assert loss["value"].startswith("  minrxlost")  # leading spaces kept


def test_misc_errors_and_command_output():
    msgs = _msgs("misc_errors_and_command")
    by_id = {m.action_id: m for m in msgs if m.response}
    assert by_id["misc_errors_and_command-2"]["Ping"] == "Pong"
    assert by_id["misc_errors_and_command-3"].response == "Error"
    assert "does not exist" in by_id["misc_errors_and_command-3"]["message"]
    cmd = by_id["misc_errors_and_command-6"]
    assert cmd["message"] == "Command output follows"
    assert cmd.getall("output")[0].startswith("Asterisk 22.10.1 built by root")
    assert by_id["misc_errors_and_command-8"].is_list_start
    done = next(m for m in msgs if m.event == "QueueStatusComplete")
    assert done.is_list_complete and done["ListItems"] == "0"
    orig = next(m for m in msgs if m.event == "OriginateResponse")
    assert orig.response is None and orig["response"] == "Success" and orig["reason"] == "4"


def test_originate_and_queue_fields():
    simple = _msgs("originate_local_simple")
    resp = [m for m in simple if m.event == "OriginateResponse"]
    assert [(m.action_id, m["Reason"], m["Response"]) for m in resp] == [
        ("originate_local_simple-2", "4", "Success"),
        ("originate_local_simple-3", "0", "Failure"),
    ]
    local = _msgs("originate_local_asyncagi")
    ex = [parse_agi_result(m) for m in local if m.event == "AsyncAGIExec"]
    assert [r.result for r in ex] == ["789", "1"]
    qt = _msgs("queue_timeout")
    status = next(m for m in qt if m.get("Variable") == "QUEUESTATUS")
    assert status["Value"] == "TIMEOUT"
    ab = next(m for m in qt if m.event == "QueueCallerAbandon")
    assert (ab["queue"], ab["holdtime"], ab["originalposition"]) == ("test", "10", "1")
    entry = next(m for m in qt if m.event == "QueueEntry")
    assert entry.action_id == "qs-during" and entry["Wait"] == "1"


def test_repeated_headers_are_lists():
    data = encode_action("Originate", {"Channel": "Local/1@x", "Variable": ["A=1", "B=2"]}, "o-1")
    assert data.count(b"Variable: ") == 2
    (m,) = Decoder(expect_banner=False).feed(data)
    assert m.getall("variable") == ["A=1", "B=2"] and m["Variable"] == "A=1"
    assert m.as_dict()["Variable"] == ["A=1", "B=2"]
    assert m.getall("missing") == []


def test_encoder_refuses_header_injection():
    with pytest.raises(ValueError):
        encode_action("AGI", {"Command": "STREAM FILE x\r\n\r\nAction: Originate"})
    with pytest.raises(ValueError):
        encode({"Bad:Key": "x"})


def test_utf8_split_across_reads_and_invalid_utf8_flagged():
    data = "Event: Newchannel\r\nCallerIDName: Иванов\r\n\r\n".encode()
    cut = data.index("Иванов".encode()) + 1  # in the middle of a 2-byte character
    dec = Decoder(expect_banner=False)
    assert dec.feed(data[:cut]) == []
    (m,) = dec.feed(data[cut:])
    assert m["CallerIDName"] == "Иванов" and not m.bad_utf8
    (bad,) = Decoder(expect_banner=False).feed(b"Event: X\r\nName: \xff\xfeok\r\n\r\n")
    assert bad.bad_utf8 and bad["name"].endswith("ok") and "\ufffd" in bad["name"]


def test_legacy_response_follows():
    data = (b"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n"
            b"Channel  Location\nline two\n--END COMMAND--\r\n\r\nEvent: Ping\r\n\r\n")
    for step in (len(data), 1, 5):
        dec = Decoder(expect_banner=False)
        out = []
        for i in range(0, len(data), step):
            out += dec.feed(data[i:i + step])
        assert [m.response or m.event for m in out] == ["Follows", "Ping"]
        assert out[0].getall("Output") == ["Channel  Location", "line two"]


def test_huge_header_is_an_error_then_resync():
    dec = Decoder(expect_banner=False, max_message=4096, max_line=1024)
    out = dec.feed(b"Event: A\r\nX: " + b"y" * 2000 + b"\r\n\r\nEvent: B\r\n\r\n")
    assert isinstance(out[0], ProtocolError) and out[0].reason == "header line too long"
    assert out[1].event == "B"
    # an endless frame is cut at max_message and the stream resyncs on the next terminator
    out = []
    for _ in range(10):
        out += dec.feed(b"Z" * 1000)
    assert len(dec._buf) <= 4096
    out += dec.feed(b"\r\n\r\nEvent: C\r\n\r\n")
    assert [type(x).__name__ for x in out] == ["ProtocolError", "Message"]
    assert out[-1].event == "C"


def test_agi_result_variants():
    r = parse_agi_result("200%20result%3D%20%28timeout%29%0A")
    assert (r.result, r.timed_out) == ("", True)
    r = parse_agi_result("200 result=12 (timeout)\n")
    assert (r.result, r.data) == ("12", "timeout")
    r = parse_agi_result("200%20result%3D-1%20endpos%3D0%0A")
    assert (r.int_result, r.extra["endpos"], r.digit) == (-1, "0", None)
    r = parse_agi_result("510%20Invalid%20or%20unknown%20command%0A")
    assert (r.code, r.ok, r.text) == (510, False, "Invalid or unknown command")
    r = parse_agi_result("200 result=1 (some value)\n")
    assert (r.result, r.data) == ("1", "some value")
    assert parse_agi_result("garbage%ZZ").code == 0
    assert parse_agi_result(None).code == 0
    assert parse_agi_env("agi_x%3A%20%E0%A4%0A") == {"agi_x": "\ufffd"}


# -- fuzz ---------------------------------------------------------------------------------------
GOOD = b"Event: Marker\r\nSeq: 1\r\n\r\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(max_size=3000), cuts=st.lists(st.integers(1, 500), max_size=20))
def test_fuzz_random_bytes_never_crash_and_resync(junk, cuts):
    dec = Decoder(max_message=1024, max_line=256)
    data = junk + b"\r\n\r\n" + GOOD
    out, i = [], 0
    for n in cuts:
        out += dec.feed(data[i:i + n])
        i += n
    out += dec.feed(data[i:])
    dec.close()
    assert len(dec._buf) <= 1024 + 3
    assert all(isinstance(x, (Message, Banner, ProtocolError)) for x in out)
    assert isinstance(out[-1], Message) and out[-1].event == "Marker"


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 2000), name=st.sampled_from(SCENARIOS))
def test_fuzz_truncated_frames(cut, name):
    data = server_bytes(name)[:cut]
    dec = Decoder()
    out = dec.feed(data)
    tail = dec.close()
    assert all(isinstance(x, (Message, Banner)) for x in out)
    assert all(isinstance(x, ProtocolError) for x in tail)


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.text(min_size=1, max_size=20), max_size=8),
       vals=st.lists(st.text(max_size=50), max_size=8))
def test_fuzz_text_headers_round_trip(keys, vals):
    pairs = [(k, v) for k, v in zip(keys, vals, strict=False)]
    try:
        data = encode(pairs)
    except ValueError:
        return  # CR/LF/colon refused: fine
    out = Decoder(expect_banner=False).feed(data + GOOD)
    assert out[-1].event == "Marker"
    assert all(isinstance(x, Message) for x in out)


@pytest.mark.parametrize("name", SCENARIOS)
def test_lazy_lookup_equals_full_parse(name):
    """``get`` on an unsplit message (exact-spelling fast path) == ``get`` after a full split."""
    lazy = [m for m in Decoder().feed(server_bytes(name)) if isinstance(m, Message)]
    full = [m for m in Decoder().feed(server_bytes(name)) if isinstance(m, Message)]
    for m in full:
        m.headers  # noqa: B018 - force the split
    for a, b in zip(lazy, full, strict=True):
        for k, _ in b.headers:
            for key in (k, k.lower(), k.upper()):
                fresh = Message._lazy(a._text, False) if a._text is not None else a
                assert fresh.get(key) == b.get(key), (k, key)
        assert a.get("NoSuchHeader") is None and a.event == b.event
