"""The app's frame: page config, the navigation between pages (each with its own URL path), and the sidebar.

``streamlit run app.py`` (the file at the repository root) and ``tokviz app`` both run :func:`main`. Each page is
one module of :mod:`tokviz.pages` with a ``view(tokenizers, chosen)`` function (see :class:`PageSpec`); the frame
builds the tokenizer list, restores the view from the link once per session, draws the sidebar, runs the page, and
writes the link back.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from tokviz.viewmodels import state_keys

if TYPE_CHECKING:  # imported when first used: a cold start stays quick
    from tokviz.viewmodels.text_store import TextStore


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
    PageSpec("files", "Files", ":material/description:", "files"),
)


def init_state(names: list[str]) -> None:
    """Fill the widgets' state from the URL once per session, so a shared link reproduces the view."""
    from tokviz.pages.registry import all_tokenizers, restore_models, restore_own
    from tokviz.viewmodels.defaults import default_selection
    from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES
    from tokviz.viewmodels.share import read_state, settings_from_params
    from tokviz.viewmodels.text_store import texts_from_refs

    if st.session_state.get(state_keys.FROM_URL):
        # Tokenizers can disappear from the session registry: keep the choice to those that still exist.
        st.session_state[state_keys.CHOSEN] = [n for n in st.session_state.get(state_keys.CHOSEN, []) if n in names]
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    first = read_state(params, tokenizers=names, default_tokenizers=default_selection(names))
    missing = restore_own(first.own)  # the session's own tokenizers, from the store: now their names exist
    if missing:
        st.session_state[state_keys.MISSING_OWN] = len(missing)
    # Tokenizers loaded by model name or Hub id come back from that name (the Hub client's cache first).
    st.session_state[state_keys.MODEL_FAILURES] = restore_models(first.models)
    names = list(all_tokenizers())
    state = read_state(params, tokenizers=names, default_tokenizers=default_selection(names))
    st.session_state[state_keys.CHOSEN] = list(state.tokenizers)
    st.session_state[state_keys.TEXT] = state.text if state.text is not None else SAMPLES[DEFAULT_SAMPLE].text
    # Every other setting the link carries; each page checks its own values when it draws (a value it does not
    # offer falls back to its default).
    st.session_state.update(settings_from_params(params))
    # Texts too long for a link travel by their hash in this server's text store.
    found, missing_texts = texts_from_refs(params, _text_store(), keys=_text_keys())
    st.session_state.update(found)
    if missing_texts:
        st.session_state[state_keys.MISSING_TEXTS] = len(missing_texts)
    st.session_state[state_keys.FROM_URL] = True


def _text_store() -> TextStore:
    from tokviz.viewmodels.defaults import cache_dir
    from tokviz.viewmodels.text_store import TextStore

    return TextStore(cache_dir() / "texts")


def _text_keys() -> set[str]:
    """The settings that hold free text: the page's text and every text setting a link carries."""
    from tokviz.viewmodels.share import SETTINGS

    return {"text", *(k for k, kind in SETTINGS.items() if kind == "str")}


def sync_url() -> None:
    """Write the current text and tokenizers to the URL (only when they changed); the path names the page."""
    from tokviz.pages.registry import model_specs, own_hashes
    from tokviz.viewmodels.share import ShareState, settings_to_params, to_params
    from tokviz.viewmodels.text_store import link_by_ref

    chosen = tuple(st.session_state.get(state_keys.CHOSEN, []))
    state = ShareState(text=st.session_state.get(state_keys.TEXT, ""), tokenizers=chosen, own=own_hashes(),
                       models=model_specs())
    wanted = {**to_params(state), **settings_to_params(
        {k: st.session_state[k] for k in st.session_state if isinstance(k, str) and not k.startswith("_")})}
    texts = {k: v for k in _text_keys() if isinstance(v := st.session_state.get(k), str)}
    wanted, left_out = link_by_ref(wanted, texts, _text_store())
    if left_out and st.session_state.get(state_keys.LEFT_OUT) != left_out:
        st.toast("The text is too long to travel in a link, even by its hash on this server: the link carries the "
                 "settings only.", icon="🔗")
    st.session_state[state_keys.LEFT_OUT] = left_out
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
        st.multiselect("Tokenizers", names, key=state_keys.CHOSEN, persist_state=PERSIST,
                       help="Shown side by side, in this order.")
        model_box()
        if st.session_state.get(state_keys.VIEW) != "train":
            train.sidebar_status()  # a training run started in the Train page goes on while others are shown
        # No timings here: the caption stays the same from run to run (and in the README's screenshots).
        how = "read from the cache folder" if defaults.from_cache else "trained at this start and cached"
        st.caption(f"Built-in BPE: trained on `{defaults.corpus.source}` ({len(defaults.corpus.text) // 1000:,}k "
                   f"characters) with the gpt2 and gpt4 patterns, {how}; smaller sizes are prefixes of the same "
                   "run. Baselines: one token per character, per byte, or per word.")


def _load_model() -> None:
    """The model box's Load button: the typed name (else the gallery pick) loaded, listed and chosen."""
    from tokviz.pages.registry import keep_model
    from tokviz.viewmodels.hub_picker import gallery_choices, load_model, model_spec

    typed = st.session_state.get(state_keys.MODEL_BOX, "").strip()
    picked = gallery_choices().get(st.session_state.get(state_keys.MODEL_PICK) or "")
    try:
        loaded = load_model(model_spec(typed) if typed else picked or model_spec(""))
    except ValueError as e:
        st.session_state[state_keys.MODEL_MESSAGE] = ("error", str(e))
        return
    keep_model(loaded)
    chosen = [n for n in st.session_state.get(state_keys.CHOSEN, []) if n != loaded.name]
    st.session_state[state_keys.CHOSEN] = [*chosen, loaded.name]
    context = f"; context {loaded.context:,} tokens" if loaded.context else ""
    st.session_state[state_keys.MODEL_MESSAGE] = (
        "success", f"Loaded {loaded.name} ({loaded.tokenizer.vocab_size:,} tokens{context}).")
    st.session_state[state_keys.MODEL_BOX] = ""


def model_box() -> None:
    """Add a tokenizer by OpenAI model name or Hugging Face Hub id, typed or picked from the gallery."""
    from tokviz.viewmodels.hub_picker import gallery_choices, gallery_markdown
    from tokviz.viewmodels.markdown import escape_markdown

    with st.expander("Add a model (Hub id or name)", expanded=False):
        st.text_input("Hub model id or OpenAI model name", key=state_keys.MODEL_BOX,
                      placeholder="Qwen/Qwen3-8B or gpt-4o",
                      help="owner/name as in the model page's address (optionally @revision), a huggingface.co "
                           "address, or an OpenAI model name (gpt-4o, gpt-3.5-turbo, o3...). Only the tokenizer "
                           "files are downloaded, once; then the model opens offline. Gated models need the "
                           "server's HF_TOKEN and the licence accepted on the model page.")
        st.selectbox("…or a popular open model", list(gallery_choices()), index=None, key=state_keys.MODEL_PICK,
                     placeholder="Llama, Mistral, Qwen, Gemma, DeepSeek…")
        st.button("Load", key=state_keys.MODEL_LOAD, on_click=_load_model, type="primary")
        kind, text = st.session_state.pop(state_keys.MODEL_MESSAGE, (None, ""))
        if kind == "error":
            st.error(escape_markdown(text), icon="⚠️")
        elif kind == "success":
            st.success(escape_markdown(text))
        with st.popover("The gallery: ids and licences", use_container_width=True):
            st.markdown(gallery_markdown())


_heap_settled = False


def _settle_heap() -> None:
    # Python's full collections walk every object the collector tracks: after the first run, the modules, the
    # built-in tokenizers and Streamlit's own objects (most of the heap, and alive for the whole process). Frozen,
    # they are left out of every later collection, which then took 50-250 ms of a keystroke's rerun instead.
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        gc.freeze()


def main() -> None:
    """One run of the app: frame, sidebar, the current page, then the link."""
    # Page config comes first: Streamlit applies it only before any other element. The icon is a Material one, as
    # the pages' are: an emoji would make Streamlit load its emoji table, a tenth of a second of every start.
    st.set_page_config(page_title="tokviz: see how text becomes tokens", page_icon=":material/text_fields:",
                       layout="wide")
    from tokviz.pages import anatomy_panel, anatomy_warm, train
    from tokviz.pages.registry import all_tokenizers, cache_notices
    from tokviz.pages.state import GOTO
    from tokviz.viewmodels.markdown import escape_markdown
    from tokviz.viewmodels.render import style_tag
    from tokviz.viewmodels.share import legacy_view

    # The first page is served at the root; its own path (/tokenize, as every other page has one) is a hidden page
    # that hands over to it.
    pages = {s.path: st.Page(s.file, title=s.title, icon=s.icon, url_path="" if i == 0 else s.path, default=i == 0)
             for i, s in enumerate(PAGES)}
    home = st.Page(PAGES[0].file, title=PAGES[0].title, url_path=PAGES[0].path, visibility="hidden")
    with st.sidebar:
        st.markdown("## 🔤 tokviz")
        st.caption("See how text becomes tokens: byte-level BPE next to the lecture's baselines (CS336, lecture 1).")
    current = st.navigation([*pages.values(), home])
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    old = legacy_view(params, views=list(pages))
    if old is not None:
        del st.query_params["view"]
        params.pop("view")
    wanted = st.session_state.pop(GOTO, None) or old
    if current is home:
        wanted = PAGES[0].path
    if wanted in pages and pages[wanted] is not current:
        # The rest of the link (text, tokenizers) goes along: a page switch would drop it otherwise.
        st.switch_page(pages[wanted], query_params=params)
    st.html(style_tag())
    train.file_if_finished()  # before the list is built, so a run that ended on another page is in it
    names = list(all_tokenizers())
    init_state(names)
    st.session_state[state_keys.VIEW] = next(s.path for s in PAGES if pages[s.path] is current)
    n_missing = st.session_state.pop(state_keys.MISSING_OWN, 0)
    if n_missing:
        st.warning(f"This link names {n_missing} tokenizer{'s' if n_missing != 1 else ''} that this server does not "
                   "have (links carry tokenizers by their hash in the server's store: another server, or one whose "
                   "store was cleared, cannot show them). The rest of the view is restored.", icon="🔗")
    for failure in st.session_state.pop(state_keys.MODEL_FAILURES, []):
        st.warning(f"This link names a model that could not be loaded here: {escape_markdown(failure)}", icon="🔗")
    for note in cache_notices():  # damaged cache entries, discarded and rebuilt: said, never an exception box
        st.warning(escape_markdown(note), icon="🧹")
    n_texts = st.session_state.pop(state_keys.MISSING_TEXTS, 0)
    if n_texts:
        st.warning(f"This link names {'a text' if n_texts == 1 else f'{n_texts} texts'} by hash, and this server does "
                   "not have that text (texts too long for a link are kept on the server that made the link, for a "
                   "while). The rest of the view is restored.", icon="🔗")
    names = list(all_tokenizers())
    anatomy_panel.listen()
    anatomy_panel.panel(all_tokenizers())  # first in the sidebar, under the page list: in view when a token is clicked
    sidebar(names)
    current.run()
    # The rank files the page drew get their merge lists derived in a child process: a click's anatomy then waits
    # for none.
    anatomy_warm.warm(all_tokenizers(), st.session_state.get(state_keys.CHOSEN, []))
    sync_url()
    _settle_heap()



if __name__ == "__main__":  # ``tokviz app`` runs this file with streamlit
    main()
