"""Every ``>>>`` example in the package runs, and shows what it claims.

The modules are found by their source (any ``>>>`` in it), so an example added to a
module that had none runs without an edit here; a module is only imported when it has
examples.
"""

from __future__ import annotations

import doctest
import importlib
import pathlib

import pytest

import st_memwatch

ROOT = pathlib.Path(st_memwatch.__file__).resolve().parent


def _modules_with_examples() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(ROOT.parent).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules_with_examples()


def test_the_examples_are_found():
    # The public API's own examples at least; a finder that finds nothing would pass every test below.
    assert {"st_memwatch", "st_memwatch.core.limits", "st_memwatch.core.type_growth"} <= set(MODULES), MODULES


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has '>>>' in its source but no example doctest can find"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
