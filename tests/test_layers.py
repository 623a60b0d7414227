"""The three floors hold: the library imports neither the view models nor the app's packages, the view models never
import streamlit, and the library imports with nothing but ``regex`` installed.

Imports are read from the source with ``ast`` (every ``import``, at any depth, including ones inside functions), so
an arrow that points up is caught even where it would only run late.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGE = ROOT / "tokviz"
APP_ONLY = ("streamlit", "plotly", "pandas")


def _floor(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if parts[0] == "viewmodels":
        return "viewmodels"
    if parts[0] == "pages":
        return "pages"
    return "library"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file; relative imports resolved against the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            out.append((node.lineno, base))
            # ``from tokviz import viewmodels`` names a sub-package in the import list.
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if base == "tokviz"]
    return out


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _violations(path: Path) -> list[str]:
    floor = _floor(path)
    bad = []
    for line, mod in _imports(path):
        top = mod.split(".")[0]
        if floor == "library":
            if top in APP_ONLY or mod.startswith(("tokviz.viewmodels", "tokviz.pages")):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (the library may use regex only)")
        elif floor == "viewmodels":
            if top == "streamlit" or mod.startswith("tokviz.pages"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (view models never touch streamlit)")
    return bad


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_arrow_points_up(path):
    assert _violations(path) == []


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    # The rule itself can fail: a library module that imports streamlit inside a function, and a view model that
    # imports a page, are both reported.
    lib = PACKAGE / "_layer_probe_tmp.py"
    vm = PACKAGE / "viewmodels" / "_layer_probe_tmp.py"
    try:
        lib.write_text("def f():\n    import streamlit\n    from tokviz.viewmodels import render\n", encoding="utf-8")
        vm.write_text("from tokviz.pages import state\nimport streamlit as st\n", encoding="utf-8")
        assert len(_violations(lib)) == 2 and len(_violations(vm)) == 2
    finally:
        lib.unlink(missing_ok=True)
        vm.unlink(missing_ok=True)


def test_the_three_floors_exist():
    floors = {_floor(p) for p in _modules()}
    assert floors == {"library", "viewmodels", "pages"}
    # Every page of the app is a module of tokviz.pages, the two first views included.
    names = {p.stem for p in (PACKAGE / "pages").glob("*.py")}
    assert {"tokenize", "observations", "sizes", "train", "compare", "app"} <= names


def test_library_imports_without_the_app_packages(tmp_path):
    # A fresh interpreter where streamlit, plotly and pandas cannot be imported: the whole library must still load.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {APP_ONLY!r}:\n"
        "            raise ImportError(f'{name} is blocked in this test')\n"
        "sys.meta_path.insert(0, _Block())\n",
        encoding="utf-8",
    )
    library = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in _modules() if _floor(p) == "library"]
    library = [m.removesuffix(".__init__") for m in library]
    code = f"import importlib\nfor m in {library!r}:\n    importlib.import_module(m)\nprint('ok')\n"
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")


#: Page modules every page may use; one page never imports another (only the frame, ``pages/app.py``, sees them all).
SHARED_PAGE_MODULES = {"tokviz.pages.registry", "tokviz.pages.runs", "tokviz.pages.state", "tokviz.pages.anatomy_panel",
                       "tokviz.pages.widgets"}
PAGE_MODULES = sorted(p for p in (PACKAGE / "pages").glob("*.py") if p.name not in ("app.py", "__init__.py"))


def _sideways(path: Path) -> list[str]:
    me = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    named = [mod for _, mod in _imports(path)]
    # ``from tokviz.pages import train`` names the module in its list: read those names too.
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "tokviz.pages":
            named += [f"tokviz.pages.{a.name}" for a in node.names]
    return [f"{path.relative_to(ROOT)} imports {mod} (pages share only {sorted(SHARED_PAGE_MODULES)})"
            for mod in named if mod.startswith("tokviz.pages.") and mod not in SHARED_PAGE_MODULES and mod != me]


@pytest.mark.parametrize("path", PAGE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_imports_another(path):
    assert _sideways(path) == []


def test_the_sideways_checker_sees_one(tmp_path, monkeypatch):
    fake = PACKAGE / "pages" / "_probe_sideways.py"
    monkeypatch.setattr(Path, "read_text", lambda self, **k: "from tokviz.pages import sizes\n")
    assert len(_sideways(fake)) == 1 and "tokviz.pages.sizes" in _sideways(fake)[0]
