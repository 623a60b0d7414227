"""The Tokenize page's Chat mode: a conversation (system, user, assistant and tool messages, added and removed)
rendered by each chosen tokenizer's own chat template, drawn with every special token as its own chip, with the
tokens per message, the template's overhead and the total.

Only widgets and layout live here; what is shown comes from :mod:`tokviz.viewmodels.chat_display`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import streamlit as st

from tokviz.core.protocol import TokenizerLike
from tokviz.pages.state import PERSIST, keep
from tokviz.pages.widgets import metric_row
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.chat_display import (
    DEFAULT_MESSAGES,
    LINK_KEY,
    MAX_MESSAGES,
    ROLES,
    chat_result,
    error_html,
    message_rows,
    messages_from_link,
    messages_to_link,
    summary_metrics,
)
from tokviz.viewmodels.render import RenderOptions, render_tokens

_KEY = state_keys.CHAT_MESSAGES


def _messages() -> list[dict[str, str]]:
    """The conversation kept for the session: each message has an id that names its widgets. A session starts
    from the conversation its link carries, else from the default one."""
    if _KEY not in st.session_state:
        linked = messages_from_link(st.session_state.get(LINK_KEY))
        start = DEFAULT_MESSAGES if linked is None else linked
        st.session_state[_KEY] = [dict(m, id=uuid.uuid4().hex[:8]) for m in start]
    msgs: list[dict[str, str]] = st.session_state[_KEY]
    return msgs


def _add(role: str) -> None:
    msgs = _messages()
    if len(msgs) < MAX_MESSAGES:
        msgs.append({"role": role, "content": "", "id": uuid.uuid4().hex[:8]})


def _remove(mid: str) -> None:
    st.session_state[_KEY] = [m for m in _messages() if m["id"] != mid]


def _editor() -> list[dict[str, str]]:
    """The message editor; returns the conversation as it stands."""
    msgs = _messages()
    for k, m in enumerate(msgs):
        mid = m["id"]
        with st.container(horizontal=True, vertical_alignment="top", gap="small"):
            role = st.selectbox(f"Role of message {k + 1}", ROLES, index=ROLES.index(m["role"])
                                if m["role"] in ROLES else 1, key=f"{state_keys.CHAT_ROLE_PREFIX}{mid}",
                                label_visibility="collapsed", width=130)
            content = st.text_area(f"Message {k + 1}", value=m["content"], key=f"{state_keys.CHAT_TEXT_PREFIX}{mid}",
                                   height=68, label_visibility="collapsed", placeholder=f"{role} message…")
            st.button("✕", key=f"{state_keys.CHAT_DEL_PREFIX}{mid}", on_click=_remove, args=(mid,),
                      help="Remove this message", width="content")
        m["role"], m["content"] = role, content
    st.session_state[LINK_KEY] = messages_to_link(msgs)  # the link carries the conversation (app.sync_url)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        for role in ROLES:
            st.button(f"+ {role}", key=f"{state_keys.CHAT_ADD_PREFIX}{role}", on_click=_add, args=(role,),
                      disabled=len(msgs) >= MAX_MESSAGES, help=f"Add a {role} message at the end")
    return [{"role": m["role"], "content": m["content"]} for m in msgs]


def chat_view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """The Chat mode: the editor, then each chosen tokenizer's rendering of the conversation."""
    st.caption("Each tokenizer renders the conversation with its model's own chat template (from the model's "
               "tokenizer_config.json) or, for OpenAI's encodings, ChatML (cl100k) and harmony (o200k, gpt-oss). "
               "Special tokens are the framed chips.")
    messages = _editor()
    keep(state_keys.CHAT_GEN, True)
    add_gen = st.toggle("Add generation prompt", key=state_keys.CHAT_GEN, persist_state=PERSIST,
                        help="End with the header that asks the model for the next assistant message.")
    if not messages:
        st.info("Add a message to see the conversation's tokens.", icon="💬")
        return
    if not chosen:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return
    options = RenderOptions(show_whitespace=True)
    for row in range(0, len(chosen), 2):
        names = chosen[row:row + 2]
        for col, name in zip(st.columns(len(names), gap="medium"), names):
            result = chat_result(name, tokenizers[name], messages, add_generation_prompt=bool(add_gen))
            with col:
                st.markdown(f"**{_md_escape(name)}**")
                if result.note:
                    st.caption(f"Rendered as {_md_escape(result.note)}.")
                if result.breakdown is None:
                    st.html(error_html(result.error or "no rendering"))
                    continue
                b = result.breakdown
                metric_row(summary_metrics(result))
                st.html(render_tokens(b.encoding, b.text, tokenizer=name, options=options,
                                      unknown_id=getattr(result.tokenizer, "unk_id", None)))
                import pandas as pd  # imported on first use, as on the text mode's table

                st.dataframe(pd.DataFrame(message_rows(result, messages)), hide_index=True,
                             column_config=_MESSAGE_COLUMNS, width="stretch")
                if not b.spans:
                    st.caption("This template does not write each message after the ones before it, so only the "
                               "totals are known.")


#: The per-message table's columns, narrow enough for half the page at 1024-1280 px (the default widths cut the
#: last two columns there); the full names are each header's help.
_MESSAGE_COLUMNS = {
    "#": st.column_config.TextColumn("#", width=26),
    "role": st.column_config.TextColumn("role", width=70),
    "message": st.column_config.TextColumn("message", width=140),
    "tokens in chat": st.column_config.NumberColumn(
        "in chat", width=58, help="Tokens this message brought to the rendered conversation"),
    "content alone": st.column_config.NumberColumn("alone", width=50, help="Its content's tokens, encoded alone"),
    "template adds": st.column_config.NumberColumn("added", width=54, help="What the template added around it"),
}


def _md_escape(text: str) -> str:
    """A name a user chose (a file, a Hub id) as Markdown text, not markup."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~" else c for c in text)
