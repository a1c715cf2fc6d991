"""AMI parsing throughput: our sans-IO codec vs asterisk-ami 0.1.7 vs panoramisk 1.4.

Same feed for all three: the six real Asterisk 22 transcripts (server side, banner stripped)
repeated to ~20 MB, handed over in 16 KiB reads. Each library runs its own code path:
asterisk-ami its ``_next_pack`` generator + ``fire_recv_pack`` (Response/Event objects),
panoramisk its ``data_received`` loop (per-read decode + ``Message.from_line``), ours
``Decoder.feed`` three ways: dispatching by event name only (headers are split lazily), reading
the name plus one field (what the bridge does), and forcing every header to be split (what the
other two always do). Prints messages/s and MB/s and the ratios. Run:
``.venv/bin/python bench/ami_codec.py``.
"""
from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

from ivr.drivers.ami.codec import Decoder, Message

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "asterisk" / "transcripts"
CHUNK = 16 * 1024


def feed_bytes(target_mb: float = 20.0) -> bytes:
    one = b"".join(p.read_bytes().split(b"\r\n", 1)[1]
                   for p in sorted(TRANSCRIPTS.glob("*.server.txt")))
    # drop the Logoff answers: asterisk-ami stops reading at "Response: Goodbye"
    one = b"".join(f + b"\r\n\r\n" for f in one.split(b"\r\n\r\n")
                   if f and not f.startswith(b"Response: Goodbye"))
    return one * max(1, int(target_mb * 1e6 / len(one)))


def chunks(data: bytes) -> list[bytes]:
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


def ours(parts: list[bytes]) -> int:
    dec = Decoder(expect_banner=False)
    n = 0
    for part in parts:
        for m in dec.feed(part):
            if isinstance(m, Message):
                m.event  # noqa: B018 - touch it like a dispatcher would
                n += 1
    return n


def ours_field(parts: list[bytes]) -> int:
    """Ours as the bridge uses it: the event name plus one field (exact-spelling fast path)."""
    dec = Decoder(expect_banner=False)
    n = 0
    for part in parts:
        for m in dec.feed(part):
            if isinstance(m, Message):
                m.event  # noqa: B018
                m.get("Uniqueid")
                n += 1
    return n


def ours_full(parts: list[bytes]) -> int:
    """Ours with every header split (what asterisk-ami and panoramisk always do)."""
    dec = Decoder(expect_banner=False)
    n = 0
    for part in parts:
        for m in dec.feed(part):
            if isinstance(m, Message):
                m.headers  # noqa: B018 - forces the full split and case-insensitive index
                n += 1
    return n


def asterisk_ami(parts: list[bytes]) -> int:
    from asterisk.ami import AMIClient

    class FakeSock:
        def __init__(self) -> None:
            self.it = iter([b"Asterisk Call Manager/11.0.0\r\n", *parts])

        def recv(self, _n: int) -> bytes:
            return next(self.it, b"")

        def close(self) -> None:
            pass

    client = AMIClient(buffer_size=CHUNK)
    client._socket = FakeSock()
    client.finished = threading.Event()
    n = 0
    orig = client.fire_recv_pack

    def count(pack):
        nonlocal n
        n += 1
        orig(pack)
    client.fire_recv_pack = count
    client.listen()
    return n


def panoramisk(parts: list[bytes]) -> int:
    from panoramisk import utils
    from panoramisk.message import Message as PMessage

    queue: collections.deque = collections.deque()
    n = 0
    eol2 = utils.EOL + utils.EOL
    for raw in parts:  # the body of AMIProtocol.data_received, minus logging/dispatch
        data = raw.decode("utf-8", "ignore")
        if queue:
            data = queue.popleft() + data
        lines = data.split(eol2)
        queue.append(lines.pop(-1))
        for line in lines:
            PMessage.from_line(line.strip())
            n += 1
    return n


def bench(fn, parts, size) -> tuple[float, int]:
    best = float("inf")
    n = 0
    for _ in range(3):
        t0 = time.perf_counter()
        n = fn(parts)
        best = min(best, time.perf_counter() - t0)
    print(f"{fn.__name__:>13}: {n:>8} msgs  {n / best:>10,.0f} msgs/s  {size / best / 1e6:6.1f} MB/s")
    return n / best, n


def main() -> None:
    data = feed_bytes()
    parts = chunks(data)
    print(f"feed: {len(data) / 1e6:.1f} MB in {len(parts)} reads of {CHUNK} B "
          f"(real Asterisk 22.10.1 transcripts)")
    r_ours, n_ours = bench(ours, parts, len(data))
    r_field, _ = bench(ours_field, parts, len(data))
    r_full, _ = bench(ours_full, parts, len(data))
    r_ami, n_ami = bench(asterisk_ami, parts, len(data))
    r_pan, n_pan = bench(panoramisk, parts, len(data))
    print(f"ratio ours(lazy)/asterisk-ami = {r_ours / r_ami:.2f}x   ours(lazy)/panoramisk = "
          f"{r_ours / r_pan:.2f}x   (messages: {n_ours} / {n_ami} / {n_pan})")
    print(f"ratio ours(field)/asterisk-ami = {r_field / r_ami:.2f}x   ours(field)/panoramisk = "
          f"{r_field / r_pan:.2f}x")
    print(f"ratio ours(full)/asterisk-ami = {r_full / r_ami:.2f}x   ours(full)/panoramisk = "
          f"{r_full / r_pan:.2f}x")


if __name__ == "__main__":
    main()
