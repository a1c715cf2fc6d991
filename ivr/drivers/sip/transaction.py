"""RFC 3261 §17 timers over UDP: what pyVoIP 1.6.8 never does.

* :class:`Retransmitter` resends a message at T1, 2·T1, 4·T1… (capped at T2) until stopped
  or until 64·T1 (Timers G/H for a final response to INVITE awaiting its ACK, the 2xx
  retransmission of §13.3.1.4, Timer E/F for our own BYE); ``on_give_up`` then runs.
* :class:`ResponseCache` answers a retransmitted request with the response already sent
  (§17.2.1/§17.2.2: the server transaction absorbs retransmissions), keyed by the top Via
  branch and the method, and forgotten after Timer J (64·T1).
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

T1, T2 = 0.5, 4.0


class Retransmitter:
    """Send now, then again with doubling intervals until :meth:`stop` or 64·T1."""

    def __init__(self, send: Callable[[], None], *, t1: float = T1,
                 on_give_up: Callable[[], None] = lambda: None, cap: float = T2) -> None:
        self.send, self.t1, self.on_give_up, self.cap = send, t1, on_give_up, cap
        self.send()  # now, not when the task first runs: a stop() right after still sent it
        self.sent = 1
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        interval, waited = self.t1, 0.0
        while waited + interval <= 64 * self.t1:
            await asyncio.sleep(interval)
            waited += interval
            self.send()
            self.sent += 1
            interval = min(interval * 2, self.cap)
        await asyncio.sleep(max(0.0, 64 * self.t1 - waited))
        self.on_give_up()

    def stop(self) -> None:
        self._task.cancel()

    @property
    def active(self) -> bool:
        return not self._task.done()


class ResponseCache:
    """The last response to each (branch, method), for retransmitted requests."""

    def __init__(self, ttl: float = 64 * T1, size: int = 20_000) -> None:
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[tuple[str, str], tuple[float, bytes, tuple[str, int]]] = \
            OrderedDict()

    def put(self, key: tuple[str, str], data: bytes, dest: tuple[str, int], now: float) -> None:
        self._items[key] = (now + self.ttl, data, dest)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, key: tuple[str, str], now: float) -> tuple[bytes, tuple[str, int]] | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < now:
            del self._items[key]
            return None
        return item[1], item[2]
