"""Where the real Asterisk transcripts live (the ground truth for every AMI test)."""
from __future__ import annotations

from pathlib import Path

# copied into the checkout (tests/data/asterisk/README.md says from where; never edit by hand)
TRANSCRIPTS = Path(__file__).resolve().parents[3] / "data" / "asterisk" / "transcripts"

# a fixed list, so that missing transcripts fail the tests instead of silently parametrizing
# them away (CI must not skip)
SCENARIOS = ["asyncagi_sip_dtmf", "misc_errors_and_command", "originate_local_asyncagi",
             "originate_local_simple", "queue_abandon", "queue_timeout"]


def server_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.server.txt").read_bytes()


def client_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.client.txt").read_bytes()
