"""``hotline prompts build|check``: prompt texts (YAML) → 8 kHz 16-bit mono WAV for Asterisk/SIP.

Texts come from ``dialplans/prompts.yaml`` (menus and machine) and
``dialplans/prompts_numbers.yaml`` (numbers, dates, units — :mod:`ivr.voice.speech`), both
``lang → prompt id → text``. ``build`` voices each with ``espeak-ng``, trims edge silence (numbers
are concatenated, gaps would stutter), normalises the level, resamples to 8 kHz with
:func:`scipy.signal.resample_poly` and writes ``recordings/<lang>/<id>.wav`` — the format
Asterisk's ``STREAM FILE`` plays natively. A manifest of text hashes skips unchanged prompts, so
the committed recordings change only where a text did; a fresh machine needs no TTS to run.

``check`` needs no TTS: every id the menus use (:func:`ivr.dialplan.menus.used_prompt_ids`) and every
number prompt must have a WAV, built from its current text, in every language a line offers.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

RATE = 8000
VOICES = {"ru": "ru", "en": "en"}
SPEED_WPM = 150
ENGINE_VERSION = "espeak-ng/trim/peak0.7/8k/v1"  # bump to force a rebuild of everything
TEXT_FILES = ("prompts.yaml", "prompts_numbers.yaml")
MANIFEST = "manifest.json"

Synth = Callable[[str, str], tuple[int, np.ndarray]]  # (text, lang) -> (rate, samples)


class PromptError(Exception):
    """A prompt file is malformed or two files disagree; the message names the file."""


def load_texts(dialplans: Path) -> dict[str, dict[str, str]]:
    """Merge the prompt files into lang → id → text; an id defined twice differently is an
    error, since one of the two recordings would silently win."""
    merged: dict[str, dict[str, str]] = {}
    origin: dict[tuple[str, str], str] = {}
    for name in TEXT_FILES:
        path = dialplans / name
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise PromptError(f"{path}: expected a mapping lang -> prompt id -> text")
        for lang, table in data.items():
            if not isinstance(table, dict):
                raise PromptError(f"{path}: {lang}: expected a mapping prompt id -> text")
            for pid, text in table.items():
                pid, text = str(pid), str(text).strip()
                if not text:
                    raise PromptError(f"{path}: {lang}.{pid}: empty text")
                if "/" in pid or pid.startswith("."):
                    raise PromptError(f"{path}: {lang}.{pid}: not a usable file name")
                known = merged.setdefault(str(lang), {}).get(pid)
                if known is not None and known != text:
                    raise PromptError(f"{path}: {lang}.{pid}: already defined differently in "
                                      f"{origin[(str(lang), pid)]}")
                merged[str(lang)][pid] = text
                origin[(str(lang), pid)] = str(path)
    return merged


def text_hash(lang: str, text: str) -> str:
    key = json.dumps([ENGINE_VERSION, VOICES.get(lang, lang), SPEED_WPM, RATE, text])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# ---- audio ----------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")


def voice_runs(text: str, lang: str) -> list[tuple[str, str]]:
    """Split a text into runs by script: a bilingual greeting («Здравствуйте! … Hello! …») is
    voiced sentence by sentence in Russian and English instead of one voice spelling letters."""
    runs: list[tuple[str, str]] = []
    for sentence in _SENTENCE.findall(text):
        if not sentence.strip():
            continue
        cyr = sum("\u0400" <= ch <= "\u04ff" for ch in sentence)
        lat = sum(ch.isascii() and ch.isalpha() for ch in sentence)
        run_lang = lang
        if lang != "ru" and cyr > lat:
            run_lang = "ru"
        elif lang == "ru" and cyr == 0 and lat > 3:  # a whole English sentence, not «API»
            run_lang = "en"
        if runs and runs[-1][0] == run_lang:
            runs[-1] = (run_lang, runs[-1][1] + sentence)
        else:
            runs.append((run_lang, sentence))
    return [(run_lang, chunk.strip()) for run_lang, chunk in runs] or [(lang, text)]


def espeak(text: str, lang: str) -> tuple[int, np.ndarray]:
    """Voice ``text`` with espeak-ng, each script run in its own voice, 0.3 s apart."""
    parts: list[np.ndarray] = []
    rate = 22050
    for run_lang, chunk in voice_runs(text, lang):
        rate, samples = _espeak_one(chunk, run_lang)
        if parts:
            parts.append(np.zeros(int(rate * 0.3), dtype=samples.dtype))
        parts.append(samples)
    return rate, np.concatenate(parts)


def _espeak_one(text: str, lang: str) -> tuple[int, np.ndarray]:
    """One espeak-ng run into a temp WAV; returns (rate, int16 samples)."""
    from scipy.io import wavfile

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise PromptError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        out = Path(tmp) / "p.wav"
        subprocess.run([exe, "-v", VOICES.get(lang, lang), "-s", str(SPEED_WPM), "-b", "1",
                        "-w", str(out), "--stdin"], input=text.encode(), check=True,
                       capture_output=True, timeout=60)
        rate, samples = wavfile.read(out)
    return int(rate), samples


def to_telephony(rate: int, samples: np.ndarray, *, pad_ms: int = 40) -> np.ndarray:
    """Mono, edge silence trimmed, peak at 0.7, resampled to 8 kHz, int16."""
    from scipy.signal import resample_poly

    x = samples.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if np.issubdtype(samples.dtype, np.integer):
        x /= float(np.iinfo(samples.dtype).max)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 0:
        loud = np.flatnonzero(np.abs(x) > 0.02 * peak)
        pad = rate * pad_ms // 1000
        x = x[max(0, loud[0] - pad): loud[-1] + pad + 1] * (0.7 / peak)
    if rate != RATE:
        g = math.gcd(rate, RATE)
        x = resample_poly(x, RATE // g, rate // g)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Atomic: a crash never leaves a half-written prompt behind."""
    from scipy.io import wavfile

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".wav.tmp")
    wavfile.write(tmp, RATE, samples.astype(np.int16))
    os.replace(tmp, path)


# ---- build / check --------------------------------------------------------------------------------
@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: int = 0
    orphans: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def _read_manifest(recordings: Path) -> dict[str, dict[str, str]]:
    path = recordings / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def build(dialplans: Path, recordings: Path, *, langs: tuple[str, ...] | None = None,
          only: set[str] | None = None, force: bool = False, prune: bool = False,
          synth: Synth = espeak, workers: int | None = None) -> BuildReport:
    texts = load_texts(dialplans)
    manifest = _read_manifest(recordings)
    report = BuildReport()
    jobs: list[tuple[str, str, str, str]] = []
    for lang, table in sorted(texts.items()):
        if langs and lang not in langs:
            continue
        known = manifest.setdefault(lang, {})
        for pid, text in sorted(table.items()):
            if only and pid not in only:
                continue
            digest = text_hash(lang, text)
            if not force and known.get(pid) == digest and (recordings / lang / f"{pid}.wav").exists():
                report.unchanged += 1
                continue
            jobs.append((lang, pid, text, digest))
        folder = recordings / lang
        for wav in sorted(folder.glob("*.wav")) if folder.exists() else []:
            if wav.stem not in table:
                report.orphans.append(f"{lang}/{wav.name}")
                if prune:
                    wav.unlink()
                    known.pop(wav.stem, None)
                    report.pruned.append(f"{lang}/{wav.name}")

    def one(job: tuple[str, str, str, str]) -> tuple[str, str, str]:
        lang, pid, text, digest = job
        rate, samples = synth(text, lang)
        write_wav(recordings / lang / f"{pid}.wav", to_telephony(rate, samples))
        return lang, pid, digest

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 2)) as pool:
        for lang, pid, digest in pool.map(one, jobs):
            manifest[lang][pid] = digest
            report.built.append(f"{lang}/{pid}")
    recordings.mkdir(parents=True, exist_ok=True)
    (recordings / MANIFEST).write_text(json.dumps(
        {lang: dict(sorted(ids.items())) for lang, ids in sorted(manifest.items())},
        ensure_ascii=False, indent=1) + "\n")
    return report


def required(dialplans: Path) -> dict[str, set[str]]:
    """lang → prompt ids that must have audio: menu/machine ids in every language any line
    offers, plus every number prompt of that language."""
    from ivr.dialplan.menus import used_prompt_ids
    from ivr.dialplan.model import load_dialplan

    langs = sorted({lang for line in load_dialplan(dialplans).lines.values()
                    for lang in line.languages})
    used = used_prompt_ids(dialplans)
    numbers_path = dialplans / "prompts_numbers.yaml"
    numbers = yaml.safe_load(numbers_path.read_text(encoding="utf-8")) if numbers_path.exists() \
        else {}
    return {lang: set(used) | set(numbers.get(lang, {})) for lang in langs}


def check(dialplans: Path, recordings: Path) -> list[str]:
    """Problems, one per line: no text, no audio, or audio of an older text."""
    texts = load_texts(dialplans)
    manifest = _read_manifest(recordings)
    problems: list[str] = []
    for lang, ids in sorted(required(dialplans).items()):
        for pid in sorted(ids):
            text = texts.get(lang, {}).get(pid)
            wav = recordings / lang / f"{pid}.wav"
            if text is None:
                problems.append(f"{lang}/{pid}: no text in dialplans/prompts*.yaml")
            elif not wav.exists():
                problems.append(f"{lang}/{pid}: no recording {wav}")
            elif manifest.get(lang, {}).get(pid) != text_hash(lang, text):
                problems.append(f"{lang}/{pid}: recording is older than its text "
                                "(run `hotline prompts build`)")
    return problems


# ---- CLI ------------------------------------------------------------------------------------------
def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prompts", help="voice prompts: build WAVs from texts, check coverage")
    p.add_argument("--dialplans", type=Path, default=Path("dialplans"))
    p.add_argument("--recordings", type=Path, default=Path("recordings"))
    ps = p.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    b = ps.add_parser("build", help="voice new or changed texts with espeak-ng (8 kHz mono WAV)")
    b.add_argument("--lang", action="append", help="only this language (repeatable)")
    b.add_argument("--only", action="append", help="only this prompt id (repeatable)")
    b.add_argument("--force", action="store_true", help="rebuild even unchanged prompts")
    b.add_argument("--prune", action="store_true", help="delete recordings that have no text")
    b.set_defaults(func=cmd_build)
    c = ps.add_parser("check", help="every used prompt has current audio in each line language")
    c.set_defaults(func=cmd_check)


def _size(recordings: Path) -> int:
    return sum(f.stat().st_size for f in recordings.rglob("*.wav"))


def cmd_build(args: argparse.Namespace) -> int:
    try:
        report = build(args.dialplans, args.recordings, langs=tuple(args.lang or ()) or None,
                       only=set(args.only) if args.only else None, force=args.force,
                       prune=args.prune)
    except (PromptError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"prompts: {len(report.built)} built, {report.unchanged} unchanged; "
          f"{args.recordings}/ holds {_size(args.recordings) / 1e6:.1f} MB")
    for name in report.orphans:
        state = "deleted" if name in report.pruned else "no text (use --prune to delete)"
        print(f"  {name}: {state}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ivr.dialplan.yamlconf import ConfigError

    try:
        problems = check(args.dialplans, args.recordings)
    except (PromptError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in problems:
        print(line)
    if problems:
        print(f"prompts check: {len(problems)} missing or stale", file=sys.stderr)
        return 1
    print("prompts check: every used prompt has current audio in every line language")
    return 0
