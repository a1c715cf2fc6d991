"""YAML loading that remembers where every key came from.

Why: a supervisor edits the YAML, so a refusal must point at the file, line and
key to fix.  PyYAML's composed node tree carries marks; we walk it once and keep
``path tuple -> line`` next to the plain data, then translate pydantic's error
locations through that map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["ScenarioError", "line_of", "load_marked", "walk"]

Path_ = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario or centre file is refused; names the file, the line and the key."""

    def __init__(self, file: str | Path, line: int | None, key: str, reason: str) -> None:
        self.file, self.line, self.key, self.reason = str(file), line, key, reason
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key or '<top>'}: {reason}")


Duplicate = tuple[Path_, int, int]  # (key path, its line, line where the key first appeared)


def _scalar(node: yaml.Node) -> Any:
    """The value ``yaml.safe_load`` gives a node: its resolved tag's safe constructor (no
    serialise-and-reparse round trip, which cost ~0.3 s per scenario)."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def _walk(node: yaml.Node, path: Path_, marks: dict[Path_, int], dups: list[Duplicate]) -> Any:
    marks.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            key_path, line = (*path, key), key_node.start_mark.line + 1
            if key in out:  # PyYAML would silently keep the last one
                dups.append((key_path, line, marks[key_path]))
                continue
            marks[key_path] = line
            out[key] = _walk(value_node, key_path, marks, dups)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), marks, dups) for i, v in enumerate(node.value)]
    return _scalar(node)


def walk(node: yaml.Node) -> tuple[Any, dict[Path_, int], list[Duplicate]]:
    """A composed YAML node → (plain data, {key path: line}, duplicate keys found).

    Shared by every YAML file of the hotline (the IVR's dialplan reuses it: queue_engine never
    imports ivr, so the one loader lives here)."""
    marks: dict[Path_, int] = {}
    dups: list[Duplicate] = []
    return _walk(node, (), marks, dups), marks, dups


def load_marked(file: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``file``; return (plain data, {key path: 1-based line})."""
    from queue_engine.yamlsafe import YamlShapeError, compose_safely, read_capped

    file = Path(file)
    try:
        text = read_capped(file)
    except OSError as exc:
        raise ScenarioError(file, None, "", f"cannot read: {exc.strerror}") from exc
    except (YamlShapeError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, None, "", str(exc)) from None
    try:
        node = compose_safely(text)
    except YamlShapeError as exc:
        raise ScenarioError(file, None, "", str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ScenarioError(file, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")
    if node is None:
        raise ScenarioError(file, 1, "", "file is empty")
    data, marks, dups = walk(node)
    if dups:
        key_path, line, first = dups[0]
        raise ScenarioError(file, line, ".".join(map(str, key_path)),
                            f"duplicate key (first on line {first})")
    return data, marks


def line_of(marks: dict[Path_, int], path: Path_) -> int | None:
    """Line of the deepest known prefix of ``path`` (pydantic paths may go past the YAML)."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in marks:
            return marks[path[:cut]]
    return None
