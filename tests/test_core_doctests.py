"""The runnable examples in the pure building blocks' docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "pipeline.checkdigit",
    "pipeline.jpdates",
    "pipeline.names",
    "pipeline.messages",
    "pipeline.errors",
    "pipeline.policy",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
