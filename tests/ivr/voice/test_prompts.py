"""Prompt audio: texts → 8 kHz 16-bit mono WAV, incremental builds, coverage check."""
from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
import structlog

from ivr.cli import main as _main
from ivr.voice import prompts

ROOT = Path(__file__).resolve().parents[3]


def main(argv: list[str]) -> int:
    """``hotline`` in-process, leaving structlog as found (main() binds it to pytest's stderr)."""
    try:
        return _main(argv)
    finally:
        structlog.reset_defaults()


def fake_synth(calls: list[str]):
    """A stand-in voice at espeak's native 22050 Hz: a tone with silence around it."""
    def synth(text: str, lang: str) -> tuple[int, np.ndarray]:
        calls.append(f"{lang}:{text}")
        rate = 22050
        t = np.arange(int(rate * 0.5)) / rate
        tone = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
        silence = np.zeros(rate // 2, dtype=np.int16)
        return rate, np.concatenate([silence, tone, silence])
    return synth


def wav_info(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path)) as w:
        return w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes() / 8000


@pytest.fixture
def tree(tmp_path):
    d = tmp_path / "dialplans"
    d.mkdir()
    (d / "prompts.yaml").write_text("ru:\n  hello: Здравствуйте\n  bye: До свидания\n"
                                    "en:\n  hello: Hello\n", encoding="utf-8")
    (d / "prompts_numbers.yaml").write_text("ru:\n  num_0: ноль\nen:\n  num_0: zero\n",
                                            encoding="utf-8")
    return d, tmp_path / "recordings"


def test_build_writes_telephony_wavs_and_skips_unchanged(tree):
    dialplans, rec = tree
    calls: list[str] = []
    report = prompts.build(dialplans, rec, synth=fake_synth(calls))
    assert sorted(report.built) == ["en/hello", "en/num_0", "ru/bye", "ru/hello", "ru/num_0"]
    rate, width, channels, seconds = wav_info(rec / "ru" / "hello.wav")
    assert (rate, width, channels) == (8000, 2, 1)
    assert 0.5 <= seconds <= 0.6  # edge silence trimmed to 40 ms each side
    calls.clear()
    again = prompts.build(dialplans, rec, synth=fake_synth(calls))
    assert (again.built, again.unchanged, calls) == ([], 5, [])
    (dialplans / "prompts.yaml").write_text("ru:\n  hello: Добрый день\n  bye: До свидания\n"
                                            "en:\n  hello: Hello\n", encoding="utf-8")
    changed = prompts.build(dialplans, rec, synth=fake_synth(calls))
    assert changed.built == ["ru/hello"] and calls == ["ru:Добрый день"]
    (rec / "en" / "num_0.wav").unlink()
    assert prompts.build(dialplans, rec, synth=fake_synth(calls)).built == ["en/num_0"]


def test_orphans_are_reported_and_pruned_on_request(tree):
    dialplans, rec = tree
    prompts.build(dialplans, rec, synth=fake_synth([]))
    (dialplans / "prompts.yaml").write_text("ru:\n  hello: Здравствуйте\nen:\n  hello: Hello\n",
                                            encoding="utf-8")
    report = prompts.build(dialplans, rec, synth=fake_synth([]))
    assert report.orphans == ["ru/bye.wav"] and (rec / "ru" / "bye.wav").exists()
    report = prompts.build(dialplans, rec, synth=fake_synth([]), prune=True)
    assert report.pruned == ["ru/bye.wav"] and not (rec / "ru" / "bye.wav").exists()


def test_conflicting_definitions_name_the_file(tree):
    dialplans, _ = tree
    (dialplans / "prompts_numbers.yaml").write_text("ru:\n  hello: Привет\n", encoding="utf-8")
    with pytest.raises(prompts.PromptError, match=r"prompts_numbers.yaml: ru.hello: already"):
        prompts.load_texts(dialplans)


def test_resampling_keeps_a_tone_and_its_level():
    rate = 22050
    t = np.arange(rate) / rate
    x = (0.25 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
    y = prompts.to_telephony(rate, x).astype(np.float64) / 32767
    assert abs(len(y) - 8000) <= 1 + 2 * 8000 * 0.04
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 8000 / len(y) - 1000) < 5
    assert 0.65 < np.max(np.abs(y)) <= 0.71  # normalised to peak 0.7


def test_mixed_language_text_is_voiced_per_script():
    runs = prompts.voice_runs("Здравствуйте! Вы позвонили. Hello! You have reached us.", "en")
    assert runs == [("ru", "Здравствуйте! Вы позвонили."), ("en", "Hello! You have reached us.")]
    assert prompts.voice_runs("Интеграция по API — 1. Налоги — 2.", "ru") == \
        [("ru", "Интеграция по API — 1. Налоги — 2.")]


def test_check_lists_missing_and_stale(tmp_path, capsys):
    dialplans = tmp_path / "dialplans"
    shutil.copytree(ROOT / "dialplans", dialplans)
    rec = tmp_path / "recordings"
    shutil.copytree(ROOT / "recordings", rec)
    (rec / "en" / "num_7.wav").unlink()
    (rec / "ru" / "month_gen_3.wav").unlink()
    text = (dialplans / "prompts_numbers.yaml").read_text(encoding="utf-8")
    (dialplans / "prompts_numbers.yaml").write_text(text.replace('"пять"', '"пять!"'),
                                                    encoding="utf-8")
    code = main(["prompts", "--dialplans", str(dialplans), "--recordings", str(rec), "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "en/num_7: no recording" in out and "ru/month_gen_3: no recording" in out
    assert "ru/num_5: recording is older than its text" in out


def test_committed_recordings_cover_every_used_prompt(capsys):
    """The generated files are committed: a fresh machine needs no TTS (issue 3)."""
    code = main(["prompts", "--dialplans", str(ROOT / "dialplans"), "--recordings",
                 str(ROOT / "recordings"), "check"])
    assert code == 0, capsys.readouterr().out


@pytest.mark.real("espeak-ng")
def test_real_espeak_build(tree):
    dialplans, rec = tree
    report = prompts.build(dialplans, rec, langs=("ru",))
    assert sorted(report.built) == ["ru/bye", "ru/hello", "ru/num_0"]
    rate, width, channels, seconds = wav_info(rec / "ru" / "bye.wav")
    assert (rate, width, channels) == (8000, 2, 1) and 0.3 < seconds < 3
