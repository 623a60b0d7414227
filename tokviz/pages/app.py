"""The app's frame: page config, the navigation between pages (each with its own URL path), and the sidebar.

``streamlit run app.py`` (the file at the repository root) and ``tokviz app`` both run :func:`main`. Each page is
one module of :mod:`tokviz.pages` with a ``view(tokenizers, chosen)`` function (see :class:`PageSpec`); the frame
builds the tokenizer list, restores the view from the link once per session, draws the sidebar, runs the page, and
writes the link back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st


@dataclass(frozen=True)
class PageSpec:
    """One page: its URL path (also its key in old ``?view=`` links), sidebar title, icon and module file.

    Each page is a module of this package that Streamlit runs as a script (``__name__ == "__main__"``, where it calls
    :func:`tokviz.pages.registry.run_page` with its ``view``); imported as a module it draws nothing.
    """

    path: str
    title: str
    icon: str
    module: str

    @property
    def file(self) -> Path:
        return Path(__file__).with_name(f"{self.module}.py")


PAGES: tuple[PageSpec, ...] = (
    PageSpec("tokenize", "Tokenize", ":material/text_fields:", "tokenize"),
    PageSpec("observations", "Observations", ":material/lightbulb:", "observations"),
    PageSpec("sizes", "Vocab sizes", ":material/bar_chart:", "sizes"),
    PageSpec("train", "Train", ":material/model_training:", "train"),
    PageSpec("compare", "Load & diff", ":material/compare_arrows:", "compare"),
    PageSpec("inspect", "Inspect", ":material/biotech:", "inspect"),
)


def init_state(names: list[str]) -> None:
    """Fill the widgets' state from the URL once per session, so a shared link reproduces the view."""
    from tokviz.pages.registry import all_tokenizers, restore_own
    from tokviz.viewmodels.defaults import default_selection
    from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES
    from tokviz.viewmodels.share import read_state, settings_from_params

    if st.session_state.get("_from_url"):
        # Tokenizers can disappear from the session registry: keep the choice to those that still exist.
        st.session_state["chosen"] = [n for n in st.session_state.get("chosen", []) if n in names]
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    first = read_state(params, tokenizers=names, default_tokenizers=default_selection(names))
    missing = restore_own(first.own)  # the session's own tokenizers, from the store: now their names exist
    if missing:
        st.session_state["_missing_own"] = len(missing)
    names = list(all_tokenizers())
    state = read_state(params, tokenizers=names, default_tokenizers=default_selection(names))
    st.session_state["chosen"] = list(state.tokenizers)
    st.session_state["text"] = state.text if state.text is not None else SAMPLES[DEFAULT_SAMPLE].text
    # Every other setting the link carries; each page checks its own values when it draws (a value it does not
    # offer falls back to its default).
    st.session_state.update(settings_from_params(params))
    st.session_state["_from_url"] = True


def sync_url() -> None:
    """Write the current text and tokenizers to the URL (only when they changed); the path names the page."""
    from tokviz.pages.registry import own_hashes
    from tokviz.viewmodels.share import ShareState, settings_to_params, to_params

    state = ShareState(text=st.session_state.get("text", ""), tokenizers=tuple(st.session_state.get("chosen", [])),
                       own=own_hashes())
    wanted = {**to_params(state), **settings_to_params(
        {k: st.session_state[k] for k in st.session_state if isinstance(k, str) and not k.startswith("_")})}
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normal = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normal:
        st.query_params.from_dict(wanted)


def sidebar(names: list[str]) -> None:
    from tokviz.pages import train
    from tokviz.pages.registry import load_defaults
    from tokviz.pages.state import PERSIST

    defaults = load_defaults()
    with st.sidebar:
        st.multiselect("Tokenizers", names, key="chosen", persist_state=PERSIST,
                       help="Shown side by side, in this order.")
        if st.session_state.get("view") != "train":
            train.sidebar_status()  # a training run started in the Train page goes on while others are shown
        # No timings here: the caption stays the same from run to run (and in the README's screenshots).
        how = "read from the cache folder" if defaults.from_cache else "trained at this start and cached"
        st.caption(f"Built-in BPE: trained on `{defaults.corpus.source}` ({len(defaults.corpus.text) // 1000:,}k "
                   f"characters) with the gpt2 and gpt4 patterns, {how}; smaller sizes are prefixes of the same "
                   "run. Baselines: one token per character, per byte, or per word.")


def main() -> None:
    """One run of the app: frame, sidebar, the current page, then the link."""
    # Page config comes first: Streamlit applies it only before any other element.
    st.set_page_config(page_title="tokviz: see how text becomes tokens", page_icon="🔤", layout="wide")
    from tokviz.pages import anatomy_panel, train
    from tokviz.pages.registry import all_tokenizers
    from tokviz.pages.state import GOTO
    from tokviz.viewmodels.render import style_tag
    from tokviz.viewmodels.share import legacy_view

    pages = {s.path: st.Page(s.file, title=s.title, icon=s.icon, url_path=s.path, default=i == 0)
             for i, s in enumerate(PAGES)}
    with st.sidebar:
        st.markdown("## 🔤 tokviz")
        st.caption("See how text becomes tokens: byte-level BPE next to the lecture's baselines (CS336, lecture 1).")
    current = st.navigation(list(pages.values()))
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    old = legacy_view(params, views=list(pages))
    if old is not None:
        del st.query_params["view"]
        params.pop("view")
    wanted = st.session_state.pop(GOTO, None) or old
    if wanted in pages and pages[wanted] is not current:
        # The rest of the link (text, tokenizers) goes along: a page switch would drop it otherwise.
        st.switch_page(pages[wanted], query_params=params)
    st.html(style_tag())
    train.file_if_finished()  # before the list is built, so a run that ended on another page is in it
    names = list(all_tokenizers())
    init_state(names)
    st.session_state["view"] = next(s.path for s in PAGES if pages[s.path] is current)
    n_missing = st.session_state.pop("_missing_own", 0)
    if n_missing:
        st.warning(f"This link names {n_missing} tokenizer{'s' if n_missing != 1 else ''} that this server does not "
                   "have (links carry tokenizers by their hash in the server's store: another server, or one whose "
                   "store was cleared, cannot show them). The rest of the view is restored.", icon="🔗")
    names = list(all_tokenizers())
    anatomy_panel.listen()
    anatomy_panel.panel(all_tokenizers())  # first in the sidebar, under the page list: in view when a token is clicked
    sidebar(names)
    current.run()
    sync_url()



if __name__ == "__main__":  # ``tokviz app`` runs this file with streamlit
    main()
