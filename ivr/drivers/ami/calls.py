"""What the bridge knows about one call: plain data shared by the bridge and its helpers."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class CallGone(Exception):
    """The channel hung up or left AGI; no more commands can run on it."""


class CommandLost(Exception):
    """The AMI link dropped while the command ran; its result will never be known."""


@dataclass(frozen=True)
class CallInfo:
    """What the session factory gets to build a session (route by ``dnid``)."""

    call_id: str
    uniqueid: str
    channel: str
    dnid: str | None
    callerid: str | None
    callerid_name: str | None
    language: str | None
    env: dict[str, str]
    adopted: bool = False  # started before this bridge saw its AsyncAGIStart
    exten: str | None = None  # the channel's extension when AGI started


@dataclass
class CallRecord:
    """Emitted once per call to ``on_call_end`` (store writes are idempotent on call_id)."""

    call_id: str
    uniqueid: str
    channel: str
    dnid: str | None
    callerid: str | None
    started_at: datetime
    ended_at: datetime
    end_reason: str
    session_outcome: Any = None
    queue_result: str | None = None
    agent: str | None = None
    error: str | None = None
    commands: int = 0
    queue: str | None = None  # app_queue queue the caller joined
    queued_at: datetime | None = None  # QueueCallerJoin
    answered_at: datetime | None = None  # AgentConnect: an agent picked up
    left_queue_at: datetime | None = None  # QueueCallerAbandon / AgentConnect
    transfers: tuple = ()  # ivr.drivers.ami.transfers.SeenTransfer: to a senior group


@dataclass(eq=False)
class CallState:
    """The bridge's mutable view of a live call (one per Uniqueid)."""

    info: CallInfo
    started_at: datetime
    log: Any
    session: Any = None
    task: asyncio.Task | None = None
    waiters: dict[str, asyncio.Future] = field(default_factory=dict)
    barge: str = ""
    typeahead: str = ""
    busy: int = 0  # AGI commands in flight (keys outside them are type-ahead)
    seq: int = 0
    gone: bool = False  # channel hung up / vanished
    agi_ended: bool = False
    task_done: bool = False
    end_reason: str | None = None
    error: str | None = None
    last_event_t: float | None = None
    commands: int = 0
    queue: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    left_queue_at: datetime | None = None
    transfers: list = field(default_factory=list)  # ivr.drivers.ami.transfers.SeenTransfer
