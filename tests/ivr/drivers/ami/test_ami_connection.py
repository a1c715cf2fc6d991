"""The asyncio AMI connection: futures without leaks, lists, keep-alive, reconnect."""
from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from ivr.drivers.ami.connection import (
    AMIConnection,
    AMIDisconnected,
    AMIError,
    parse_ami_url,
)
from ivr.drivers.ami.emulator import AMIEmulator


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def conn_for(port: int, **kw) -> AMIConnection:
    kw.setdefault("backoff_initial", 0.02)
    kw.setdefault("backoff_max", 0.2)
    return AMIConnection("127.0.0.1", port, "ivr", "ivrsecret", **kw)


def test_actions_lists_errors_and_no_leaks():
    async def main():
        async with AMIEmulator() as emu:
            emu.add_queue("test", ["alice", "bob"])
            c = conn_for(emu.port)
            await c.start()
            pong = await c.send_action("Ping")
            assert pong["Ping"] == "Pong" and pong.action_id.startswith(c.id_prefix)
            with pytest.raises(AMIError, match="Invalid/unknown command"):
                await c.send_action("NoSuchAction")
            res = await c.send_list_action("QueueStatus", {"Queue": "test"})
            assert [m.event for m in res.events] == ["QueueParams", "QueueMember", "QueueMember"]
            assert res.complete["ListItems"] == "3"
            empty = await c.send_list_action("QueueStatus", {"Queue": "nosuchqueue"})
            assert empty.events == [] and empty.complete["ListItems"] == "0"
            # many concurrent actions resolve to their own answers
            many = await asyncio.gather(*(c.send_action("Ping") for _ in range(200)))
            assert len({m.action_id for m in many}) == 200
            assert c.pending_count == 0
            await c.close()
    run(main())


class SilentServer:
    """Sends the banner and accepts a login, then never answers again (half-dead peer)."""

    def __init__(self, answer_login: bool = True, login_ok: bool = True) -> None:
        self.answer_login, self.login_ok = answer_login, login_ok
        self.connections = 0

    async def handle(self, reader, writer) -> None:
        self.connections += 1
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await reader.read(1024)
            if not chunk:
                return
            data += chunk
        aid = data.split(b"ActionID: ")[1].split(b"\r\n")[0]
        if self.answer_login:
            status = b"Success" if self.login_ok else b"Error"
            writer.write(b"Response: " + status + b"\r\nActionID: " + aid +
                         b"\r\nMessage: x\r\n\r\n")
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            while await reader.read(1024):
                pass

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()


def test_timeouts_do_not_leak_and_ping_failure_reconnects():
    async def main():
        async with SilentServer() as srv:
            c = conn_for(srv.port, action_timeout=0.1, ping_interval=100)
            await c.start()
            for _ in range(20):
                with pytest.raises(TimeoutError):
                    await c.send_action("Ping", timeout=0.01)
            assert c.pending_count == 0
            await c.close()
            c = conn_for(srv.port, action_timeout=0.1, ping_interval=0.05)
            await c.start()
            # the keep-alive notices the dead peer and reconnects on its own
            for _ in range(100):
                if srv.connections >= 3:
                    break
                await asyncio.sleep(0.02)
            assert srv.connections >= 3
            await c.close()
    run(main())


def test_disconnect_fails_pending_actions_at_once():
    async def main():
        async with SilentServer() as srv:
            c = conn_for(srv.port, action_timeout=10)
            await c.start()
            fut = asyncio.ensure_future(c.send_action("Ping"))
            await asyncio.sleep(0.02)
            c.drop()
            with pytest.raises(AMIDisconnected):
                await asyncio.wait_for(fut, 1)
            assert c.pending_count == 0
            await c.wait_ready(2)  # and it is back
            assert c.connects == 2
            await c.close()
    run(main())


def test_login_failure_is_retried_with_backoff_not_a_crash():
    async def main():
        async with SilentServer(login_ok=False) as srv:
            c = conn_for(srv.port)
            await c.start(wait=False)
            await asyncio.sleep(0.5)
            assert not c.ready and srv.connections >= 3
            await c.close()
    run(main())


def test_backoff_is_exponential_capped_and_jittered():
    c = AMIConnection(backoff_initial=0.5, backoff_max=30, rng=random.Random(1))
    for attempt in range(12):
        base = min(30, 0.5 * 2 ** attempt)
        delays = [c._backoff(attempt) for _ in range(50)]
        assert all(base / 2 <= d <= base for d in delays)
        assert len(set(delays)) > 1  # jitter: reconnect storms spread out


def test_reconnect_runs_resync_hooks_before_ready():
    async def main():
        async with AMIEmulator() as emu:
            c = conn_for(emu.port)
            seen: list[int] = []

            async def hook(conn):
                res = await conn.send_list_action("CoreShowChannels")
                seen.append(len(res.events))
            c.on_connect(hook)
            await c.start()
            emu.place_call()
            await asyncio.sleep(0.05)
            await emu.drop_connections()
            await asyncio.sleep(0.05)
            await c.wait_ready(2)
            assert seen == [0, 1]
            await c.close()
    run(main())


def test_events_reach_subscribers_and_async_listeners():
    async def main():
        async with AMIEmulator() as emu:
            c = conn_for(emu.port)
            got: list[str] = []

            async def alisten(m):
                got.append("async:" + (m.event or ""))

            def boom(m):
                raise RuntimeError("bad listener")
            c.subscribe(boom)
            c.subscribe(lambda m: got.append(m.event or ""))
            c.subscribe(alisten)
            await c.start()
            emu.place_call()
            await asyncio.sleep(0.05)
            assert "AsyncAGIStart" in got and "async:AsyncAGIStart" in got
            await c.close()
    run(main())


def test_parse_ami_url():
    assert parse_ami_url("ami://ivr:s%40cret@10.0.0.5:5039") == {
        "host": "10.0.0.5", "port": 5039, "username": "ivr", "secret": "s@cret"}
    assert parse_ami_url("ami://u:p@host")["port"] == 5038
    with pytest.raises(ValueError):
        parse_ami_url("http://x")
