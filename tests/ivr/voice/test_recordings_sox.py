"""The committed prompt audio, checked by an independent tool (sox): what Asterisk's STREAM FILE
and a SIP endpoint need — 8 kHz, mono, 16-bit signed PCM WAV — and real speech, not silence."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WAVS = sorted((ROOT / "recordings").glob("*/*.wav"))

pytestmark = pytest.mark.real("sox")


def soxi(flag: str, paths: list[Path]) -> list[str]:
    out = subprocess.run([shutil.which("soxi") or "soxi", flag, *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_every_prompt_is_8khz_mono_16bit_pcm():
    assert len(WAVS) > 300
    assert set(soxi("-r", WAVS)) == {"8000"}
    assert set(soxi("-c", WAVS)) == {"1"}
    assert set(soxi("-b", WAVS)) == {"16"}
    assert set(soxi("-e", WAVS)) <= {"Signed", "Integer", "PCM"}


def test_prompts_hold_speech_not_silence():
    durations = [float(d) for d in soxi("-D", WAVS)]
    assert min(durations) > 0.15, "a prompt shorter than a syllable"
    for wav in (ROOT / "recordings/ru/welcome_main.wav", ROOT / "recordings/en/welcome_main.wav"):
        stats = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True,
                               check=True).stderr
        rms = float(next(line.split(":")[1] for line in stats.splitlines()
                         if line.startswith("RMS     amplitude")))
        assert rms > 0.02, f"{wav.name} is near silence (RMS {rms})"
