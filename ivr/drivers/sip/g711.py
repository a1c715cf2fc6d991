"""G.711 μ-law/A-law and prompts pre-encoded once, cut into 20 ms RTP payloads.

pyVoIP 1.6.8's codecs are ``audioop`` calls on *8-bit unsigned* audio, and its
``RTPClient.encode_packet`` sends PCMA through the μ-law encoder (fixed only in an unreleased
tag). We call the same ``audioop`` primitives on 16-bit audio — the recordings' own format,
so no precision is thrown away — with the PCMA path fixed. Decoding goes through 256-entry
numpy tables, so a whole batch of payloads decodes in one indexing operation.
``audioop`` is in Python 3.11/3.12 (removed in 3.13: the tables below would then be built by
formula; nothing else here depends on it).
"""
from __future__ import annotations

import warnings
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

from ivr.drivers.sip.sdp import PCMA, PCMU

RATE = 8000
FRAME = 160  # samples per 20 ms
SILENCE = {PCMU: 0xFF, PCMA: 0xD5}
_TABLES = {PCMU: np.frombuffer(audioop.ulaw2lin(bytes(range(256)), 2), dtype="<i2").copy(),
           PCMA: np.frombuffer(audioop.alaw2lin(bytes(range(256)), 2), dtype="<i2").copy()}


def encode(pcm16: bytes, codec: int) -> bytes:
    """16-bit little-endian linear → G.711 (PCMA really A-law, unlike pyVoIP 1.6.8)."""
    return audioop.lin2alaw(pcm16, 2) if codec == PCMA else audioop.lin2ulaw(pcm16, 2)


def decode(payload: bytes, codec: int) -> np.ndarray:
    """G.711 → int16 samples."""
    return _TABLES[codec][np.frombuffer(payload, dtype=np.uint8)]


def frames(encoded: bytes, codec: int) -> tuple[bytes, ...]:
    """Cut into 160-byte payloads, the last padded with the codec's silence."""
    pad = (-len(encoded)) % FRAME
    encoded += bytes([SILENCE[codec]]) * pad
    return tuple(encoded[i:i + FRAME] for i in range(0, len(encoded), FRAME))


def read_wav(path: str | Path) -> bytes:
    """8 kHz mono 16-bit PCM from a WAV (converted if the file is otherwise)."""
    with wave.open(str(path), "rb") as w:
        data, width = w.readframes(w.getnframes()), w.getsampwidth()
        channels, rate = w.getnchannels(), w.getframerate()
    if width != 2:
        data = audioop.lin2lin(data, width, 2)
    if channels == 2:
        data = audioop.tomono(data, 2, 0.5, 0.5)
    if rate != RATE:
        data, _ = audioop.ratecv(data, 2, 1, rate, RATE, None)
    return data


class Prompts:
    """``recordings/<lang>/<id>.wav`` encoded once per codec and kept as 20 ms payloads."""

    def __init__(self, directory: str | Path = "recordings") -> None:
        self.directory = Path(directory)
        self._frames = lru_cache(maxsize=4096)(self._load)

    def _load(self, prompt: str, lang: str, codec: int) -> tuple[bytes, ...] | None:
        for candidate in (self.directory / lang / f"{prompt}.wav",
                          self.directory / "ru" / f"{prompt}.wav"):
            if candidate.is_file():
                return frames(encode(read_wav(candidate), codec), codec)
        return None

    def get(self, prompt: str, lang: str, codec: int) -> tuple[bytes, ...] | None:
        """The prompt's payloads, or None if there is no recording for it."""
        return self._frames(prompt, lang, codec)
