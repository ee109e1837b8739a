"""The layout shows the layers: imports between Crecer's packages run one way.

A package (``crecer/<name>/``) may import another, but never the other way too: a two-way dependency
means two layers have grown into one. ``crecer.core`` imports no domain package, ``crecer.lib`` imports
no Django (``tests/lib/test_isolation.py``). Imports inside ``if TYPE_CHECKING:`` are annotations only
(nothing is imported when the program runs) and are not counted.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "crecer"
PACKAGES = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def dependencies() -> dict[tuple[str, str], set[str]]:
    """``{(importer, imported): files}`` between Crecer's packages (migrations left out)."""
    # The walk parses every source file (seconds); the files do not change during a run, so it is done
    # once and each test gets its own copy.
    return {pair: set(files) for pair, files in _walk().items()}


@functools.cache
def _walk() -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if len(relative.parts) < 2 or "migrations" in relative.parts:
            continue
        source = relative.parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        annotations_only = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in annotations_only:
                continue
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
                if node.module == "crecer":
                    modules = [f"crecer.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                parts = module.split(".")
                if len(parts) > 1 and parts[0] == "crecer" and parts[1] in PACKAGES and parts[1] != source:
                    found[(source, parts[1])].add(str(relative))
    return found


def test_no_two_way_dependency_between_packages():
    deps = dependencies()
    two_way = sorted(
        f"{a} <-> {b}: {sorted(deps[(a, b)])} | {sorted(deps[(b, a)])}" for a, b in deps if a < b and (b, a) in deps
    )
    assert two_way == []


def test_the_core_imports_no_domain_package():
    assert {b for (a, b) in dependencies() if a == "core"} == set()


def test_the_import_framework_imports_no_domain_package():
    """Importers live with their domain and register themselves; the framework knows none of them."""
    domain = {"registry", "tracking", "risks", "referrals", "monitoring", "dedup", "interop", "territories"}
    assert {b for (a, b) in dependencies() if a == "imports"} & domain == set()


def test_the_walk_sees_the_packages_and_their_imports():
    deps = dependencies()
    assert {"core", "registry", "tracking", "imports", "api", "web"} <= set(PACKAGES)
    assert ("registry", "audit") in deps and ("api", "registry") in deps


def test_the_import_framework_names_the_existence_answer_as_the_registry_does():
    from crecer.imports import uploads
    from crecer.registry import existence

    assert uploads.ELSEWHERE == existence.ELSEWHERE
