"""Page state keys are named in one place (:mod:`tokviz.viewmodels.state_keys`): no page writes a session-state key
or a widget key as a string literal, the names are distinct, and every setting a link carries is one of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

from tokviz.viewmodels import state_keys
from tokviz.viewmodels.share import SETTING_PREFIXES, SETTINGS

PAGES = sorted((ROOT / "tokviz" / "pages").glob("*.py"))
#: Calls whose first argument is a session-state key.
_KEY_CALLS = {"get", "pop", "setdefault", "keep", "keep_choice"}


def _is_literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _session_state(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "session_state"


def literal_keys(source: str) -> list[str]:
    """Where ``source`` writes a key as a literal: ``session_state["k"]``, ``session_state.get("k")`` (and pop,
    setdefault), ``"k" in session_state``, ``key="k"``, ``keep("k", ...)``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _session_state(node.value) and _is_literal(node.slice):
            out.append(f"line {node.lineno}: session_state[{ast.unparse(node.slice)}]")
        elif isinstance(node, ast.Compare) and any(_session_state(c) for c in node.comparators) and _is_literal(
                node.left):
            out.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            on_state = isinstance(f, ast.Attribute) and _session_state(f.value)
            if name in _KEY_CALLS and (on_state or name.startswith("keep")) and node.args and _is_literal(
                    node.args[0]):
                out.append(f"line {node.lineno}: {name}({ast.unparse(node.args[0])}, ...)")
            out += [f"line {node.lineno}: key={ast.unparse(k.value)}" for k in node.keywords
                    if k.arg == "key" and _is_literal(k.value)]
    return out


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_page_writes_a_key_as_a_literal(path: Path) -> None:
    assert literal_keys(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_each_kind_of_literal_key() -> None:
    source = '''
st.session_state["a"] = 1
st.session_state.get("b")
st.session_state.pop("c", None)
if "d" in st.session_state:
    pass
st.toggle("T", key="e")
keep("f", 1)
st.session_state[state_keys.TEXT] = st.session_state.get(state_keys.TEXT, "")
st.toggle("T", key=f"{state_keys.TRAIN_TAB_PREFIX}{run_id}")
'''
    assert len(literal_keys(source)) == 6


def test_names_are_distinct_and_every_link_setting_is_named() -> None:
    values = [v for k, v in vars(state_keys).items() if k.isupper()]
    assert len(values) == len(set(values)) > 50
    assert set(SETTINGS) <= set(values) and set(SETTING_PREFIXES) <= set(values)
