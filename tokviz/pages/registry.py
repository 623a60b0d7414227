"""The tokenizers every page can pick: the built-ins (shared by all sessions) and the session's own.

Pages never build tokenizers themselves: they call :func:`all_tokenizers`, and the Train and Load pages add to
``st.session_state[USER]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from tokviz.protocol import TokenizerLike
from tokviz.viewmodels.defaults import Defaults, build_defaults
from tokviz.viewmodels.menu import TokenizerMenu

#: Session state key of the session's own tokenizers (name -> tokenizer), which win over built-ins on a name clash.
USER = "user_tokenizers"


@st.cache_resource(show_spinner="Preparing the built-in tokenizers (trained once, then cached on disk)…")
def load_defaults() -> Defaults:
    """The built-in tokenizers, shared by all sessions of this process (and cached on disk across restarts)."""
    return build_defaults()


def user_tokenizers() -> dict[str, TokenizerLike]:
    """The session's own tokenizers (trained or loaded), a dict the pages may add to."""
    user: dict[str, TokenizerLike] = st.session_state.setdefault(USER, {})
    return user


def all_tokenizers() -> TokenizerMenu:
    """Every tokenizer a user can pick: the built-ins, then the session's own (the OpenAI encodings are read only
    when a page asks for one)."""
    return load_defaults().tokenizers.with_own(user_tokenizers())


def chosen() -> list[str]:
    """The tokenizers picked in the sidebar, in order."""
    return list(st.session_state.get("chosen", []))


def run_page(view: Callable[[Mapping[str, TokenizerLike], list[str]], None]) -> None:
    """Draw one page's body: what every page module does when Streamlit runs it as a script."""
    view(all_tokenizers(), chosen())
