"""SIPp calls the endpoint over real UDP: menu walks (RFC 2833 and in-band), SIPp's own digit
capture, a hang-up mid-prompt, a silent caller, an unknown number. Outcomes come from the
database. Prompts are cut to 0.3 s (a copy of recordings/) so a walk takes seconds, not minutes;
the full greeting is checked by the softphone test (tests/ivr/drivers/sip/)."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.ivr.drivers.sip.conftest import rows, run_with_endpoint
from tests.sipp.make_pcaps import build_all

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
pytestmark = [pytest.mark.real("sipp"), pytest.mark.timeout(90)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def sipp(port: int, scenario: str, service: str = "88005553535",
               timeout: int = 40) -> tuple[int, str]:
    args = ["sipp", f"127.0.0.1:{port}", "-sf", str(HERE / scenario), "-s", service,
            "-m", "1", "-nostdin", "-timeout", f"{timeout}s", "-timeout_error",
            "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
            "-recv_timeout", f"{timeout * 1000}", "-trace_err", "-error_file", "/dev/stderr"]
    proc = await asyncio.create_subprocess_exec(*args, cwd=HERE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")[-3000:]


def run(url: str, scenario: str, prompts: Path, **kw) -> tuple[int, str]:
    service = kw.pop("service", "88005553535")

    async def body(endpoint):
        code, out = await sipp(endpoint.port, scenario, service)
        await asyncio.sleep(0.3)  # the BYE's outcome row is written as the 200 goes out
        return code, out
    return run_with_endpoint(url, body, recordings=str(prompts), **kw)


def test_committed_pcaps_are_what_the_generator_makes(tmp_path):
    for made in build_all(tmp_path):
        assert made.read_bytes() == (HERE / made.name).read_bytes(), made.name


@pytest.mark.parametrize("scenario", ["walk_rfc2833.xml", "walk_inband.xml"])
def test_menu_walk_identifies_the_caller(sip_db, short_prompts, scenario):
    """Repeated keys (SNILS 11223344595) arrive once each: the SNILS checksum and the birth
    date match the registry, so the one-time code goes out."""
    url, _ = sip_db
    code, out = run(url, scenario, short_prompts, timeout_scale=1.0)
    assert code == 0, out
    [row] = rows(url)
    assert row.menu_path[0] == "main:2:status" and "otp:sent" in row.menu_path, row.menu_path
    assert row.outcome != "error"


def test_shipped_2833_capture_reaches_the_queue(sip_db, short_prompts):
    url, _ = sip_db
    code, out = run(url, "shipped_digit_queue.xml", short_prompts)
    assert code == 0, out
    [row] = rows(url)
    assert (row.outcome, row.skill) == ("queued", "documents")


def test_hangup_mid_prompt_gives_one_outcome(sip_db):
    url, _ = sip_db
    code, out = run(url, "hangup_mid_prompt.xml", ROOT / "recordings")
    assert code == 0, out
    [row] = rows(url)
    assert row.outcome == "abandoned_ivr" and row.menu_path == []


def test_caller_who_never_presses_a_key(sip_db, short_prompts):
    url, _ = sip_db
    code, out = run(url, "no_digits.xml", short_prompts, timeout_scale=0.1)
    assert code == 0, out
    [row] = rows(url)
    assert row.outcome == "queued"  # three silences: the IVR sends the caller to an agent


def test_unknown_number_is_404_and_logged(sip_db, short_prompts, capsys):
    url, _ = sip_db
    code, out = run(url, "unknown_number.xml", short_prompts, service="5550000")
    assert code == 0, out
    assert "sip_unknown_number" in capsys.readouterr().out
    assert rows(url) == []  # never answered: no call to record


def test_registers_upstream_with_digest(sip_db):
    """SIPp plays the upstream registrar: challenge, check the digest, then the un-REGISTER."""
    url, _ = sip_db
    sipp_port = free_port()

    async def main():
        from ivr.call.session import Hotline
        from ivr.drivers.sip import SipEndpoint

        args = ["sipp", "-sf", str(HERE / "registrar_digest.xml"), "-m", "1", "-nostdin",
                "-i", "127.0.0.1", "-p", str(sipp_port), "-timeout", "20s", "-timeout_error"]
        proc = await asyncio.create_subprocess_exec(*args, cwd=HERE,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        await asyncio.sleep(0.5)  # SIPp binds its port
        ep = SipEndpoint(Hotline.load("dialplans", db_url=url), "127.0.0.1", 0,
                         upstream=f"sip:hotline:s3cret@127.0.0.1:{sipp_port}")
        await ep.start()
        for _ in range(100):
            if ep.registration.status == 200:
                break
            await asyncio.sleep(0.05)
        status = ep.registration.status
        await ep.stop(drain_timeout=0)
        out, _ = await proc.communicate()
        return status, proc.returncode, out.decode(errors="replace")[-2000:]

    status, code, out = asyncio.run(main())
    assert status == 200 and code == 0, out
