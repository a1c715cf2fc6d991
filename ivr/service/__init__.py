"""The running hotline: ``hotline serve`` / ``demo`` / ``stats`` — one process, one event loop.

Map: :mod:`.clock` (real or accelerated time), :mod:`.writer` (call records written by one
thread, batched, off the loop), :mod:`.acd` (the IVR's ``Enqueue`` → the live ACD of
:mod:`queue_engine.acd` → each queued call's true final outcome), :mod:`.agents` (virtual
agents on the roster: the ACD's timers and what a SIP caller hears while waiting and when
"agent 17" answers), :mod:`.board` (the live figures the dashboard and ``hotline stats``
read), :mod:`.demo` (the default scenario's calls through the real IVR machine), :mod:`.serve`
(wiring, start-up banner, graceful stop), :mod:`.stats` (the terminal table), :mod:`.cli`.
"""
