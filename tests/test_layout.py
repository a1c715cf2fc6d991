"""The tree tells a newcomer where things live (ARCHITECTURE "Layout" and rule 3).

Every import inside ``ivr`` is read from the source — module level, inside functions and under
``TYPE_CHECKING`` alike — and the module graph must have no circle; packages follow the arrows
drivers → call → voice/dialplan/citizens → store; ``queue_engine`` never imports ``ivr``.
"""
from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ivr", "queue_engine")
# which ivr packages each one may import (besides itself); cli/logs sit on top
ALLOWED = {
    "service": {"drivers", "web", "call", "voice", "dialplan", "citizens", "store", "logs",
                "records"},  # the running process wires every part together
    "drivers": {"call", "voice", "dialplan", "citizens", "store", "logs", "records"},
    "web": {"call", "voice", "dialplan", "citizens", "store", "logs", "drivers", "records"},
    "call": {"voice", "dialplan", "citizens", "store", "logs", "records"},
    "records": {"dialplan", "citizens", "store", "logs"},
    "voice": {"dialplan", "logs"},
    "dialplan": {"logs"},
    "citizens": {"store", "logs", "dialplan"},
    "store": {"logs"},
    "logs": {"citizens"},  # the masking processor reuses the citizens' number formats
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / package).rglob("*.py")
            if "migrations" not in p.parts}


def imports(path: Path, name: str, known: set[str] | dict[str, Path]) -> set[str]:
    """Modules ``name`` imports; ``from pkg import submodule`` depends on the submodule only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names}
            found.update(subs)
            if not subs <= set(known):
                found.add(base)
    return found


def graph() -> dict[str, set[str]]:
    known = {**modules("ivr"), **modules("queue_engine")}
    return {name: {i for i in imports(path, name, known) if i in known and i != name}
            for name, path in known.items()}


def test_no_import_circle_inside_ivr_or_queue_engine():
    g = graph()
    # a package imports its own submodules only for re-export; a circle through __init__ is
    # still a circle, so nothing is dropped here
    try:
        tuple(TopologicalSorter(g).static_order())
    except CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")


def test_queue_engine_never_imports_ivr():
    bad = {(m, i) for m, deps in graph().items() if m.startswith("queue_engine")
           for i in deps if i.startswith("ivr")}
    assert not bad


def test_ivr_packages_follow_the_arrows():
    wrong = []
    for mod, deps in graph().items():
        parts = mod.split(".")
        if parts[0] != "ivr" or len(parts) < 2 or parts[1] == "cli":
            continue
        here = parts[1]
        for dep in deps:
            dparts = dep.split(".")
            if dparts[0] != "ivr" or len(dparts) < 2 or dparts[1] == here:
                continue
            if dparts[1] not in ALLOWED.get(here, set()):
                wrong.append(f"{mod} imports {dep}")
    assert not wrong, "\n".join(wrong)


def test_ivr_top_level_holds_only_packages_cli_and_logs():
    top = {p.name for p in (ROOT / "ivr").iterdir() if not p.name.startswith((".", "__pycache__"))}
    files = {n for n in top if n.endswith(".py")}
    assert files == {"__init__.py", "cli.py", "logs.py"}
    for name in top - files:
        assert (ROOT / "ivr" / name / "__init__.py").exists(), f"ivr/{name} is not a package"


def test_every_package_docstring_names_its_modules():
    """The package docstrings are the map: each module of a package is named in it."""
    missing = []
    for init in (ROOT / "ivr").rglob("__init__.py"):
        if "migrations" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        for mod in init.parent.glob("*.py"):
            if mod.name != "__init__.py" and not re.search(rf"\b{mod.stem}\b", doc) and (
                    init.parent.name != "ivr"):
                missing.append(f"{init.parent.name}/{mod.name}")
    assert not missing, f"not named in their package docstring: {missing}"
