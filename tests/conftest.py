"""Session fixtures: a small generated corpus (with truth files), built once per test session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CORPUS_SEED = 7
CORPUS_SIZE = 60          # a covering subset of the first PLAN_SPAN plan items
PLAN_SPAN = 300


@dataclass(frozen=True)
class Corpus:
    root: Path
    seed: int
    truths: dict[str, dict[str, Any]]     # file name → truth

    def path(self, name: str) -> Path:
        return self.root / name


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """~60 documents covering every doc type, capture, mask style and container."""
    from fixtures.generate import generate
    from fixtures.plan import covering_subset, plan

    root = tmp_path_factory.mktemp("corpus")
    items = covering_subset(plan(CORPUS_SEED, PLAN_SPAN), CORPUS_SIZE)
    workers = min(2, os.cpu_count() or 1)
    generate(CORPUS_SEED, 0, root, items=items, workers=workers, quiet=True)
    truths = {}
    for t in sorted(root.glob("*.truth.json")):
        doc = json.loads(t.read_text(encoding="utf-8"))
        truths[doc["file"]] = doc
    return Corpus(root, CORPUS_SEED, truths)
