"""The three floors hold: the library imports neither the view models nor the app's packages, the view models never
import streamlit, and the library imports with nothing but ``regex`` installed. Inside the library the groups hold
their order (a pipeline stage imports only stages below it), no module imports itself back through a circle, no two
library modules share a name, and no private name crosses a module.

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


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file; relative imports resolved against the package."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
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


def _violations(path: Path, source: str | None = None) -> list[str]:
    floor = _floor(path)
    bad = []
    for line, mod in _imports(path, source):
        top = mod.split(".")[0]
        if floor == "library":
            if top in APP_ONLY or mod.startswith(("tokviz.viewmodels", "tokviz.pages")):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (the library may use regex only)")
        elif floor == "viewmodels":
            if top == "streamlit" or mod.startswith("tokviz.pages"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (view models never touch streamlit)")
    return bad


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_arrow_points_up(path):
    assert _violations(path) == []


def test_the_checker_sees_a_violation():
    # The rule itself can fail: a library module that imports streamlit inside a function, and a view model that
    # imports a page, are both reported (probes read from strings: nothing is written into the checkout).
    lib = PACKAGE / "_layer_probe.py"
    vm = PACKAGE / "viewmodels" / "_layer_probe.py"
    assert len(_violations(lib, "def f():\n    import streamlit\n    from tokviz.viewmodels import render\n")) == 2
    assert len(_violations(vm, "from tokviz.pages import state\nimport streamlit as st\n")) == 2


def test_the_three_floors_exist():
    floors = {_floor(p) for p in _modules()}
    assert floors == {"library", "viewmodels", "pages"}
    # Every page of the app is a module of tokviz.pages, the two first views included.
    names = {p.stem for p in (PACKAGE / "pages").glob("*.py")}
    assert {"tokenize", "observations", "sizes", "train", "compare", "app"} <= names


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
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
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")


#: Page modules every page may use; one page never imports another (only the frame, ``pages/app.py``, sees them all).
SHARED_PAGE_MODULES = {"tokviz.pages.registry", "tokviz.pages.runs", "tokviz.pages.state", "tokviz.pages.anatomy_panel",
                       "tokviz.pages.widgets", "tokviz.pages.chat_mode"}
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


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", PAGE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_imports_another(path):
    assert _sideways(path) == []


def test_the_sideways_checker_sees_one(tmp_path, monkeypatch):
    fake = PACKAGE / "pages" / "_probe_sideways.py"
    monkeypatch.setattr(Path, "read_text", lambda self, **k: "from tokviz.pages import sizes\n")
    assert len(_sideways(fake)) == 1 and "tokviz.pages.sizes" in _sideways(fake)[0]


# -- the library's groups -------------------------------------------------------------------------------------------
#: The library's groups from the bottom up: a module imports only modules of its own group or of groups below it.
#: ``tokviz/__init__.py`` (the public API) stands above them all and no library module imports it.
GROUPS = ("core", "normalizers", "pre_tokenizers", "models", "pipelines", "engines", "corpus", "training", "formats",
          "chat", "analysis", "scale", "cli")


def _group(module: str) -> str | None:
    """The library group of a dotted module name (``"api"`` for the package itself), None outside the library."""
    parts = module.split(".")
    if parts[0] != "tokviz":
        return None
    if len(parts) == 1:
        return "api"
    return parts[1] if parts[1] in GROUPS else None


def _group_violations(path: Path, source: str | None = None) -> list[str]:
    me = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    mine = _group(me)
    if mine not in GROUPS:
        return []
    bad = []
    for line, mod in _imports(path, source):
        theirs = _group(mod)
        if theirs == "api" or (theirs in GROUPS and GROUPS.index(theirs) > GROUPS.index(mine)):
            bad.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {mod} ({theirs}), a group above it")
    return bad


def test_every_library_module_is_in_a_group():
    loose = [str(p.relative_to(ROOT)) for p in _modules()
             if _floor(p) == "library" and p.parent == PACKAGE and p.name != "__init__.py"]
    assert loose == [], "put each library module in one of the groups " + ", ".join(GROUPS)
    folders = {p.relative_to(PACKAGE).parts[0] for p in _modules() if _floor(p) == "library" and p.parent != PACKAGE}
    assert folders <= set(GROUPS), folders - set(GROUPS)


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", [p for p in _modules() if _floor(p) == "library"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_groups_import_only_downwards(path):
    assert _group_violations(path) == []


def test_the_group_checker_sees_a_violation():
    # A model that imports a format (inside a method, to dodge a cycle) and a pre-tokenizer that imports the public
    # API are both reported; a pipeline importing a model is not.
    model = PACKAGE / "models" / "_probe.py"
    assert len(_group_violations(model, "def save(self):\n    from tokviz.formats.dispatch import save\n")) == 1
    assert len(_group_violations(PACKAGE / "pre_tokenizers" / "_probe.py", "import tokviz\n")) == 1
    assert _group_violations(PACKAGE / "pipelines" / "_probe.py", "from tokviz.models.bpe import Tokenizer\n") == []


def _runtime_imports(path: Path, source: str | None = None) -> set[str]:
    """The tokviz modules a module imports when it runs (at any depth), leaving out ``if TYPE_CHECKING:`` blocks."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    known = {_dotted(p) for p in _modules()}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("tokviz"):
            mod = node.module or ""
            named = {f"{mod}.{a.name}" for a in node.names} & known
            out |= named or ({mod} & known)
    return out


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


@pytest.mark.slow  # 2.1 s measured: the full run has it, the quick loop does not
def test_no_import_circle_anywhere():
    # The package's __init__ files re-export names, so a package imports its modules; a module importing its own
    # package back would be a circle too. Every module of every floor is in the graph.
    graph = {_dotted(p): _runtime_imports(p) - {_dotted(p)} for p in _modules()}
    assert _circles(graph) == []


def test_the_circle_finder_sees_one():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_two_library_modules_share_a_name():
    names: dict[str, list[str]] = {}
    for p in _modules():
        if _floor(p) == "library" and p.name != "__init__.py":
            names.setdefault(p.stem, []).append(str(p.relative_to(ROOT)))
    assert {k: v for k, v in names.items() if len(v) > 1} == {}


def _private_imports(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    return [f"{path.relative_to(ROOT)}:{n.lineno} imports {n.module}.{a.name}"
            for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("tokviz")
            for a in n.names if a.name.startswith("_")]


@pytest.mark.slow  # 1.1 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_crosses_a_module(path):
    assert _private_imports(path) == []


def test_the_private_checker_sees_one():
    probe = "from tokviz.formats.file_checks import _read_text, load\n"
    assert len(_private_imports(PACKAGE / "_probe.py", probe)) == 1


def _conftest_imports(path: Path, source: str | None = None) -> list[int]:
    return [line for line, mod in _imports(path, source) if mod.split(".")[0] == "conftest"]


def test_no_test_imports_a_conftest():
    # With a conftest.py in more than one folder, ``from conftest import x`` reads whichever pytest loaded last
    # (CI once found tests/scale/conftest.py there); shared test code lives in helpers.py.
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "tests").rglob("*.py")) for n in _conftest_imports(p)]
    assert hits == []


def test_the_conftest_checker_sees_one():
    probe = ROOT / "tests" / "_probe.py"
    assert _conftest_imports(probe, "def f():\n    from conftest import IN_CI\n") == [2]
