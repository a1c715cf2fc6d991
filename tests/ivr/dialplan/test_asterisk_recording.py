"""The exported dialplan honours HOTLINE_RECORDING: a caller who refused (the IVR sets the
variable to 0 over AGI) has any MixMonitor stopped before Queue() reaches an agent; app_queue
itself never records (no monitor-format), so a consenting call is recorded once, by the
bridge's MixMonitor action — which the exported AMI user is allowed to send."""
import re

import pytest

from ivr.call.protocol import SetVar
from ivr.cli import main
from ivr.drivers.ami import agimap
from tests.ivr.dialplan.test_asterisk_export import parse_conf


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("asterisk-rec")
    assert main(["dialplan", "export", "asterisk", "--out", str(out)]) == 0
    return {p.name: parse_conf(p.read_text()) for p in out.iterdir()}


def test_refused_recording_is_stopped_before_the_agent_leg(exported):
    ivr = exported["extensions.conf"]["hotline-ivr"]
    guard = 'same => n,ExecIf($["${HOTLINE_RECORDING}" = "0"]?StopMixMonitor())'
    queue = next(i for i, line in enumerate(ivr) if ",Queue(" in line)
    assert guard in ivr and ivr.index(guard) < queue
    assert ivr.index(guard) > ivr.index("same => n,AGI(agi:async)")
    # the variable the dialplan tests is the one the IVR machine sets on a refusal
    assert agimap.set_variable(SetVar("HOTLINE_RECORDING", "0").name, "0") == \
        'SET VARIABLE HOTLINE_RECORDING "0"'


def test_queue_never_records_by_itself_and_the_bridge_may_send_mixmonitor(exported):
    for section, lines in exported["queues.conf"].items():
        assert not any(line.startswith("monitor-") for line in lines), section
    user = dict(re.split(r"\s*=\s*", line, maxsplit=1) for line in exported["manager.conf"]
                ["hotline"])
    assert "system" in user["write"].split(",")  # app_mixmonitor: EVENT_FLAG_SYSTEM
