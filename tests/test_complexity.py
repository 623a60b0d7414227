"""Code a newcomer can read: no function in the library or the view models above radon's grade D (cyclomatic
complexity 30), and none with more than 8 parameters (options beyond that go in a dataclass or a TypedDict)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

radon_complexity = pytest.importorskip("radon.complexity")

PACKAGE = ROOT / "tokviz"
#: Radon's grade D ends at 30; E and F are the grades this test refuses.
MAX_COMPLEXITY = 30
MAX_PARAMETERS = 8
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "pages" not in p.relative_to(PACKAGE).parts)


def _too_complex(source: str) -> list[str]:
    out = []
    for block in radon_complexity.cc_visit(source):
        if block.complexity > MAX_COMPLEXITY:
            out.append(f"{block.fullname} (line {block.lineno}): complexity {block.complexity}")
        for method in getattr(block, "methods", []):
            if method.complexity > MAX_COMPLEXITY:
                out.append(f"{method.fullname} (line {method.lineno}): complexity {method.complexity}")
    return out


def _too_many_parameters(source: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
            names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
            if names[:1] in (["self"], ["cls"]):
                names = names[1:]
            if len(names) > MAX_PARAMETERS:
                out.append(f"{node.name} (line {node.lineno}): {len(names)} parameters")
    return out


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_above_grade_d(path: Path) -> None:
    assert _too_complex(path.read_text(encoding="utf-8")) == []


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_takes_more_than_eight_parameters(path: Path) -> None:
    assert _too_many_parameters(path.read_text(encoding="utf-8")) == []


def test_the_checks_see_a_violation() -> None:
    branches = "".join(f"    if x == {k}:\n        return {k}\n" for k in range(31))
    assert len(_too_complex(f"def f(x):\n{branches}    return -1\n")) == 1
    assert _too_complex("def f(x):\n    return x\n") == []
    assert len(_too_many_parameters("def f(a, b, c, d, e, f, g, h, *, i):\n    pass\n")) == 1
    assert _too_many_parameters("class A:\n    def f(self, a, b, c, d, e, f, g, h):\n        pass\n") == []
