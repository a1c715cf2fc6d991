"""Where the real Asterisk transcripts live (the ground truth for every AMI test)."""
from __future__ import annotations

from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[4] / "shared" / "asterisk" / "transcripts"
if not TRANSCRIPTS.is_dir():  # a checkout elsewhere: allow an override
    import os

    TRANSCRIPTS = Path(os.environ.get("HOTLINE_ASTERISK_TRANSCRIPTS", TRANSCRIPTS))

# a fixed list, so that missing transcripts fail the tests instead of silently parametrizing
# them away (CI must not skip)
SCENARIOS = ["asyncagi_sip_dtmf", "misc_errors_and_command", "originate_local_asyncagi",
             "originate_local_simple", "queue_abandon", "queue_timeout"]


def server_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.server.txt").read_bytes()


def client_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.client.txt").read_bytes()
