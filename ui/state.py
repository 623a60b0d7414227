"""Keeping a view's widget values while another view is shown.

Streamlit drops a widget's value on any run that does not draw the widget, so a view's settings would reset each
time the user looks at another view. Each value is copied to a shadow key (``_`` + key, plain session state, which is
kept) at the end of the view's run, and put back before its widgets are drawn again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st


def restore(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> None:
    """Give widget ``key`` its last remembered value (or ``default``) when it has none, or one ``valid`` rejects."""
    ok = valid or (lambda _v: True)
    if key not in st.session_state or not ok(st.session_state[key]):
        last = st.session_state.get(f"_{key}")
        st.session_state[key] = last if last is not None and ok(last) else default


def remember(keys: Iterable[str]) -> None:
    """Copy the widgets' current values to their shadow keys; call at the end of the view's run."""
    for key in keys:
        if key in st.session_state:
            st.session_state[f"_{key}"] = st.session_state[key]
