"""The architecture's one import rule (DESIGN.md): only ``pipeline.run`` reaches into
``classifiers`` and ``redaction``; every other pipeline module stays below them."""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
UPPER = ("classifiers", "redaction")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_recipe_imports_classifiers_and_redaction() -> None:
    offenders = sorted(p.name for p in PIPELINE.glob("*.py")
                       if p.name != "run.py" and _imports(p) & set(UPPER))
    assert offenders == []


def test_the_recipe_does_import_them() -> None:
    assert set(UPPER) <= _imports(PIPELINE / "run.py")
