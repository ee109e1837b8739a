"""The pure domain libraries import no Django (they are tested and benchmarked alone)."""

from __future__ import annotations

import ast
from pathlib import Path

import crecer.lib

LIB = Path(crecer.lib.__file__).parent


def test_lib_never_imports_django():
    offenders = []
    for path in LIB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(LIB)}: {n}" for n in names if n.split(".")[0] in {"django", "ninja"}]
    assert offenders == []
