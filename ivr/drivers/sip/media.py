"""RTP streams paced by one media clock: a single asyncio task ticks every 20 ms for all calls.

pyVoIP runs two threads per stream polling with 10 ms sleeps (1.43 cores for 200 streams,
packets lost past that); here one task sends one packet per stream per tick, feeds every
listening stream's received audio to one batched DTMF detector and ends streams whose peer
went quiet. Prompts arrive as pre-encoded 20 ms payloads (:mod:`ivr.drivers.sip.g711`), so a
tick costs a ``sendto`` per call and no audio processing.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import structlog

from ivr.drivers.sip import g711, rtp
from ivr.drivers.sip.dtmf import Detector, ToneTracker

log = structlog.get_logger("ivr.drivers.sip.media")
TICK = 0.02
_ZERO = np.zeros(g711.FRAME, dtype="<i2")
MAX_CATCH_UP = 5


class RtpStream(asyncio.DatagramProtocol):
    """One call's RTP: send payloads queued by :meth:`play`, report keys and audio heard."""

    def __init__(self, clock: MediaClock, remote: tuple[str, int] | None, codec: int,
                 event_pt: int | None, *, inband: bool = True,
                 on_digit: Callable[[str], None] = lambda _k: None,
                 on_audio: Callable[[np.ndarray], None] | None = None,
                 on_timeout: Callable[[], None] = lambda: None) -> None:
        self.clock, self.remote, self.codec, self.event_pt = clock, remote, codec, event_pt
        self.inband, self.on_digit, self.on_audio = inband, on_digit, on_audio
        self.on_timeout = on_timeout
        self.transport: asyncio.DatagramTransport | None = None
        self.ssrc = secrets.randbits(32)
        self.seq, self.ts = secrets.randbits(16), secrets.randbits(32)
        self._playing: deque[bytes] = deque()
        self._done: asyncio.Future[bool] | None = None
        self._events: deque[tuple[bytes, bool, int]] = deque()
        self._silence = bytes([g711.SILENCE[codec]]) * g711.FRAME
        self._heard: list[np.ndarray] = []
        # call recording: (caller PCM, IVR PCM) per 20 ms, both 16-bit mono (see .call)
        self.tap: Callable[[bytes, bytes], None] | None = None
        self._tap_heard: deque[np.ndarray] = deque(maxlen=10)
        self._sent_payload = self._silence
        self._receiver = rtp.EventReceiver()
        self.tracker = ToneTracker()
        self.last_rx = clock.now()
        self.packets_in = self.bad_packets = 0
        self.closed = False

    # ---- asyncio protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            pt, _marker, _seq, ts, _ssrc, payload = rtp.parse(data)
        except rtp.BadRtp:
            self.bad_packets += 1
            return
        self.last_rx = self.clock.now()
        self.packets_in += 1
        if pt == self.event_pt and self.event_pt is not None:
            self.inband = False  # the peer sends events: its audio may carry the tones too
            key = self._receiver.feed(ts, payload)
            if key:
                self.on_digit(key)
        elif (pt == self.codec and len(payload) == g711.FRAME
              and (self.inband or self.on_audio is not None or self.tap is not None)):
            self._heard.append(g711.decode(payload, self.codec))

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.: keep going
        log.debug("rtp_error", error=str(exc))

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    # ---- what the call does ------------------------------------------------------------------
    def play(self, payloads: Sequence[bytes]) -> asyncio.Future[bool]:
        """Queue audio; the future is True when it all went out, False if stopped first."""
        self._playing.extend(payloads)
        if self._done is None or self._done.done():
            self._done = asyncio.get_running_loop().create_future()
        return self._done

    def stop_playback(self) -> None:
        self._playing.clear()
        if self._done is not None and not self._done.done():
            self._done.set_result(False)

    def send_key(self, key: str, ms: int = 100) -> None:
        """Queue one RFC 4733 event (needs a negotiated telephone-event payload type)."""
        start = self.ts + 160 * len(self._events)
        for i, payload in enumerate(rtp.event_payloads(key, ms)):
            self._events.append((payload, i == 0, start))

    def retarget(self, remote: tuple[str, int], codec: int, event_pt: int | None) -> None:
        """Where and how to send once the answer is known (a calling softphone)."""
        self.remote, self.codec, self.event_pt = remote, codec, event_pt
        self._silence = bytes([g711.SILENCE[codec]]) * g711.FRAME

    @property
    def sending_events(self) -> bool:
        return bool(self._events)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.stop_playback()
            self.clock.remove(self)
            if self.transport is not None:
                self.transport.close()

    # ---- called by the clock -----------------------------------------------------------------
    def tick(self) -> None:
        if self._events and self.event_pt is not None:
            payload, marker, start = self._events.popleft()
            packet = rtp.build(self.event_pt, self.seq, start, self.ssrc, payload, marker)
        else:
            payload = self._playing.popleft() if self._playing else self._silence
            packet = rtp.build(self.codec, self.seq, self.ts, self.ssrc, payload)
            self._sent_payload = payload
            if not self._playing and self._done is not None and not self._done.done():
                self._done.set_result(True)
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + g711.FRAME) & 0xFFFFFFFF
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(packet, self.remote)

    def take_heard(self) -> list[np.ndarray]:
        heard, self._heard = self._heard, []
        if self.tap is not None:
            self._tap_heard.extend(heard)
            caller = self._tap_heard.popleft() if self._tap_heard else _ZERO
            self.tap(caller.tobytes(), g711.decode(self._sent_payload, self.codec).tobytes())
        return heard


class MediaClock:
    """The one task that paces every stream (and runs in-band detection in one batch)."""

    def __init__(self, rtp_timeout: float = 30.0) -> None:
        self.rtp_timeout = rtp_timeout
        self.streams: set[RtpStream] = set()
        self.detector = Detector()
        self._task: asyncio.Task[None] | None = None
        self.ticks = self.late_ticks = 0
        self.busy = 0.0  # seconds spent in ticks (the media share of the CPU, for bench/)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def add(self, stream: RtpStream) -> None:
        self.streams.add(stream)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sip-media")

    def remove(self, stream: RtpStream) -> None:
        self.streams.discard(stream)

    async def open(self, host: str, remote: tuple[str, int] | None, codec: int,
                   event_pt: int | None,
                   **kw: object) -> RtpStream:
        """A stream on a fresh UDP port of ``host``, registered with this clock."""
        loop = asyncio.get_running_loop()
        _, stream = await loop.create_datagram_endpoint(
            lambda: RtpStream(self, remote, codec, event_pt, **kw),  # type: ignore[arg-type]
            local_addr=(host, 0))
        self.add(stream)
        return stream

    async def stop(self) -> None:
        for stream in list(self.streams):
            stream.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            now = loop.time()
            behind = int((now - due) / TICK)
            if behind > MAX_CATCH_UP:  # the loop stalled: don't burst, restart the schedule
                due, behind = now, 0
                self.late_ticks += 1
            for _ in range(behind + 1):
                self._tick(now)
                due += TICK
            await asyncio.sleep(max(0.0, due - loop.time()))

    def _tick(self, now: float) -> None:
        began = time.perf_counter()
        self.ticks += 1
        for stream in list(self.streams):
            try:
                stream.tick()
                heard = stream.take_heard()
                if heard:
                    if stream.on_audio is not None:
                        for frame in heard:
                            stream.on_audio(frame)
                    if stream.inband:
                        for frame in heard:
                            self.detector.feed(stream.tracker, frame)
                if now - stream.last_rx > self.rtp_timeout:
                    stream.close()
                    stream.on_timeout()
            except Exception:
                log.exception("media_stream_failed")
                stream.close()
                stream.on_timeout()
        if len(self.detector):
            owners = {id(s.tracker): s for s in self.streams}
            for tracker, key in self.detector.run():
                stream = owners.get(id(tracker))
                if stream is not None:
                    stream.on_digit(key)
        self.busy += time.perf_counter() - began
