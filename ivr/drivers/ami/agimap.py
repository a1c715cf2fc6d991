"""The one place where IVR commands (``ivr.call.protocol``) become AsyncAGI commands.

Kept apart from the bridge so that a change in the IVR protocol or in the dialplan touches one
small table. Mapping (each AGI line is sent with ``Action: AGI`` and answered by
``AsyncAGIExec``):

=============================  ==============================================================
``Play(prompts, barge_in)``    ``STREAM FILE <abs path> "<escape>"`` per prompt; with
                               ``barge_in`` every key escapes and the key (``result=<ASCII>``)
                               is kept for the next ``Collect``; ``result=-1`` = prompt missing,
                               logged and skipped (the call goes on).
``Collect(prompts, max, t)``   ``STREAM FILE`` for all prompts but the last (any key
                               escapes), then ``GET DATA <last> <t ms> <max - keys so far>``;
                               ``(timeout)`` with no key → ``NoInput``.
``SetVar(name, value)``        ``SET VARIABLE name "value"``
``Enqueue(skill, priority)``   mode ``break`` (default; what ``hotline dialplan export
                               asterisk`` generates): ``SET VARIABLE HOTLINE_QUEUE
                               hotline-<skill>``, ``HOTLINE_PRIORITY``,
                               ``HOTLINE_QUEUE_TIMEOUT``, then ``ASYNCAGI BREAK`` — the
                               ``[hotline-ivr]`` context continues into ``Queue()``.
                               Mode ``exec``: ``SET VARIABLE QUEUE_PRIO`` and
                               ``QUEUE_MAX_PENALTY 0`` (overflow rules), then ``EXEC Queue
                               hotline-<skill>,,,,<timeout>`` (the bridge keeps the call).
``Hangup(reason)``             ``SET VARIABLE HOTLINE_HANGUP reason`` then ``HANGUP``
=============================  ==============================================================

Prompt ids name ``recordings/<lang>/<id>.wav``; STREAM FILE wants the absolute path without the
extension (checked on Asterisk 22, see tests/data/asterisk/README.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr.dialplan.asterisk import QUEUE_PREFIX  # one source of truth for queue names
from ivr.drivers.ami.codec import quote_agi_arg

ALL_KEYS = "0123456789*#"


@dataclass(frozen=True)
class AgiConfig:
    recordings: Path = field(default_factory=lambda: Path("recordings").resolve())
    silence_prompt: str = "silence/1"  # GET DATA needs a file; Asterisk ships this one
    enqueue_mode: str = "break"  # "break" (exported dialplan) | "exec"
    queue_prefix: str = QUEUE_PREFIX
    queue_timeout_s: int = 0  # 0 = the queue's own timeout
    barge_keys: str = ALL_KEYS


def prompt_path(cfg: AgiConfig, lang: str, prompt: str) -> str:
    """``recordings/<lang>/<id>`` as an absolute path without extension."""
    if prompt.startswith("/"):
        return prompt
    return str(cfg.recordings / lang / prompt)


def stream_file(cfg: AgiConfig, lang: str, prompt: str, escape: str) -> str:
    return f"STREAM FILE {prompt_path(cfg, lang, prompt)} {quote_agi_arg(escape)}"


def get_data(cfg: AgiConfig, lang: str, prompt: str | None, timeout_s: float,
             max_digits: int) -> str:
    path = prompt_path(cfg, lang, prompt) if prompt else cfg.silence_prompt
    return f"GET DATA {path} {max(1, int(timeout_s * 1000))} {max(1, max_digits)}"


def set_variable(name: str, value: str) -> str:
    return f"SET VARIABLE {name} {quote_agi_arg(value)}"


def queue_of(cfg: AgiConfig, skill: str) -> str:
    return f"{cfg.queue_prefix}{skill}"


def enqueue(cfg: AgiConfig, skill: str, priority: int) -> list[str]:
    queue = queue_of(cfg, skill)
    timeout = str(cfg.queue_timeout_s) if cfg.queue_timeout_s else ""
    if cfg.enqueue_mode == "break":
        return [set_variable("HOTLINE_QUEUE", queue),
                set_variable("HOTLINE_PRIORITY", str(priority)),
                set_variable("HOTLINE_QUEUE_TIMEOUT", timeout), "ASYNCAGI BREAK"]
    # QUEUE_MAX_PENALTY=0 as [hotline-ivr] sets it: the queue rules open overflow teams later
    return [set_variable("QUEUE_PRIO", str(priority)), set_variable("QUEUE_MAX_PENALTY", "0"),
            f"EXEC Queue {queue},,,,{timeout}"]


def hangup(reason: str) -> list[str]:
    return [set_variable("HOTLINE_HANGUP", reason), "HANGUP"]
