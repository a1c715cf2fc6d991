"""Asterisk over AMI/AsyncAGI — one module per idea:

- ``codec`` (+ ``message``, ``agi``): sans-IO AMI wire format; the rules live at its top.
- ``connection``: asyncio client (ActionID futures, lists, ping, reconnect with backoff).
- ``bridge`` (+ ``calls``, ``agimap``, ``queuefeed``, ``originate``): AsyncAGI calls ↔ IVR
  sessions; ``agimap`` is the only IVR-command → AGI table.
- ``dialler`` (+ ``dialguard``: only normalised Russian E.164 behind an allow-list): callbacks
  dialled with Originate; ``serve``: ``hotline serve --asterisk ami://…``.
- ``emulator`` (+ ``emulator_channel``, ``emulator_calls``, ``emulator_agi``, ``emulator_queue``): a FAKE Asterisk 22
  for tests and benchmarks, speaking the wire format of tests/data/asterisk transcripts.
- ``recording``: MixMonitor for consenting callers, StopMixMonitor on a refusal, the spooled
  WAV adopted encrypted at hang-up (its emulated side: ``emulator_mixmonitor``).
- ``transfers``: BlindTransfer / AttendedTransfer of a queued caller to the senior group (its
  emulated side: ``emulator_transfer``).
- ``cdr``: ``hotline import cdr`` — Asterisk's own CDR/CEL files close the gaps of a disconnected
  bridge.
- ``loadgen``: 1,000-call load and link-kill runs (tests and ``bench/ami_load.py``).
"""
