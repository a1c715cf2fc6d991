"""Where the real Asterisk transcripts live (the ground truth for every AMI test)."""
from __future__ import annotations

from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[4] / "shared" / "asterisk" / "transcripts"
if not TRANSCRIPTS.is_dir():  # a checkout elsewhere: allow an override
    import os

    TRANSCRIPTS = Path(os.environ.get("HOTLINE_ASTERISK_TRANSCRIPTS", TRANSCRIPTS))

SCENARIOS = sorted(p.name[: -len(".server.txt")] for p in TRANSCRIPTS.glob("*.server.txt"))


def server_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.server.txt").read_bytes()


def client_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / f"{name}.client.txt").read_bytes()
