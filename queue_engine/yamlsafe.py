"""Hostile-proof YAML reading for every configuration file (issue 13 item 14).

Hand-edited files are trusted for content, not for shape: a deeply nested file made PyYAML's
recursive composer raise RecursionError, a "billion laughs" file (aliases of aliases) and a
200k-entry file hung the loaders, and ``/dev/zero`` never ends. Here, in linear time and before
any recursion: only regular files up to :data:`MAX_BYTES`; nesting up to :data:`MAX_DEPTH`
(an event scan, no recursion); at most :data:`MAX_ALIASES` aliases; and the document, with
aliases expanded, at most :data:`MAX_NODES` nodes (counted once per shared node).
"""
from __future__ import annotations

from pathlib import Path

import yaml

MAX_BYTES = 4_000_000
MAX_DEPTH = 64
MAX_ALIASES = 200
MAX_NODES = 500_000
# libyaml's parser when PyYAML was built with it (the wheels are): ~10x faster than the pure-Python
# one, the same events and marks; the shape checks below guard it exactly as they guard the other.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlShapeError(ValueError):
    """The file is too big, too deep or expands too far to be a configuration file."""


def read_capped(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file no larger than ``max_bytes`` (OSError/YamlShapeError/
    UnicodeDecodeError otherwise); never reads more than ``max_bytes + 1`` bytes."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise YamlShapeError(f"not a regular file: {path}")
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise YamlShapeError(f"larger than {max_bytes // 1_000_000} MB: not a configuration file")
    return data.decode("utf-8")


def check_shape(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_ALIASES aliases (event scan)."""
    depth = aliases = 0
    for ev in yaml.parse(text, Loader=LOADER):
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlShapeError(f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(ev, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlShapeError(f"more than {MAX_ALIASES} aliases")


def check_expansion(node: yaml.Node | None, limit: int = MAX_NODES) -> None:
    """Refuse a composed document whose alias-expanded size exceeds ``limit`` nodes."""
    if node is None:
        return
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # being sized: meeting one again is a recursive alias
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        n, children_done = stack.pop()
        if id(n) in sizes:
            continue
        if not children_done:
            if id(n) in open_:
                raise YamlShapeError("a recursive alias (a value that contains itself)")
            open_.add(id(n))
        kids: list[yaml.Node] = []
        if isinstance(n, yaml.MappingNode):
            kids = [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            kids = list(n.value)
        if children_done or not kids:
            total = 1 + sum(sizes.get(id(k), 0) for k in kids)
            if total > limit:
                raise YamlShapeError(f"expands to more than {limit} values (aliases of aliases?)")
            sizes[id(n)] = total
            continue
        stack.append((n, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)


def compose_safely(text: str) -> yaml.Node | None:
    """``yaml.compose`` after the shape checks; the node graph is checked before any walk."""
    check_shape(text)
    node = yaml.compose(text, Loader=LOADER)
    check_expansion(node)
    return node
