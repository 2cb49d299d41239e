"""Every benchmark module imports: a refactor of the code under test must not leave
`make bench` to find a broken import an hour into its run."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(bench.__path__, prefix="bench."))


@pytest.mark.parametrize("name", _modules())
def test_the_benchmark_module_imports(name: str) -> None:
    importlib.import_module(name)
