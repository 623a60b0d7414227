"""Click a token anywhere, read its anatomy in the sidebar: how it is built, where it is used, and BPE replayed on
the pre-token it sits in.

A small script-only component (``token_click.js``) listens for clicks on every drawn token (the ``.tok`` spans of
:mod:`tokviz.viewmodels.render`, on any page) and hands Python the tokenizer's name, the id and the character the
token starts at. The panel's numbers come from :mod:`tokviz.analysis.anatomy` through
:mod:`tokviz.viewmodels.anatomy_display`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from tokviz.analysis.anatomy import EncodeTrace, TokenAnatomy, anatomy, occurrences, trace, trace_text
from tokviz.core.protocol import TokenizerLike
from tokviz.pages.state import PICKED_PAGE, REPAIRED
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.anatomy_display import (
    candidate_rows,
    card_rows,
    merge_tree_html,
    trace_rows,
    trace_summary,
    used_by_rows,
)
from tokviz.viewmodels.display import code_points, name_invisibles
from tokviz.viewmodels.graphemes import cluster_at
from tokviz.viewmodels.keys import tokenizer_key
from tokviz.viewmodels.markdown import code_span, escape_markdown

#: Session state key of the token being inspected: (tokenizer name, id, first character, page it was clicked on).
INSPECT = state_keys.INSPECT_TOKEN
_click = st.components.v2.component(
    "tokviz_token_click", js=(Path(__file__).with_name("token_click.js")).read_text(encoding="utf-8"))


def listen() -> None:
    """Mount the click listener (drawing nothing); a click on a token opens its anatomy on the next run, a click on a
    band of the strip the page it stands for; a text box's repaired lone surrogates are kept for its page's note."""
    result = _click(key=state_keys.TV_TOKEN_CLICK, on_clicked_change=lambda: None, on_page_change=lambda: None,
                    on_repaired_change=lambda: None)
    st.session_state[REPAIRED] = getattr(result, "repaired", None)  # lone surrogates replaced in a box, if any
    page = getattr(result, "page", None)
    if isinstance(page, int) and page >= 1:  # a band of the bytes-per-token strip: the page draws it
        st.session_state[PICKED_PAGE] = page
    clicked = getattr(result, "clicked", None)
    if isinstance(clicked, Mapping) and isinstance(clicked.get("tokenizer"), str):
        st.session_state[INSPECT] = (clicked["tokenizer"], int(clicked.get("id", -1)), int(clicked.get("char", -1)),
                                     st.session_state.get(state_keys.VIEW, ""))


@st.cache_data(max_entries=64, show_spinner="Reading the token's anatomy…")
def _anatomy(_tok: TokenizerLike, key: str, token_id: int) -> TokenAnatomy:
    return anatomy(_tok, token_id)


@st.cache_data(max_entries=64, show_spinner=False)
def _trace(_tok: TokenizerLike, key: str, text: str, char: int, piece: str) -> EncodeTrace:
    return trace_text(_tok, text, char) if text else trace(_tok, piece)


def _close() -> None:
    st.session_state.pop(INSPECT, None)


def panel(tokenizers: Mapping[str, TokenizerLike]) -> None:
    """The anatomy of the clicked token, at the top of the sidebar (nothing until a token is clicked)."""
    picked = st.session_state.get(INSPECT)
    if not picked:
        return
    name, token_id, char, view = picked
    # The sidebar widens while the panel is open, where the window has room for it: its tables need the room, but in
    # a laptop window a wider sidebar squeezed the page and pushed the clicked token out of view (at 1280 px too).
    st.html("<style>@media (min-width:1360px){section[data-testid='stSidebar']{width:420px !important;"
            "min-width:420px !important}}</style>")
    with st.sidebar.container(border=True):
        top, close = st.columns([4, 1], vertical_alignment="center")
        top.markdown(f"**Token {token_id:,}** of {code_span(name)}")
        close.button("", icon=":material/close:", key=state_keys.INSPECT_CLOSE, on_click=_close,
                     help="Close the token's anatomy.")
        if name not in tokenizers:
            st.info("That tokenizer is no longer in the list.")
            return
        tok = tokenizers[name]
        key = tokenizer_key(name, tok)
        try:
            a = _anatomy(tok, key, token_id)
        except ValueError as e:  # a baseline, WordPiece, Unigram: no merges to show
            st.info(escape_markdown(str(e)), icon="ℹ️")
            return
        text = st.session_state.get(state_keys.TEXT, "") if view == "tokenize" and char >= 0 else ""
        count = occurrences(tok, token_id, text) if text else None
        cluster = cluster_at(text, char) if text else ""
        if cluster and not cluster.isascii() and (a.text is None or cluster not in a.text):
            # The token is a part of what a reader sees as one character (👩‍💻, 🇯🇵, a byte of é): name it.
            st.caption(f"Part of the character {escape_markdown(name_invisibles(cluster))} a reader sees: "
                       f"{code_points(cluster)}")
        st.dataframe([{"": k, "value": v} for k, v in card_rows(a, occurrences=count)], hide_index=True,
                     column_config={"": st.column_config.TextColumn(width="small")})
        with st.expander("Merge tree, down to single bytes", expanded=True):
            st.html(merge_tree_html(a))
        if a.used_by:
            with st.expander(f"Part of {len(a.used_by):,} longer tokens"):
                st.dataframe(used_by_rows(a, getattr(tok, "vocab", {})), hide_index=True)
        piece = a.text if a.text is not None else ""
        if not text and not piece:
            return
        t = _trace(tok, key, text, char, piece)
        with st.expander("BPE on its pre-token, step by step", expanded=True):
            st.caption(escape_markdown(trace_summary(t)))
            rows = trace_rows(t, getattr(tok, "vocab", {}))
            if rows:
                st.dataframe(rows, hide_index=True)
                step = st.number_input("Candidates at step", 1, len(rows), 1, key=state_keys.INSPECT_STEP,
                                       help="Every adjacent pair at that step with its rank; the lowest rank wins, "
                                            "the leftmost on a tie.")
                st.dataframe(candidate_rows(t.steps[int(step) - 1]), hide_index=True)
