"""The Tokenize page: one text, every chosen tokenizer's tokens side by side, with counts, hover cards and a table.

Only widgets and layout live here; the markup comes from :mod:`tokviz.viewmodels.render`, the counts from
:mod:`tokviz.viewmodels.summary`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from tokviz.core.protocol import TokenizerLike
from tokviz.models.baselines import WordTokenizer
from tokviz.pages.chat_mode import chat_view
from tokviz.pages.state import PERSIST, PICKED_PAGE, REPAIRED, keep
from tokviz.pages.widgets import draw_markup, wrapping_columns
from tokviz.pipelines.incremental import SegmentCache, find_anchors
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.family_views import describer, family_label, render_round_trip, round_trip
from tokviz.viewmodels.keys import tokenizer_key
from tokviz.viewmodels.markdown import escape_markdown
from tokviz.viewmodels.paging import (
    Panel,
    draw_page,
    page_bounds,
    plan_panel,
    strip_points,
)
from tokviz.viewmodels.pasted import repaired_note
from tokviz.viewmodels.render import RenderOptions, render_header, render_tokens, token_rows
from tokviz.viewmodels.samples import SAMPLES
from tokviz.viewmodels.share import TEXT_LIMIT
from tokviz.viewmodels.strip import strip_html
from tokviz.viewmodels.summary import count_tokens

#: Characters of a page, shared by the panels (8k for one, 2k each for four); counts and the strip always cover the
#: whole text. Drawing costs the browser about 0.1 s per 1,000 characters of a panel (measured in Chromium: 4 panels
#: x 20k characters of a mixed text are ~56k spans and take ~8 s; bench/bigtext.py, 4 x 5k: 2-3 s on a busy
#: machine), and an edit on the page in view draws it again; paging reaches the rest, so pages stay small.
PREVIEW_CHARS = 8_000
MIN_PREVIEW_CHARS = 2_000
#: Tokenizers per row.
PER_ROW = 4
COLOR_LABELS = {"position": "by position", "id": "same id, same color"}
#: The page's toggles and their first values.
OPTIONS: dict[str, object] = {"color_by": "position", "show_ws": False, "show_chunks": False, "show_table": False}


@st.cache_resource(show_spinner=False)
def segment_cache() -> SegmentCache:
    """Segments encoded by any session of this process, keyed by tokenizer and segment text: an edit of a long text
    re-encodes only the segment or two it touches."""
    return SegmentCache()


@st.cache_data(max_entries=8, show_spinner=False)
def _anchors(text: str) -> list[int]:
    return find_anchors(text)


@st.cache_data(max_entries=64, show_spinner=False)
def _unknown_rate(_tok: WordTokenizer, key: str, text: str) -> float:
    return _tok.unknown_rate(text)


def panel_facts(tok: TokenizerLike, text: str) -> list[tuple[str, str]]:
    """What a panel's header says besides the counts: the pre-tokenizer pattern the tokenizer cuts with, and for a
    tokenizer that can lose text (the word baseline), the share of words it does not know."""
    facts: list[tuple[str, str]] = []
    pre = getattr(tok, "pretokenizer", None)
    label = getattr(pre, "label", None)
    if isinstance(label, str) and label:
        facts.append((label if len(label) <= 24 else label[:23] + "…", "pattern"))
    if isinstance(tok, WordTokenizer):
        facts.append((f"{_unknown_rate(tok, tokenizer_key(tok.name, tok), text):.1%}", "unknown words"))
    family = family_label(tok)
    if family is not None:
        facts.append((family, "family"))
    return facts


def _round_trip_note(tok: TokenizerLike, text: str, panel: Panel, cache: SegmentCache) -> str:
    # Another family says whether decoding gives the text back, and what it lost where it does not. Such a family is
    # encoded whole (it cannot be cut), so the whole text's encoding is the one already held.
    if family_label(tok) is None:
        return ""
    # Kept with the text: decoding a megabyte and comparing it costs seconds, and a toggle reruns the page.
    return cache.memo(("round trip", panel.key), text, lambda: _round_trip_html(tok, text, panel, cache))


def _round_trip_html(tok: TokenizerLike, text: str, panel: Panel, cache: SegmentCache) -> str:
    rt = round_trip(tok, text, cache.encoding(tok, panel.key, text))
    return render_round_trip(rt) if rt is not None else ""


def use_sample() -> None:
    key = st.session_state.get(state_keys.SAMPLE)
    if key:
        st.session_state[state_keys.TEXT] = SAMPLES[key].text
    st.session_state[state_keys.SAMPLE] = None  # a pill is an action here, not a lasting choice


def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """Text in, every chosen tokenizer's tokens side by side."""
    st.subheader("Tokenize", anchor=False)
    st.caption("Every chosen tokenizer cuts the same text. Hover a token for its id and bytes; characters cut into "
               "byte pieces stay grouped under the character.")
    keep(state_keys.TOK_MODE, "Text")
    mode = st.segmented_control("Mode", ["Text", "Chat"], key=state_keys.TOK_MODE, persist_state=PERSIST, required=True,
                                help="Chat: a conversation rendered with each model's chat template.")
    if mode == "Chat":
        chat_view(tokenizers, chosen)
        return
    st.pills("Samples", list(SAMPLES), format_func=lambda k: SAMPLES[k].label, key=state_keys.SAMPLE,
             on_change=use_sample,
             help="Each sample shows one thing tokenizers do; pick one to replace the text.")
    text: str = st.text_area("Text", key=state_keys.TEXT, persist_state=PERSIST, height=130,
                             placeholder="Type or paste any text…",
                             help=f"Texts up to {TEXT_LIMIT:,} characters are kept in the link, so you can share "
                             "the view.")
    repaired = repaired_note(st.session_state.get(REPAIRED), key=state_keys.TEXT, text=text)
    if repaired is not None:  # the page's script replaced lone surrogates in the box before sending it: said here
        st.caption(f"🩹 {repaired}")
    sample = next((s for s in SAMPLES.values() if s.text == text), None)
    if sample is not None:  # what this sample is for, in one line, while it is the text
        st.caption(sample.shows)
    for key, first in OPTIONS.items():
        keep(key, first)
    # The colours at their own width, the toggles in a row that wraps beside them: in fixed columns a narrow window
    # cut the labels short ("Pre-tokenizer c…", "same id, sa").
    with st.container(horizontal=True, vertical_alignment="center", gap="medium", wrap=False):
        color_by = st.segmented_control("Colors", list(COLOR_LABELS), format_func=lambda k: COLOR_LABELS[k],
                                        key=state_keys.COLOR_BY, persist_state=PERSIST, required=True, width="content")
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            show_ws = st.toggle("Show whitespace", key=state_keys.SHOW_WS, persist_state=PERSIST,
                                help="space ·  tab →  newline ↵")
            show_chunks = st.toggle("Pre-tokenizer chunks", key=state_keys.SHOW_CHUNKS, persist_state=PERSIST,
                                    help="Brackets under the tokens mark the pieces the pattern cut before merging.")
            show_table = st.toggle("Table and ids", key=state_keys.SHOW_TABLE, persist_state=PERSIST,
                                   help="Each token in a table, and the ids to copy.")
    if not text:
        st.info("Type or paste some text above, or pick a sample, to see its tokens.", icon="✍️")
        return
    if not chosen:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return
    anchors = _anchors(text)
    page_chars = max(MIN_PREVIEW_CHARS, PREVIEW_CHARS // len(chosen))
    pages = page_bounds(text, page_chars=page_chars, anchors=anchors)
    cache = segment_cache()
    # Only the segments of the page in view are encoded before its tokens are drawn; the counts and the strip,
    # which need every segment, are filled in after (a pasted megabyte shows its first page at once). Each panel
    # is planned as its column is drawn, so a built-in encoding read for the first time (GPT-4o: a second) delays
    # only its own column, not the ones before it.
    panels: dict[str, Panel] = {}
    current, strip_slot = 0, None
    if len(pages) > 1:
        st.info(f"Long text: counts and the strip cover all {len(text):,} characters; tokens are drawn a page "
                f"(up to {page_chars:,} characters) at a time, to keep the page quick.", icon=":material/content_cut:")
        current, strip_slot = _page_picker(text, pages)
    options = RenderOptions(color_by="id" if color_by == "id" else "position", show_whitespace=bool(show_ws),
                            show_chunks=bool(show_chunks))
    headers: dict[str, DeltaGenerator] = {}
    # Each panel's header as last drawn: shown again while this run counts, so that a keystroke does not empty the
    # headers (the panels jumped up and back on every key) before the new counts replace them.
    heads: dict[str, str] = st.session_state.setdefault(state_keys.TOK_HEADS, {})
    for row in range(0, len(chosen), PER_ROW):
        names = chosen[row:row + PER_ROW]
        # Rows of two (one in a narrow window) where four panels would be under ~280 px each.
        n_cols = len(names) if len(chosen) <= PER_ROW else PER_ROW
        for i, (col, name) in enumerate(zip(wrapping_columns(n_cols, f"tok_panels_{row}"), names), start=row):
            try:
                panel = _plan(tokenizers, name, text, cache=cache, anchors=anchors, where=col)
                page = draw_page(panel, pages[current])
            except ValueError as e:  # the tokenizer's own regex stopped on this text (over its budget): said here
                col.error(escape_markdown(f"{name}: {e}"), icon="🛑")
                continue
            panels[name] = panel
            tok = panel.tokenizer
            enc = page.encoding
            numbered = replace(options, first_index=page.first)  # hover cards count from the start of the text
            with col:
                # The header is its own element: an edit on another page changes the counts only, and the
                # browser then redraws the header, not the page's tokens.
                headers[name] = st.empty()
                if name in heads:
                    headers[name].html(heads[name])
                # The page's markup is kept with the page: an edit elsewhere redraws nothing of it.
                markup = cache.memo(("html", name, numbered, page.source[0]), page.source[1], partial(
                    render_tokens, enc, page.text, tokenizer=name, options=numbered,
                    unknown_id=getattr(tok, "unk_id", None), describe=describer(tok)))
                draw_markup(markup + _round_trip_note(tok, text, panel, cache),
                            key=f"{state_keys.TOK_PANEL_PREFIX}{i}")
                if show_table:
                    import pandas as pd  # imported on first use: it costs ~0.3 s of a cold start otherwise

                    rows = token_rows(enc, page.text)
                    for r in rows:  # numbered and placed in the whole text, not in the page
                        r["#"] = int(str(r["#"])) + page.first
                    st.dataframe(pd.DataFrame(rows), hide_index=True, height=280)
                    more = "" if len(pages) == 1 else (f" of page {current + 1} (tokens {page.first:,}–"
                                                       f"{page.first + len(enc) - 1:,} of the text)")
                    st.caption(f"Token ids{more}: use the copy button to copy them.")
                    st.code(json.dumps(enc.ids), language=None, wrap_lines=True)
    counted: set[str] = set()
    try:
        for name, slot in headers.items():
            tok = panels[name].tokenizer
            heads[name] = render_header(name, count_tokens(text, range(panels[name].n_tokens)),
                                        vocab_size=getattr(tok, "vocab_size", None), extra=panel_facts(tok, text))
            slot.html(heads[name])
            counted.add(name)
        if strip_slot is not None:
            _strip(strip_slot, pages, current, panels)
    except ValueError as e:  # a page not in view, which the counts need, stopped a tokenizer's regex
        st.error(escape_markdown(str(e)), icon="🛑")
    for name in set(heads) - counted:  # a header kept only while its counts are current
        del heads[name]
        if name in headers:
            headers[name].empty()


def _plan(tokenizers: Mapping[str, TokenizerLike], name: str, text: str, *, cache: SegmentCache,
          anchors: Sequence[int], where: DeltaGenerator) -> Panel:
    """The panel of one tokenizer, made first (with a spinner in its column) if it is a built-in not read or built
    yet: a rank file read, or a baseline or smaller size made on first use."""
    is_loaded = getattr(tokenizers, "is_loaded", None)
    if is_loaded is not None and not is_loaded(name):
        with where, st.spinner(f"Preparing {name} (once per server)…"):
            tok = tokenizers[name]
    else:
        tok = tokenizers[name]
    return plan_panel(tok, text, key=tokenizer_key(name, tok), cache=cache, anchors=anchors)


PAGE_KEY = state_keys.TOK_PAGE


def _page_picker(text: str, pages: list[tuple[int, int]]) -> tuple[int, DeltaGenerator]:
    """The page number input, and a slot for the strip; returns the index of the page to draw and the slot."""
    n = len(pages)
    keep(PAGE_KEY, 1)
    picked = st.session_state.pop(PICKED_PAGE, None)  # a band of the strip, clicked on the run before
    if isinstance(picked, int):
        st.session_state[PAGE_KEY] = picked
    value = st.session_state[PAGE_KEY]
    if not isinstance(value, int) or not 1 <= value <= n:
        st.session_state[PAGE_KEY] = max(1, min(n, value)) if isinstance(value, int) else 1
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    number = c1.number_input(f"Page (of {n:,})", min_value=1, max_value=n, step=1, key=PAGE_KEY,
                             persist_state=PERSIST,
                             help="The text is drawn a page at a time, cut between tokens; counts and the strip "
                                  "cover all of it. Click the strip to open the page there.")
    current = int(number) - 1
    a, b = pages[current]
    c1.caption(f"Characters {a:,}–{b:,} of {len(text):,}.")
    with c2:
        st.caption("Bytes per token along the whole text: where a row turns pale, that tokenizer compresses badly. "
                   "Click a stretch to open its page.")
        slot = st.empty()
    return current, slot


def _strip(slot: DeltaGenerator, pages: list[tuple[int, int]], current: int, panels: Mapping[str, Panel]) -> None:
    slot.html(strip_html(strip_points(dict(panels)), pages=pages, current=current))


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import tokenize as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
