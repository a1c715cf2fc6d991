"""Generate the RTP captures the SIPp scenarios replay (run from the repository root:
``python -m tests.sipp.make_pcaps``; ``test_sipp.py`` checks the committed files match).

SIPp's ``play_pcap_audio`` sends each packet as captured — sequence numbers and timestamps
included — so a key pressed twice needs two events with different timestamps, which the shipped
``dtmf_2833_N.pcap`` files cannot give. Each capture is one continuous stream: one packet per
20 ms, growing sequence numbers, the RTP clock advancing 160 per packet.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ivr.drivers.sip import g711, rtp
from ivr.drivers.sip.dtmf import keys_audio
from ivr.drivers.sip.sdp import PCMU
from tests.sipp.pcaps import write

HERE = Path(__file__).resolve().parent
WALK = ("2", "1", "11223344595#", "01021980#")  # status → SNILS → the demo citizen, born 1980
SSRC = 0x5EED2833
GROUP_GAP_MS = 400


def events_stream(groups: tuple[str, ...], pt: int = 101) -> list[tuple[float, bytes]]:
    """RFC 4733 events (100 ms each, 60 ms apart) with silence packets between groups."""
    packets: list[tuple[float, bytes]] = []
    seq, ts, t = 1000, 160_000, 0.0
    silence = bytes([g711.SILENCE[PCMU]]) * g711.FRAME

    def audio(ms: int) -> None:
        nonlocal seq, ts, t
        for _ in range(ms // 20):
            packets.append((t, rtp.build(PCMU, seq, ts, SSRC, silence)))
            seq, ts, t = seq + 1, ts + 160, t + 0.02

    audio(GROUP_GAP_MS)
    for group in groups:
        for key in group:
            start = ts
            for i, payload in enumerate(rtp.event_payloads(key, 100)):
                packets.append((t, rtp.build(pt, seq, start, SSRC, payload, marker=i == 0)))
                seq, t = seq + 1, t + 0.02
                ts += 160 if i < 5 else 0  # the three end packets repeat the last duration
            ts += 160
            audio(60)
        audio(GROUP_GAP_MS)
    return packets


def tones_stream(groups: tuple[str, ...]) -> list[tuple[float, bytes]]:
    """The same keys as in-band μ-law tones (100 ms on, 100 ms off)."""
    gap = np.zeros(g711.RATE * GROUP_GAP_MS // 1000, dtype=np.int16)
    pcm = np.concatenate([gap, *(np.concatenate([keys_audio(g), gap]) for g in groups)])
    frames = g711.frames(g711.encode(pcm.astype("<i2").tobytes(), PCMU), PCMU)
    return [(i * 0.02, rtp.build(PCMU, 2000 + i, 320_000 + 160 * i, SSRC, f))
            for i, f in enumerate(frames)]


def build_all(directory: Path = HERE) -> list[Path]:
    out = [directory / "walk_rfc2833.pcap", directory / "walk_inband.pcap"]
    write(out[0], events_stream(WALK))
    write(out[1], tones_stream(WALK))
    return out


if __name__ == "__main__":
    for path in build_all():
        print(path)
