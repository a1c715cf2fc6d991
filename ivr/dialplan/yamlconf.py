"""YAML files validated by pydantic, with errors that name file, line and key.

Supervisors edit ``dialplans/*.yaml`` by hand, so a mistake must point at the exact spot:
``dialplans/numbers.yaml:12: numbers."8 800 555-35-36".line: unknown line 'regionl'``.
PyYAML's node tree keeps a line mark for every key and value; ``queue_engine.yamlmarks.walk``
keeps them beside the plain data (one loader for the IVR and the ACD) and we translate
pydantic's error locations back into lines. Duplicate keys, which PyYAML would silently
collapse, are errors here, all reported at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from queue_engine.yamlmarks import line_of, walk
from queue_engine.yamlsafe import YamlShapeError, compose_safely, read_capped

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class ConfigError(Exception):
    """One or more problems in configuration files; ``str()`` gives one ``file:line: msg`` each."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class YamlDoc:
    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        return line_of(self.lines, tuple(loc)) or 1

    def problem(self, loc: Loc, message: str) -> Problem:
        where = ".".join(_fmt_key(k) for k in loc)
        return Problem(str(self.path), self.line_of(loc), f"{where}: {message}" if where else message)


def _fmt_key(key: Any) -> str:
    text = str(key)
    return f'"{text}"' if any(c in text for c in " .:") else text


def load_yaml(path: str | Path) -> YamlDoc:
    """Parse ``path`` keeping line marks; raise :class:`ConfigError` on syntax errors."""
    path = Path(path)
    doc = YamlDoc(path, None)
    try:  # regular files, size/depth/alias caps, linear (queue_engine.yamlsafe; item 14)
        text = read_capped(path)
        node = compose_safely(text)
    except YamlShapeError as exc:
        raise ConfigError([Problem(str(path), None, str(exc))]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), None, f"not UTF-8: {exc.reason}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(str(path), line, f"YAML syntax: {exc.problem or exc}")]) from None
    if node is None:
        doc.data = {}
        return doc
    doc.data, doc.lines, dups = walk(node)
    if dups:
        raise ConfigError([Problem(str(path), line, f"{'.'.join(map(_fmt_key, key_path))}: "
                                   f"duplicate key (first on line {first})")
                           for key_path, line, first in dups])
    return doc


def validate(doc: YamlDoc, model: type[M], context: dict[str, Any] | None = None) -> M:
    """Validate ``doc.data`` against ``model``; errors become file:line problems."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key"
            value = err.get("input")
            if err["type"] not in ("missing", "extra_forbidden") and isinstance(
                    value, (str, int, float)) and str(value) not in msg:
                msg = f"{msg} (got {value!r})"
            problems.append(doc.problem(loc, msg))
        raise ConfigError(problems) from None
