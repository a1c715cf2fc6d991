"""Hostile invocations of ``hotline`` (issue 13 item 14): careless operators and attackers.

Each case is an argv (``{d}`` = a scratch directory holding the broken dialplans below). The
suite counts tracebacks, hangs and wrong exits; every case must end with a message.
"""
from __future__ import annotations

import shutil
from pathlib import Path

BIG = "9" * 100_000

CASES: list[list[str]] = [
    # dialplans: broken, missing, hostile YAML
    ["dialplan", "--dir", "{d}/missing_menus", "check"],
    ["dialplan", "--dir", "{d}/missing_prompts", "check"],
    ["dialplan", "--dir", "{d}/unknown_prompt", "check"],
    ["dialplan", "--dir", "{d}/deep", "check"],
    ["dialplan", "--dir", "{d}/laughs", "check"],
    ["dialplan", "--dir", "{d}/huge_numbers", "check"],
    ["dialplan", "--dir", "{d}/not_there", "check"],
    ["dialplan", "--dir", "/dev/null", "check"],
    ["call", "--dialplans", "{d}/deep", "88005553535"],
    ["call", "--dialplans", "{d}/laughs", "88005553535"],
    ["call", "--dialplans", "{d}/missing_menus", "88005553535"],
    ["dialplan", "route", "88005553535", "--at", "9999-12-31T23:59:59"],
    ["dialplan", "route", "88005553535", "--at", "0001-01-01T00:00:00"],
    ["dialplan", "route", "88005553535", "--at", "not-a-date"],
    ["dialplan", "route", BIG],
    ["dialplan", "route", "\udcff\udcfe"],
    ["dialplan", "--dir", "{d}/deep", "show"],
    # queue engine arguments
    ["erlang", "--rate", "99999999999999/s", "--aht", "300", "--agents", "10"],
    ["erlang", "--rate", "10/h", "--aht", "inf", "--agents", "10"],
    ["erlang", "--rate", "10/h", "--aht", "nan", "--agents", "10"],
    ["erlang", "--rate", "10/h", "--aht", "300", "--agents", "10", "--patience", "0"],
    ["erlang", "--rate", "10/h", "--aht", "300", "--agents", "10", "--patience", "-600"],
    ["erlang", "--rate", "10/h", "--aht", "300", "--agents", "10", "--patience", "nan"],
    ["erlang", "--rate", "10/h", "--aht", "300", "--agents", "10", "--threshold", "-20"],
    ["erlang", "--rate", "-5/h", "--aht", "300", "--agents", "10"],
    ["erlang", "--rate", "10/h", "--aht", "300", "--agents", "-3"],
    ["staff", "--target", "ab=150%"],
    ["staff", "--target", "sl=80%/20s", "--target", "ab=-5%"],
    ["forecast", "--scenario", "/dev/zero"],
    ["forecast", "--scenario", "{d}/not_there.yaml"],
    ["forecast", "--plot", "/proc/forbidden.png"],
    ["simulate", "--scenario", "/dev/zero"],
    # calls and registry
    ["call", "88005553535", "--caller", BIG, "--keys", "+nan"],
    ["call", "88005553535", "--keys", "+nan"],
    ["call", "999999", "--keys", "1"],
    ["call", BIG],
    ["registry", "find", "--snils", BIG],
    ["sms", "outbox", "--limit", "-1"],
    ["db", "upgrade", "--help"],
    ["serve", "--asterisk", "ami://u:p@[::1"],
    ["serve", "--asterisk", "http://u:Sup3rS3cret@h:1"],
    ["import", "cdr", "/dev/zero"],
    ["nonexistent-command"],
    ["--log-format", "xml", "dialplan", "check"],
]


def make_dialplans(base: Path) -> None:
    """Broken copies of dialplans/ under ``base`` (see ``CASES``)."""
    src = Path("dialplans")
    for name in ("missing_menus", "missing_prompts", "unknown_prompt", "deep", "laughs",
                 "huge_numbers"):
        shutil.copytree(src, base / name)
    (base / "missing_menus" / "menus.yaml").unlink()
    (base / "missing_prompts" / "prompts.yaml").unlink()
    menus = (base / "unknown_prompt" / "menus.yaml").read_text(encoding="utf-8")
    (base / "unknown_prompt" / "menus.yaml").write_text(
        menus.replace("welcome_main", "welcome_nonexistent", 1), encoding="utf-8")
    (base / "deep" / "numbers.yaml").write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        laughs.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    (base / "laughs" / "numbers.yaml").write_text("\n".join(laughs) + "\n")
    lines = ["numbers:"] + [f'  "8800{i:07d}": {{line: main}}' for i in range(200_000)]
    (base / "huge_numbers" / "numbers.yaml").write_text("\n".join(lines) + "\n")
