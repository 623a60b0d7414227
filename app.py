"""tokviz: paste text and see how tokenizers cut it, side by side.

Run with ``streamlit run app.py``. This file only lays out widgets and calls :mod:`tokviz`; every computation and
all HTML come from there. Views are functions in :data:`VIEWS` (picked in the sidebar, kept in the ``view`` query
parameter); tokenizers come from :func:`all_tokenizers`, which merges the built-ins with the session's own
(``st.session_state["user_tokenizers"]``, where later views add trained or loaded tokenizers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

# Page config comes first: Streamlit applies it only before any other element.
st.set_page_config(page_title="tokviz: see how text becomes tokens", page_icon="🔤", layout="wide")

from tokviz.defaults import Defaults, build_defaults, default_selection
from tokviz.encoding import Encoding
from tokviz.observations import OBSERVATIONS
from tokviz.render import (
    RenderOptions,
    preview_length,
    render_header,
    render_observation,
    render_pattern_chunks,
    render_tokens,
    style_tag,
    token_rows,
)
from tokviz.samples import DEFAULT_SAMPLE, SAMPLES
from tokviz.share import TEXT_LIMIT, ShareState, read_state, to_params
from tokviz.summary import count_tokens
from ui import compare, sizes, train

#: Characters drawn as spans, shared by the panels (20k for one, 5k each for four); counts always cover the whole
#: text. Measured in Chromium: 4 panels x 20k characters of a mixed text are ~56k spans and take ~8 s to draw.
PREVIEW_CHARS = 20_000
MIN_PREVIEW_CHARS = 2_000
#: Tokenizers per row in the tokenize view.
PER_ROW = 4
COLOR_LABELS = {"position": "by position", "id": "same id, same color"}


# -- tokenizers ----------------------------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Preparing the built-in tokenizers (trained once, then cached on disk)…")
def load_defaults() -> Defaults:
    """The built-in tokenizers, shared by all sessions of this process (and cached on disk across restarts)."""
    return build_defaults()


def all_tokenizers() -> dict[str, Any]:
    """Every tokenizer a user can pick: the built-ins, then the session's own (which win on a name clash)."""
    user = st.session_state.setdefault("user_tokenizers", {})
    return {**load_defaults().tokenizers, **user}


def _key(name: str, tok: Any) -> str:
    # Cache key for a tokenizer object; the id() tells apart two session tokenizers that share a name.
    return f"{name}|{type(tok).__name__}|{getattr(tok, 'vocab_size', 0)}|{id(tok)}"


@st.cache_data(max_entries=64, show_spinner=False)
def n_tokens(_tok: Any, key: str, text: str) -> int:
    return len(_tok.encode(text))


@st.cache_data(max_entries=64, show_spinner=False)
def encode_offsets(_tok: Any, key: str, text: str) -> Encoding:
    return _tok.encode_with_offsets(text)


@st.cache_data(max_entries=256, show_spinner=False)
def observe(_tok: Any, key: str, observation: str, example: str, name: str) -> Any:
    obs = next(o for o in OBSERVATIONS if o.key == observation)
    return obs.run(_tok, example, name=name)


# -- state and URL -------------------------------------------------------------------------------------------------
#: Widget values kept while their view is not shown, with their first values.
KEPT: dict[str, Any] = {"color_by": "position", "show_ws": False, "show_chunks": False, "show_table": False} | {
    f"obs_{o.key}": o.default_example for o in OBSERVATIONS
}


def keep_widget_state() -> None:
    """Streamlit forgets a widget's value on a run that does not draw it (another view is shown); writing the value
    back at the start of every run makes it plain session state, which is kept."""
    for key, first in KEPT.items():
        st.session_state[key] = st.session_state.get(key, first)
    # Not the text: writing it back would send it to the browser on every run (a megabyte, for a big paste). It
    # lives in "_text" and goes back into the text area only when the tokenize view is drawn again.


def init_state(names: list[str]) -> None:
    """Fill the widgets' state from the URL once per session, so a shared link reproduces the view."""
    if st.session_state.get("_from_url"):
        # Tokenizers can disappear from the session registry: keep the choice to those that still exist.
        st.session_state["chosen"] = [n for n in st.session_state.get("chosen", []) if n in names]
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    state = read_state(params, views=list(VIEWS), tokenizers=names, default_tokenizers=default_selection(names))
    st.session_state["view"] = state.view
    st.session_state["chosen"] = list(state.tokenizers)
    st.session_state["_text"] = state.text if state.text is not None else SAMPLES[DEFAULT_SAMPLE].text
    st.session_state["_from_url"] = True


def sync_url() -> None:
    """Write the current view, text and tokenizers to the URL (only when they changed)."""
    state = ShareState(view=st.session_state["view"], text=st.session_state.get("_text", ""),
                       tokenizers=tuple(st.session_state.get("chosen", [])))
    wanted = to_params(state)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normal = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normal:
        st.query_params.from_dict(wanted)


def use_sample() -> None:
    key = st.session_state.get("sample")
    if key:
        st.session_state["text"] = st.session_state["_text"] = SAMPLES[key].text
    st.session_state["sample"] = None  # a pill is an action here, not a lasting choice


# -- views ---------------------------------------------------------------------------------------------------------
def tokenize_view(tokenizers: dict[str, Any], chosen: list[str]) -> None:
    """Text in, every chosen tokenizer's tokens side by side, with counts, hover cards and a table."""
    st.subheader("Tokenize", anchor=False)
    st.caption("Every chosen tokenizer cuts the same text. Hover a token for its id and bytes; characters cut into "
               "byte pieces stay grouped under the character.")
    st.pills("Samples", list(SAMPLES), format_func=lambda k: SAMPLES[k].label, key="sample", on_change=use_sample,
             help="Each sample shows one thing tokenizers do; pick one to replace the text.")
    if "text" not in st.session_state:  # first run, or back from another view
        st.session_state["text"] = st.session_state.get("_text", "")
    text: str = st.text_area("Text", key="text", height=130, placeholder="Type or paste any text…",
                             help=f"Texts up to {TEXT_LIMIT:,} characters are kept in the link, so you can share "
                             "the view.")
    st.session_state["_text"] = text
    c1, c2, c3, c4 = st.columns([1.6, 1, 1, 1], vertical_alignment="center")
    color_by = c1.segmented_control("Colors", list(COLOR_LABELS), format_func=lambda k: COLOR_LABELS[k],
                                    key="color_by", required=True)
    show_ws = c2.toggle("Show whitespace", key="show_ws", help="space ·  tab →  newline ↵")
    show_chunks = c3.toggle("Pre-tokenizer chunks", key="show_chunks",
                            help="Brackets under the tokens mark the pieces the pattern cut before merging.")
    show_table = c4.toggle("Table and ids", key="show_table", help="Each token in a table, and the ids to copy.")
    if not text:
        st.info("Type or paste some text above, or pick a sample, to see its tokens.", icon="✍️")
        return
    if not chosen:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return
    cut = preview_length(text, limit=max(MIN_PREVIEW_CHARS, PREVIEW_CHARS // len(chosen)))
    shown = text[:cut]
    if cut < len(text):
        st.info(f"Long text: counts cover all {len(text):,} characters; tokens are drawn for the first {cut:,} "
                "characters only, to keep the page quick.", icon="✂️")
    options = RenderOptions(color_by="id" if color_by == "id" else "position", show_whitespace=show_ws,
                            show_chunks=show_chunks)
    for row in range(0, len(chosen), PER_ROW):
        names = chosen[row:row + PER_ROW]
        for col, name in zip(st.columns(len(names) if len(chosen) <= PER_ROW else PER_ROW, gap="medium"), names):
            tok = tokenizers[name]
            key = _key(name, tok)
            enc = encode_offsets(tok, key, shown)
            # Count the whole text only when part of it is drawn; otherwise the drawn encoding is the count.
            counts = count_tokens(text, enc.ids if shown == text else range(n_tokens(tok, key, text)))
            with col:
                st.html(render_header(name, counts, vocab_size=getattr(tok, "vocab_size", None))
                        + render_tokens(enc, shown, tokenizer=name, options=options,
                                        unknown_id=getattr(tok, "unk_id", None)))
                if show_table:
                    import pandas as pd  # imported on first use: it costs ~0.3 s of a cold start otherwise

                    st.dataframe(pd.DataFrame(token_rows(enc, shown)), hide_index=True, height=280)
                    more = "" if cut == len(text) else f" (first {len(enc):,} tokens, of the drawn part)"
                    st.caption(f"Token ids{more}: use the copy button to copy them.")
                    st.code(json.dumps(enc.ids), language=None, wrap_lines=True)


def observations_view(tokenizers: dict[str, Any], chosen: list[str]) -> None:
    """The lecture's four observations, each computed live for every chosen tokenizer."""
    st.subheader("Observations", anchor=False)
    st.caption("Each card runs the chosen tokenizers on its example; edit the example to test your own. "
               "✓ the lecture's observation shows for that tokenizer · ✗ it does not · ! the text is lost.")
    if not chosen:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return
    for obs, col in zip(OBSERVATIONS, st.columns(len(OBSERVATIONS), border=True)):
        with col:
            st.markdown(f"**{obs.title}**")
            st.caption(obs.question)
            example = st.text_input("Example", key=f"obs_{obs.key}")
            try:
                results = [observe(tokenizers[n], _key(n, tokenizers[n]), obs.key, example, n) for n in chosen]
            except ValueError as e:
                st.warning(str(e))
                continue
            parts = []
            if obs.key == "digits" and results:
                parts.append("".join(render_pattern_chunks(f"{p} pattern", chunks)
                                     for p, chunks in results[0].pattern_chunks))
            parts += [render_observation(r.tokenizer, r.tokens, r.verdict, mark=r.mark) for r in results]
            st.html("".join(parts))


#: Views by their ``view`` query value: (sidebar label, function). Adding a view is adding a function and an entry.
VIEWS: dict[str, tuple[str, Callable[[dict[str, Any], list[str]], None]]] = {
    "tokenize": ("Tokenize", tokenize_view),
    "observations": ("Observations", observations_view),
    "sizes": ("Vocab sizes", sizes.view),
    "train": ("Train", train.view),
    "compare": ("Load & diff", compare.view),
}


# -- page ----------------------------------------------------------------------------------------------------------
def sidebar(defaults: Defaults, names: list[str]) -> None:
    with st.sidebar:
        st.markdown("## 🔤 tokviz")
        st.caption("See how text becomes tokens: byte-level BPE next to the lecture's baselines (CS336, lecture 1).")
        st.radio("View", list(VIEWS), format_func=lambda v: VIEWS[v][0], key="view")
        st.multiselect("Tokenizers", names, key="chosen", help="Shown side by side, in this order.")
        if st.session_state.get("view") != "train":
            train.sidebar_status()  # a training run started in the Train view goes on while others are shown
        # No timings here: the caption stays the same from run to run (and in the README's screenshots).
        how = "read from the cache folder" if defaults.from_cache else "trained at this start and cached"
        st.caption(f"Built-in BPE: trained on `{defaults.corpus.source}` ({len(defaults.corpus.text) // 1000:,}k "
                   f"characters) with the gpt2 and gpt4 patterns, {how}; smaller sizes are prefixes of the same "
                   "run. Baselines: one token per character, per byte, or per word.")


def main() -> None:
    st.html(style_tag())
    defaults = load_defaults()
    train.file_if_finished()  # before the list is built, so a run that ended on another view is in it
    tokenizers = all_tokenizers()
    names = list(tokenizers)
    init_state(names)
    keep_widget_state()
    sidebar(defaults, names)
    view = st.session_state["view"]
    _, render_view = VIEWS[view]
    render_view(tokenizers, list(st.session_state.get("chosen", [])))
    sync_url()


main()
