"""The package's layering, checked on its source: dependencies point one way.

Bottom: ``errors``, ``schema`` and ``config`` import no other module of the package except each
other. Top: ``cli`` is imported by nobody (not by a module, a benchmark or a notebook). No
module imports a private name (``_name``) from another module. No module passes ~400 lines.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "recsys_tutorial"
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
BOTTOM = {"errors", "schema", "config"}
MAX_LINES = 420


def _internal_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every import of a package module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.append((node.module.split(".")[0], [a.name for a in node.names]))
            elif node.level == 1:  # from . import x
                found += [(a.name, []) for a in node.names]
            elif node.module and node.module.startswith("recsys_tutorial."):
                found.append((node.module.split(".")[1], [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name.split(".")[1], []) for a in node.names
                      if a.name.startswith("recsys_tutorial.")]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_no_private_names_across_modules(path):
    private = [f"{mod}.{name}" for mod, names in _internal_imports(path) for name in names
               if name.startswith("_") and not name.startswith("__")]
    assert not private, f"{path.name} imports private names of other modules: {private}"


@pytest.mark.parametrize("name", sorted(BOTTOM))
def test_bottom_layer_imports_only_the_bottom_layer(name):
    above = {mod for mod, _ in _internal_imports(PACKAGE / f"{name}.py")} - BOTTOM
    assert not above, f"{name}.py (bottom layer) imports modules above it: {sorted(above)}"


def test_nobody_imports_the_cli():
    users = [p.name for p in MODULES if p.stem != "cli"
             and any(mod == "cli" for mod, _ in _internal_imports(p))]
    users += [p.name for p in (ROOT / "benchmarks").glob("*.py")
              if any(mod == "cli" for mod, _ in _internal_imports(p))]
    for nb in (ROOT / "book").glob("*.ipynb"):
        code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"]
                         if c["cell_type"] == "code")
        if "recsys_tutorial.cli" in code or "from recsys_tutorial import cli" in code:
            users.append(nb.name)
    assert not users, f"the CLI is the top layer; these import it: {users}"


def test_import_scan_sees_a_private_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from .metrics import _scores\nfrom recsys_tutorial.data import x\n")
    assert _internal_imports(probe) == [("metrics", ["_scores"]), ("data", ["x"])]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_stay_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines: split it by pipeline stage"
