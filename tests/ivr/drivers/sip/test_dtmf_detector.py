"""In-band DTMF detector: generated, noisy, clipped, off-frequency and twisted tones; speech."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from ivr.drivers.sip.dtmf import detect, keys_audio, tone

ROOT = Path(__file__).resolve().parents[4]
GAP = np.zeros(800, dtype=np.int16)


def noisy(signal: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    power = np.mean(tone("5", 100, 3000).astype(float) ** 2)
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(signal))
    return np.clip(signal + noise, -32768, 32767).astype(np.int16)


def test_every_key_once_in_order():
    assert detect(keys_audio("0123456789*#ABCD")) == "0123456789*#ABCD"


def test_repeated_keys_with_q24_minimum_timing():
    # 40 ms tone, 40 ms pause: the shortest Q.24 must accept, each press counted
    assert detect(keys_audio("1122333", on_ms=40, off_ms=40)) == "1122333"


def test_tones_of_20ms_are_rejected():
    assert detect(keys_audio("55", on_ms=20, off_ms=100)) == ""


@pytest.mark.parametrize("snr", [20, 10, 6])
def test_noisy_tones(snr):
    assert detect(noisy(keys_audio("1122334455", amplitude=3000).astype(float), snr)) \
        == "1122334455"


def test_clipped_tones():
    loud = keys_audio("9876", amplitude=30000).astype(float) * 3
    assert detect(np.clip(loud, -32768, 32767).astype(np.int16)) == "9876"


@pytest.mark.parametrize(("offset", "expected"), [(0.015, "15#D"), (-0.015, "15#D"),
                                                   (0.035, ""), (-0.05, "")])
def test_frequency_tolerance(offset, expected):
    audio = np.concatenate([GAP, *(np.concatenate([tone(k, 100, offset=offset), GAP])
                                   for k in "15#D")])
    assert detect(audio) == expected


@pytest.mark.parametrize(("twist", "taken"), [(-7, True), (3, True), (-10, False), (6, False)])
def test_twist(twist, taken):
    assert detect(np.concatenate([GAP, tone("5", 100, twist_db=twist), GAP])) == \
        ("5" if taken else "")


def _wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        rate = w.getframerate()
    return data if rate == 8000 else resample_poly(data, 8000, rate).astype(np.int16)


def test_recorded_prompts_do_not_trigger():
    """Every Russian and English prompt (real speech) goes through without a key."""
    files = sorted((ROOT / "recordings").glob("*/*.wav"))
    assert len(files) > 100
    audio = np.concatenate([_wav(f) for f in files])
    assert detect(audio) == ""


@pytest.mark.real("espeak-ng")
def test_synthetic_speech_and_singing_do_not_trigger(tmp_path):
    out = tmp_path / "s.wav"
    text = ("Один два три, девять, решётка. Звёздочка, ноль. Алло, алло! "
            "Ля-ля-ля, ми-ми-ми, до-ре-ми-фа-соль-ля-си, о-о-о, и-и-и.")
    for voice, pitch in (("ru", 30), ("ru", 90), ("en-us", 99)):
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(out), text],
                       check=True, timeout=60)
        assert detect(_wav(out)) == ""
