"""Dashboard latency: a change of the live figures → the new number on a browser's screen.

    .venv/bin/python bench/web_event_to_screen.py [--changes 200] [--lines 80] [--pages 1] [--interval 0.2]

The app (``ivr.web.app.create_app``) runs under uvicorn in a thread, fed by a live source
that wakes its subscribers at once (the real board coalesces to 5 updates a second, which
adds up to 0.2 s on top of these figures). Debian's chromium (playwright) logs in and opens
the board; each change sets one group's "waiting" to a new value and the page records, with a
MutationObserver, when that value is in the DOM. Both clocks are this machine's wall clock.
Peer in the same run: the same changes read as raw JSON events (``/events?format=json``)
decoded by the page — the transport without the server-side HTML rendering.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


class ImmediateLive:
    """A LiveSource whose ``change`` (any thread) wakes every subscriber's loop at once."""

    def __init__(self, lines: int) -> None:
        self.snap = {"at": "2026-11-23T10:00:00+03:00", "sl_definition": "bench",
                     "groups": [self._group(i) for i in range(14)],
                     "lines": [{"line": f"line{i % 9}", "region": f"r{i}", "in_ivr": i,
                                "queued": i % 4, "self_service_share": 0.3}
                               for i in range(lines)],
                     "callbacks": {"pending": 3, "completed": 9}}
        self.version = 0
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.lock = threading.Lock()

    @staticmethod
    def _group(i: int) -> dict:
        return {"skill": f"s{i}", "name": f"Группа {i}", "waiting": 0, "longest_wait_s": 12.0,
                "agents": {"available": 3, "on_call": 5, "wrap_up": 1}, "ewt_s": 40.0,
                "answered": 100 + i, "abandoned": 4, "short_abandoned": 1,
                "service_level": 0.81, "asa_s": 33.0, "aht_s": 300.0, "abandon_rate": 0.03,
                "occupancy": 0.8}

    def snapshot(self) -> dict:
        with self.lock:
            return {**self.snap, "groups": [dict(g) for g in self.snap["groups"]]}

    def change(self, waiting: int) -> None:
        with self.lock:
            self.snap["groups"][0]["waiting"] = waiting
            self.version += 1
            waiters, self.waiters = self.waiters, []
        for loop, ev in waiters:
            loop.call_soon_threadsafe(ev.set)

    async def subscribe(self):
        seen = -1
        while True:
            ev = asyncio.Event()
            with self.lock:
                fresh = self.version != seen
                if not fresh:
                    self.waiters.append((asyncio.get_running_loop(), ev))
            if not fresh:
                await ev.wait()
            seen = self.version
            yield self.snapshot()


OBSERVE_HTML = """
window.__seen = {};
new MutationObserver(() => {
  const td = document.querySelector('#board tr[data-skill="s0"] td.waiting');
  if (td && !(td.textContent in window.__seen)) window.__seen[td.textContent] = Date.now();
}).observe(document.getElementById('board'), {childList: true, subtree: true});
"""
OBSERVE_JSON = """
window.__seen = {};
const es = new EventSource('/events?format=json');
es.addEventListener('snapshot', ev => {
  const w = String(JSON.parse(ev.data).groups[0].waiting);
  if (!(w in window.__seen)) window.__seen[w] = Date.now();
});
"""


def run(changes: int, lines: int, pages: int, interval: float) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade
    from ivr.web.app import create_app
    from ivr.web.users import add_user

    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-web-"))
    os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef")
    os.environ["HOTLINE_KEYRING_FILE"] = str(tmp / "keys")
    url = f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as db:
        add_user(db, "bench", "supervisor", datetime.now(UTC), "bench-password-1")
    engine.dispose()
    live = ImmediateLive(lines)
    server = uvicorn.Server(uvicorn.Config(create_app(url, live, whatif=False), port=0,
                                           log_level="warning", timeout_graceful_shutdown=1))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    value = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for label, script in (("html fragment (/events)", OBSERVE_HTML),
                              ("json peer (/events?format=json)", OBSERVE_JSON)):
            tabs = []
            for _ in range(pages):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(base + "/login")
                page.fill("input[name=username]", "bench")
                page.fill("input[name=password]", "bench-password-1")
                page.click("form.login button[type=submit]")
                page.wait_for_selector("#board table.wall")
                page.wait_for_timeout(500)
                page.evaluate(script)
                tabs.append(page)
            page.wait_for_timeout(500)
            sent: dict[str, float] = {}
            for _ in range(changes):
                value += 1
                sent[str(value)] = time.time() * 1000
                live.change(value)
                time.sleep(interval)
            time.sleep(1.0)
            lat = []
            for page in tabs:
                seen = page.evaluate("window.__seen")
                lat += [seen[k] - t for k, t in sent.items() if k in seen]
                page.close()
            lat.sort()
            missed = changes * pages - len(lat)
            print(f"{label:34} n={len(lat):4} p50 {statistics.median(lat):6.1f} ms  "
                  f"p99 {lat[int(0.99 * (len(lat) - 1))]:6.1f} ms  max {lat[-1]:6.1f} ms  "
                  f"not seen {missed} (superseded within a frame)")
        browser.close()
    server.should_exit = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--lines", type=int, default=80, help="line × region rows on the board")
    ap.add_argument("--pages", type=int, default=1, help="browser tabs watching at once")
    ap.add_argument("--interval", type=float, default=0.2,
                    help="seconds between changes (0.2: the board's coalescing, 5 a second)")
    a = ap.parse_args()
    print(f"dashboard event→screen: {a.changes} changes {a.interval * 1000:g} ms apart, 14 "
          f"groups, {a.lines} "
          f"line rows, {a.pages} tab(s), chromium {Path('/usr/bin/chromium').exists()}")
    run(a.changes, a.lines, a.pages, a.interval)


if __name__ == "__main__":
    main()
