"""Widget values that last the whole session: the one way every page keeps its settings.

Each kept widget is drawn with ``persist_state="session"`` (Streamlit keeps its value while another page is shown)
and gets its first value here, through session state rather than ``default=``, so that a value restored from a link
or chosen before is never overwritten. A value that is no longer offered (a tokenizer removed, a smaller run) is
replaced by the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import streamlit as st

from tokviz.viewmodels import state_keys

#: Passed to every widget whose value should survive a visit to another page.
PERSIST: Literal["session"] = "session"
#: Session state key a widget callback sets to a page's path to open that page on the next run (callbacks cannot
#: call ``st.switch_page`` themselves).
GOTO = state_keys.GOTO_PAGE
#: Session state key the click listener sets to a page number (from 1) when a band of a page's strip is clicked; the
#: page with the strip opens it on that run.
PICKED_PAGE = state_keys.PICKED_TEXT_PAGE
#: Session state key the click listener sets to its last repair of lone surrogates in a text box (the box's key, how
#: many, the box's length then): the page with that box says so (``tokviz.viewmodels.pasted.repaired_note``).
REPAIRED = state_keys.REPAIRED_PASTE


def keep(key: str, default: object, *, valid: Callable[[object], bool] | None = None) -> None:
    """Give widget ``key`` its first value ``default``, or put it back to ``default`` when ``valid`` rejects it."""
    if key not in st.session_state:
        st.session_state[key] = default
    elif valid is not None and not valid(st.session_state[key]):
        st.session_state[key] = default


def keep_choice(key: str, options: Sequence[object], default: object, *, multi: bool) -> None:
    """:func:`keep` for a pick among ``options``: values no longer offered are dropped (all of them: the default)."""
    if key not in st.session_state:
        st.session_state[key] = default
        return
    current = st.session_state[key]
    if multi:
        kept = [v for v in current if v in options]
        if len(kept) != len(current):
            st.session_state[key] = kept or default
    elif current not in options:
        st.session_state[key] = default
