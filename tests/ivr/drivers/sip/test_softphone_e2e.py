"""End to end over real SIP/RTP on 127.0.0.1: softphones call the endpoint at the same time,
hear the prompts, press keys (RFC 4733 and in-band); outcomes are read back from the database."""
from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.drivers.sip.softphone import Softphone, outbox_code
from tests.ivr.drivers.sip.conftest import clock, rows, run_with_endpoint

ROOT = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.timeout(120)


def _wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2)))


def test_identified_status_call_and_inband_queue_call_at_once(sip_db):
    url, people = sip_db
    demo = people[0]
    done = next(n for n, s in demo.applications if s == "завершено")

    async def body(endpoint):
        uri = f"sip:88005553535@127.0.0.1:{endpoint.port}"
        status = Softphone(barge_in=0.3, code=outbox_code(url, clock))
        queue = Softphone(barge_in=0.3, inband=True)
        return await asyncio.gather(
            status.call(uri, ["2", "1", f"{demo.snils}#", "01021980#", "code", f"{done}#"]),
            queue.call(uri, ["3"]))

    status, queued = run_with_endpoint(url, body)
    assert status["status"] == 200 and queued["status"] == 200
    by_id = {r.call_id: r for r in rows(url)}
    assert set(by_id) == {status["call_id"], queued["call_id"]}  # one row per call
    row = by_id[status["call_id"]]
    assert row.identification == "ok" and "status:completed" in row.menu_path
    assert row.outcome == "self_served" and status["ended_by"] == "local"
    row = by_id[queued["call_id"]]
    assert (row.outcome, row.skill) == ("queued", "documents")  # in-band "3"
    assert queued["ended_by"] == "remote"  # the IVR hung up after handing over to the queue

    # the greeting is never cut short: the recording starts with it, level for level
    welcome = _wav(ROOT / "recordings/ru/welcome_main.wav")
    consent = _wav(ROOT / "recordings/ru/consent_recording.wav")
    heard = queued["audio"].astype(float)
    assert queued["heard_s"] >= (len(welcome) + len(consent)) / 8000
    head = heard[: len(welcome)]
    assert 0.7 < rms(head) / rms(welcome) < 1.4  # G.711 keeps the level within ±3 dB
    assert queued["speech_s"] >= 0.6 * (len(welcome) + len(consent)) / 8000
