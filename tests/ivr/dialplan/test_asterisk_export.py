"""`hotline dialplan export asterisk`: every DID reaches its context, every skill has a queue."""
import re
import stat

import pytest

from ivr.cli import main
from ivr.dialplan.asterisk import did_context, queue_name
from ivr.dialplan.model import load_dialplan

LINE_RE = re.compile(r"^(?:;.*|\s*|\[[\w+-]+\]|[\w-]+\s*=.*|exten => [^,]+,\d+,\w+\(.*\)"
                     r"|\s?same => n(?:\([a-z]+\))?,\w+\(.*\))$")


def parse_conf(text: str) -> dict[str, list[str]]:
    """Asterisk .conf → {section: [lines]} after checking every line has a valid shape."""
    sections: dict[str, list[str]] = {}
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" ;", 1)[0].rstrip() if not raw.startswith(";") else raw
        assert LINE_RE.match(line), f"line {n} is not valid Asterisk config: {raw!r}"
        if line.startswith("["):
            current = line[1:-1]
            assert current not in sections, f"section {current} twice"
            sections[current] = []
        elif line and not line.startswith(";"):
            assert current, f"line {n} outside a section"
            sections[current].append(line.strip())
    return sections


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("asterisk")
    assert main(["dialplan", "export", "asterisk", "--out", str(out)]) == 0
    return {p.name: p for p in out.iterdir()}


@pytest.fixture(scope="module")
def dp():
    return load_dialplan("dialplans")


def test_every_did_in_every_trunk_form_enters_its_own_context(exported, dp):
    ext = parse_conf(exported["extensions.conf"].read_text())
    trunk = ext["from-trunk"]
    for e164, num in dp.numbers.items():
        forms = [e164] if e164 == "102" else [e164, e164[1:], "8" + e164[2:]]
        for form in forms:
            assert f"exten => {form},1,Goto({did_context(e164)},s,1)" in trunk, form
        body = ext[did_context(e164)]
        line = dp.lines[num.line]
        assert body[0] == f"exten => s,1,Set(CHANNEL(language)={line.languages[0]})"
        assert f"same => n,Set(__HOTLINE_LINE={num.line})" in body
        assert f"same => n,Set(__HOTLINE_REGION={num.region})" in body
        assert f"same => n,Set(__HOTLINE_DID={e164})" in body
        assert f"same => n,Set(__HOTLINE_LANGUAGES={'/'.join(line.languages)})" in body
        assert body[-1] == "same => n,Goto(hotline-ivr,s,1)"
    # the DNID of the real Asterisk transcript
    assert "exten => 88005553535,1,Goto(did-78005553535,s,1)" in trunk


def test_ivr_context_runs_async_agi_then_the_chosen_queue(exported):
    ivr = parse_conf(exported["extensions.conf"].read_text())["hotline-ivr"]
    assert ivr[0] == "exten => s,1,Answer()"
    assert ivr[1] == "same => n,AGI(agi:async)"
    assert "same => n,Queue(${HOTLINE_QUEUE},,,,${HOTLINE_QUEUE_TIMEOUT})" in ivr
    assert "same => n,Set(QUEUE_PRIO=${HOTLINE_PRIORITY})" in ivr


def test_one_queue_per_skill_group_security_weighted_first(exported, dp):
    queues = parse_conf(exported["queues.conf"].read_text())
    names = set(queues) - {"general"}
    assert names == {queue_name(s) for s in dp.skills} | {queue_name("senior")}  # escalation
    weights = {}
    for name in names:
        opts = dict(re.split(r"\s*=\s*", line, maxsplit=1) for line in queues[name])
        assert opts["strategy"] == "leastrecent" and opts["servicelevel"] == "20"
        weights[name] = int(opts["weight"])
    assert weights[queue_name("security")] == max(weights.values()) > weights[queue_name("general")]


def test_manager_snippet_is_local_only_and_private(exported):
    path = exported["manager.conf"]
    conf = parse_conf(path.read_text())
    user = dict(re.split(r"\s*=\s*", line, maxsplit=1) for line in conf["hotline"])
    assert user["permit"].startswith("127.0.0.1") and user["deny"].startswith("0.0.0.0")
    for right in ("agi", "originate", "call", "agent"):
        assert right in user["write"].split(",") or right in user["read"].split(",")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
