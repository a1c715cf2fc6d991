"""What adopting an Asterisk recording costs (issue 9): a MixMonitor WAV of a 3-minute call
(8 kHz mono 16-bit, 2.9 MB) encrypted into the store with its row and audit entry
(``ivr.records.recordings.adopt_file``), against its peer in the same process: the same file
copied into the store in clear (``shutil.copyfile`` + unlink). Medians of alternating runs.
Run: ``.venv/bin/python bench/ami_recording.py [--n 30] [--seconds 180]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from ivr.records.recordings import adopt_file
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def spool_wav(path: Path, seconds: float) -> None:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (6000 * np.sin(2 * np.pi * 425 * t)).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=180.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ami-rec-"))
    os.environ.setdefault("HOTLINE_KEYRING_FILE", str(tmp / "hotline.keys"))
    engine = make_engine(f"sqlite:///{tmp / 'b.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    master = tmp / "master.wav"
    spool_wav(master, args.seconds)
    size = master.stat().st_size
    (tmp / "plain").mkdir()
    enc, plain = [], []
    for i in range(args.n):
        src = tmp / f"ast1_{i}.wav"
        shutil.copyfile(master, src)
        start = time.perf_counter()
        with factory.begin() as db:
            adopt_file(db, call_id=f"ast1:{i}", wav_path=src, started_at=T0 + timedelta(
                seconds=i), now=T0 + timedelta(seconds=i + args.seconds), root=tmp / "store")
        enc.append(time.perf_counter() - start)
        shutil.copyfile(master, src)
        start = time.perf_counter()
        shutil.copyfile(src, tmp / "plain" / src.name)
        src.unlink()
        plain.append(time.perf_counter() - start)
    e, p = statistics.median(enc) * 1e3, statistics.median(plain) * 1e3
    print(f"adopting a {args.seconds:.0f} s call recording ({size / 1e6:.1f} MB WAV), n={args.n}, "
          f"medians:")
    print(f"  encrypted into the store + row + audit : {e:7.1f} ms ({size / e / 1e3:.0f} MB/s)")
    print(f"  plain copy (peer)                      : {p:7.1f} ms")
    print(f"  ratio {e / p:.1f}x; at 1,000 calls an hour: {e * 1000 / 3.6e6 * 100:.2f} % of one "
          "core (worker thread, off the loop)")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
