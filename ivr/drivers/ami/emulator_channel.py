"""The FAKE Asterisk's plain data: a channel, a scripted caller, AGI text encodings.

Part of the AMI emulator (not Asterisk), shared by ``emulator.py`` (the AMI server) and the
runners it drives (``emulator_calls``, ``emulator_agi``, ``emulator_queue``), so their imports run
one way: every runner depends on this module and on :class:`EmulatorHost`, never on the server.
Field orders follow tests/data/asterisk/transcripts (captured from Asterisk 22.10.1).
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote


class EmulatorHost(Protocol):
    """What the runners use of the emulator (``AMIEmulator`` implements it)."""

    channels: dict[str, Channel]
    calls: Any
    queues: dict[str, Any]
    rng: random.Random
    time_scale: float
    prompt_s: float
    result_override: dict[str, str]
    started: asyncio.Event
    finished: Any
    originate_reason: Callable[..., Any] | str | None

    def emit(self, cls: str, pairs: list[tuple[str, str]]) -> None: ...
    def scaled(self, seconds: float) -> float: ...
    def spawn(self, coro: Any) -> Any: ...
    def new_channel_suffix(self) -> str: ...
    def new_uniqueid(self) -> str: ...
    def prompt_exists(self, path: str) -> bool: ...


@dataclass
class CallerScript:
    """How an emulated caller behaves.

    ``presses``: one entry per AGI command that listens for keys (STREAM FILE with escape
    digits, GET DATA, WAIT FOR DIGIT, SAY *), consumed in order; ``None`` or ``""`` = stay
    silent for that prompt. ``hangup_after_commands``: hang up once n AGI commands have run,
    instead of waiting for the next one (``0``: right after AsyncAGIStart). ``hangup_after_s``: hang up that many (scaled) seconds after the call starts.
    """

    presses: list[str | None] = field(default_factory=list)
    press_delay_s: float = 0.2
    hangup_after_commands: int | None = None
    hangup_after_s: float | None = None


STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}


@dataclass(eq=False)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    callerid_num: str
    callerid_name: str
    context: str
    exten: str
    language: str = "ru"
    priority: int = 1
    state: int = 4
    app: str = ""
    appdata: str = ""
    created: float = field(default_factory=time.time)
    in_agi: bool = False
    gone: bool = False
    script: CallerScript | None = None
    commands_run: int = 0
    agi_queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    digits: asyncio.Queue = field(default_factory=asyncio.Queue)
    hangup_evt: asyncio.Event = field(default_factory=asyncio.Event)
    feeding: bool = False
    hangup_requested: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    end_reason: str = ""
    queue_result: str = ""

    def headers(self) -> list[tuple[str, str]]:
        """The 14-field channel block every channel event starts with (transcripts)."""
        return [
            ("Channel", self.name), ("ChannelState", str(self.state)),
            ("ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            ("CallerIDNum", self.callerid_num), ("CallerIDName", self.callerid_name),
            ("ConnectedLineNum", "<unknown>"), ("ConnectedLineName", "<unknown>"),
            ("Language", self.language), ("AccountCode", ""), ("Context", self.context),
            ("Exten", self.exten), ("Priority", str(self.priority)),
            ("Uniqueid", self.uniqueid), ("Linkedid", self.linkedid),
        ]

    def dest_headers(self) -> list[tuple[str, str]]:
        return [("Dest" + k, v) for k, v in self.headers()]


def agi_env(pairs: list[tuple[str, str]]) -> str:
    """URL-encode an AGI environment exactly like res_agi (``%3A%20`` … ``%0A%0A``)."""
    text = "".join(f"{k}: {v}\n" for k, v in pairs) + "\n"
    return quote(text.encode("utf-8", "surrogateescape"), safe="")


def agi_result(text: str) -> str:
    """URL-encode an AGI result line (``200 result=0 endpos=0\\n``)."""
    return quote(text + "\n", safe="")
