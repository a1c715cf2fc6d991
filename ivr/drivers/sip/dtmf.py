"""In-band DTMF: a Goertzel bank over many calls at once, with ITU-T Q.24 rules.

Every 20 ms the media clock hands over each listening call's newest 160 samples; they make
two 20 ms windows 10 ms apart, all calls' windows are stacked and the DTMF bins are computed
for all of them in one matrix product (a Goertzel filter *is* one DFT bin). Each tone is
measured at its nominal frequency and ±1.5 % (Q.24's accept range) and the best is kept.
A window holds a key when:

* each group's strongest tone is ≥ ``MIN_LEVEL`` and ≥ 8 dB above the group's others;
* twist: the low tone is at most 8 dB louder than the high one, the high at most 4 dB louder;
* the two tones carry ≥ 70 % of the window's energy: speech, noise, off-frequency tones and
  a window only partly covered by a tone spread theirs.

Timing (Q.24): a key is reported after two such windows in a row, i.e. a tone seen for 30 ms
(a 40 ms tone always is, a 20 ms one never); the same key again needs a pause — a window
under a tenth of the key's power, or two windows without the key — which a 40 ms gap holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ivr.drivers.sip.g711 import FRAME, RATE

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
FLAT = "".join(KEYPAD)  # key index r*4+c
WINDOW = FRAME
HOP = FRAME // 2
MIN_LEVEL = 400.0  # tone amplitude (int16) ≈ -38 dBFS
RELATIVE_PEAK = 10 ** (8 / 10)
LOW_LOUDER = 10 ** (8 / 10)
HIGH_LOUDER = 10 ** (4 / 10)
TONE_SHARE = 0.70

_n = np.arange(WINDOW)
_f = np.concatenate([np.array(LOW + HIGH) * k for k in (1.0, 0.985, 1.015)])  # 24 bins
_BASIS = np.concatenate([np.cos(2 * np.pi * np.outer(_n, _f) / RATE),
                         np.sin(2 * np.pi * np.outer(_n, _f) / RATE)], axis=1).astype(np.float32)


def _classify(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key index r*4+c or -1, energy) for each row of ``w`` (float32, 160 samples)."""
    proj = w @ _BASIS
    bins = (proj[:, :24] ** 2 + proj[:, 24:] ** 2) * (2.0 / WINDOW)
    power = bins.reshape(len(w), 3, 8).max(axis=1)
    energy = np.einsum("ij,ij->i", w, w) + 1e-9
    low, high = power[:, :4], power[:, 4:]
    r, c = low.argmax(axis=1), high.argmax(axis=1)
    rows = np.arange(len(w))
    pr, pc = low[rows, r], high[rows, c]
    low_rest = np.where(np.arange(4) == r[:, None], 0, low).max(axis=1)
    high_rest = np.where(np.arange(4) == c[:, None], 0, high).max(axis=1)
    level = (MIN_LEVEL ** 2) * WINDOW / 2  # 2·|X|²/N of a tone of amplitude MIN_LEVEL
    ok = ((pr >= level) & (pc >= level)
          & (pr >= RELATIVE_PEAK * low_rest) & (pc >= RELATIVE_PEAK * high_rest)
          & (pr <= LOW_LOUDER * pc) & (pc <= HIGH_LOUDER * pr)
          & (pr + pc >= TONE_SHARE * energy))
    return np.where(ok, r * 4 + c, -1), energy


def classify(windows: np.ndarray) -> list[str | None]:
    """Per 160-sample window (rows of ``windows``): the key it holds, or None."""
    if len(windows) == 0:
        return []
    idx, _ = _classify(np.asarray(windows, dtype=np.float32))
    return [FLAT[i] if i >= 0 else None for i in idx.tolist()]


@dataclass
class ToneTracker:
    """Q.24 timing for one call: per window, the key seen (or None) and its power."""

    candidate: str | None = None
    hits: int = 0
    misses: int = 0
    reported: str | None = None
    key_power: float = 0.0
    previous: np.ndarray = field(default_factory=lambda: np.zeros(FRAME, dtype=np.int16))

    @property
    def idle(self) -> bool:
        return self.candidate is None and self.reported is None

    def update(self, key: str | None, power: float) -> str | None:
        self.misses = 0 if key is not None and key == self.reported else self.misses + 1
        if self.reported is not None and (power < 0.1 * self.key_power or self.misses >= 2):
            self.reported = None  # the pause between two presses
        if key is None or key != self.candidate:
            self.candidate, self.hits = key, (1 if key else 0)
            return None
        self.hits += 1
        if self.hits >= 2 and self.reported != key:
            self.reported, self.key_power = key, power
            return key
        return None


class Detector:
    """One detector for many streams: ``feed`` frames, ``run`` once per tick. All windows of
    a tick are classified in one matrix product; only trackers that saw a tone or are inside
    a key run Python code."""

    def __init__(self) -> None:
        self._trackers: list[ToneTracker] = []
        self._frames: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._frames)

    def feed(self, tracker: ToneTracker, frame: np.ndarray) -> None:
        self._trackers.append(tracker)
        self._frames.append(frame)

    def run(self) -> list[tuple[ToneTracker, str]]:
        """Classify everything fed since the last run; returns (tracker, key) for new keys."""
        trackers, frames = self._trackers, self._frames
        self._trackers, self._frames = [], []
        if not frames:
            return []
        new = np.stack(frames).astype(np.float32)
        old = np.stack([t.previous for t in trackers]).astype(np.float32)
        for t, f in zip(trackers, frames, strict=True):
            t.previous = f
        windows = np.empty((2 * len(new), WINDOW), dtype=np.float32)
        windows[0::2, :HOP], windows[0::2, HOP:] = old[:, HOP:], new[:, :HOP]
        windows[1::2] = new
        idx, energy = _classify(windows)
        idx, power = idx.reshape(-1, 2), energy.reshape(-1, 2) / WINDOW
        busy = np.flatnonzero((idx >= 0).any(axis=1)
                              | np.fromiter((not t.idle for t in trackers), bool, len(trackers)))
        out = []
        for k in busy.tolist():
            tracker = trackers[k]
            for j in (0, 1):
                i = int(idx[k, j])
                got = tracker.update(FLAT[i] if i >= 0 else None, float(power[k, j]))
                if got:
                    out.append((tracker, got))
        return out


def detect(samples: np.ndarray) -> str:
    """All keys in a mono 8 kHz recording (for tests, benches and the softphone)."""
    tracker, det, found = ToneTracker(), Detector(), []
    for i in range(0, len(samples) - FRAME + 1, FRAME):
        det.feed(tracker, np.asarray(samples[i:i + FRAME], dtype=np.int16))
        found += [k for _, k in det.run()]
    return "".join(found)


def tone(key: str, ms: int = 100, amplitude: float = 6000.0, twist_db: float = 0.0,
         offset: float = 0.0) -> np.ndarray:
    """A DTMF key as int16 samples (test signal generator; ``offset`` = relative freq error)."""
    row = next(i for i, r in enumerate(KEYPAD) if key.upper() in r)
    col = KEYPAD[row].index(key.upper())
    t = np.arange(int(RATE * ms / 1000)) / RATE
    hi = amplitude * 10 ** (twist_db / 20)
    sig = (amplitude * np.sin(2 * np.pi * LOW[row] * (1 + offset) * t)
           + hi * np.sin(2 * np.pi * HIGH[col] * (1 + offset) * t))
    return np.clip(sig, -32768, 32767).astype(np.int16)


def keys_audio(keys: str, on_ms: int = 100, off_ms: int = 100, amplitude: float = 6000.0
               ) -> np.ndarray:
    """A key sequence with pauses (softphone in-band sending, tests)."""
    gap = np.zeros(int(RATE * off_ms / 1000), dtype=np.int16)
    parts = [gap]
    for k in keys:
        parts += [tone(k, on_ms, amplitude), gap]
    return np.concatenate(parts)
