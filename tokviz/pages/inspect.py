"""The Inspect page: look inside the chosen tokenizers. The vocabulary's health, what each language costs, the
measures of the current text (with a Zipf plot), and the text cut into token-budget chunks.

Only widgets and layout live here: the checks come from :mod:`tokviz.analysis.health`, the measures from
:mod:`tokviz.analysis.measures`, the budgets from :mod:`tokviz.analysis.budget`, the languages from
:mod:`tokviz.viewmodels.languages`; tables, charts and downloads from their display modules.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from tokviz.analysis.budget import BOUNDARIES, chunk_by_tokens
from tokviz.analysis.health import DEFINITIONS, VocabHealth, vocab_health
from tokviz.analysis.measures import MEASURES, TextMeasures, measure_text, zipf_by_tokenizer
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.pages.state import PERSIST, keep, keep_choice
from tokviz.pages.widgets import metric_row
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.budget_display import JSONL_MIME, chunk_rows, chunks_jsonl
from tokviz.viewmodels.defaults import default_corpus
from tokviz.viewmodels.health_display import check_rows, summary_rows
from tokviz.viewmodels.keys import tokenizer_key
from tokviz.viewmodels.language_chart import language_cost_figure
from tokviz.viewmodels.languages import (
    ParallelText,
    builtin_parallel_text,
    cost_rows,
    costs_csv,
    language_costs,
    parallel_from_texts,
    parse_parallel_tsv,
)
from tokviz.viewmodels.markdown import code_span, escape_markdown
from tokviz.viewmodels.measures_display import measure_help, measure_rows, zipf_figure
from tokviz.viewmodels.uploads import read_corpus

TABS = ["Vocabulary health", "Languages", "Measures", "Token budgets"]
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False}
#: Characters of the corpus the health checks encode (the whole built-in corpus: a few seconds for o200k).
HEALTH_CORPUS_CHARS = 500_000


@st.cache_data(max_entries=16, show_spinner="Checking every token of the vocabulary…")
def _health(_tok: TokenizerLike, key: str, corpus: str) -> tuple[VocabHealth, float]:
    t0 = time.perf_counter()
    h = vocab_health(_tok, corpus=corpus or None)
    return h, time.perf_counter() - t0


@st.cache_data(max_entries=32, show_spinner=False)
def _measures(_tok: TokenizerLike, key: str, text: str) -> TextMeasures:
    return measure_text(_tok, text)


@st.cache_data(max_entries=32, show_spinner=False)
def _ids(_tok: TokenizerLike, key: str, text: str) -> list[int]:
    return list(encode_as_shown(_tok, text))


def _pick(tokenizers: Mapping[str, TokenizerLike], chosen: list[str], key: str, label: str) -> str | None:
    options = chosen or list(tokenizers)
    if not options:
        st.info("Pick at least one tokenizer in the sidebar.", icon="👈")
        return None
    keep_choice(key, options, options[0], multi=False)
    picked: str = st.selectbox(label, options, key=key, persist_state=PERSIST)
    return picked


def _health_tab(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    name = _pick(tokenizers, chosen, state_keys.INSPECT_HEALTH_TOK, "Tokenizer")
    if name is None:
        return
    tok = tokenizers[name]
    if getattr(tok, "vocab", None) is None:
        st.info(f"{code_span(name)} has no vocabulary of byte strings to check (a baseline).", icon="ℹ️")
        return
    corpus = default_corpus()
    try:
        h, seconds = _health(tok, tokenizer_key(name, tok), corpus.text[:HEALTH_CORPUS_CHARS])
    except ValueError as e:
        st.warning(escape_markdown(str(e)))
        return
    st.caption(f"{h.n_regular:,} regular tokens checked (special tokens left out); the corpus checks encode "
               f"{code_span(corpus.source)} ({min(len(corpus.text), HEALTH_CORPUS_CHARS):,} characters) in "
               f"{seconds:.1f} s.")
    summary = summary_rows(h)
    metric_row((str(row["check"]), f"{row['count']:,}", str(row["definition"])) for row in summary)
    for note in h.notes:
        st.caption(escape_markdown(note))
    keys = [str(r["key"]) for r in summary]
    keep_choice(state_keys.INSPECT_HEALTH_CHECK, keys, keys[0], multi=False)
    key = st.segmented_control("Browse", keys, key=state_keys.INSPECT_HEALTH_CHECK, persist_state=PERSIST,
                               required=True,
                               format_func=lambda k: DEFINITIONS.get(k, (k, ""))[0])
    st.caption(escape_markdown(DEFINITIONS.get(str(key), ("", ""))[1].format(share=0.9, min_count=5)))
    rows = check_rows(h, str(key), getattr(tok, "vocab", {}))
    st.dataframe(rows, hide_index=True, height=360, width="stretch")


def _parallel() -> ParallelText | None:
    source = st.radio("Texts", ["builtin", "files", "tsv"], key=state_keys.INSPECT_LANG_SOURCE, persist_state=PERSIST,
                      horizontal=True, format_func={"builtin": "Built-in parallel passage",
                                                    "files": "Your own (one file per language)",
                                                    "tsv": "Your own (TSV, a column per language)"}.__getitem__)
    if source == "builtin":
        par = builtin_parallel_text()
        st.caption(escape_markdown(f"{par.title}: {par.source}, {len(par.languages)} languages."))
        return par
    if source == "files":
        files = st.file_uploader("One UTF-8 text file per language, named after it (English.txt, Thai.txt, …)",
                                 type=["txt"], accept_multiple_files=True, key=state_keys.INSPECT_LANG_FILES)
        if not files:
            st.info("Upload the same text in several languages, one file each, or use the built-in passage.",
                    icon="📄")
            return None
        try:
            texts = {}
            for f in files:
                read = read_corpus(f.getvalue(), name=f.name)
                if read.problem:
                    raise ValueError(read.problem)
                texts[Path(f.name).stem] = read.text
            return parallel_from_texts(texts, source=", ".join(f.name for f in files))
        except ValueError as e:
            st.error(escape_markdown(str(e)), icon="🛑")
            return None
    f = st.file_uploader("TSV file: a header row of language names, then the same text in each column",
                         type=["tsv", "txt"], key=state_keys.INSPECT_LANG_TSV)
    if f is None:
        st.info("Upload a TSV file, or use the built-in passage.", icon="📄")
        return None
    try:
        return parse_parallel_tsv(f.getvalue(), source=f.name)
    except ValueError as e:
        st.error(escape_markdown(str(e)), icon="🛑")
        return None


def _languages_tab(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    names = chosen or list(tokenizers)[:3]
    par = _parallel()
    if par is None or not names:
        return
    costs = language_costs([tokenizers[n] for n in names], par)
    measures = {"premium": "Tokens relative to English", "bytes_per_token": "Bytes per token",
                "fertility": "Tokens per word"}
    keep(state_keys.INSPECT_LANG_MEASURE, "premium")
    measure = st.segmented_control("Chart", list(measures), key=state_keys.INSPECT_LANG_MEASURE, persist_state=PERSIST,
                                   required=True, format_func=measures.__getitem__,
                                   help="The premium (Petrov et al. 2023): how many times more tokens the same "
                                        "content costs than in the reference language.")
    st.plotly_chart(language_cost_figure(costs, measure=str(measure)), key=state_keys.INSPECT_LANG_FIG, theme=None,
                    config=PLOT_CONFIG)
    st.dataframe(cost_rows(costs), hide_index=True, width="stretch")
    st.download_button("Table as CSV", costs_csv(costs), file_name="tokviz-language-cost.csv", mime="text/csv",
                       icon="⬇️", key=state_keys.INSPECT_LANG_CSV)


def _measures_tab(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    text = st.session_state.get(state_keys.TEXT, "")
    if not text or not chosen:
        st.info("Type a text in the Tokenize page and choose tokenizers in the sidebar to measure them.", icon="✍️")
        return
    st.caption(f"On the Tokenize page's text ({len(text):,} characters).")
    ms = [_measures(tokenizers[n], tokenizer_key(n, tokenizers[n]), text) for n in chosen]
    rows = measure_rows(ms)
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={k: st.column_config.NumberColumn(MEASURES[k].name, help=measure_help(k))
                                for k in MEASURES if rows and k in rows[0]})
    with st.expander("What each measure means"):
        for m in MEASURES.values():
            st.markdown(f"**{escape_markdown(m.name)}**: {escape_markdown(m.definition)}  \n"
                        f"{code_span(m.formula)} · {escape_markdown(m.caveat)}")
    ids = {n: _ids(tokenizers[n], tokenizer_key(n, tokenizers[n]), text) for n in chosen}
    st.plotly_chart(zipf_figure(zipf_by_tokenizer(ids)), key=state_keys.INSPECT_ZIPF, theme=None, config=PLOT_CONFIG)


def _budget_tab(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    name = _pick(tokenizers, chosen, state_keys.INSPECT_BUDGET_TOK, "Tokenizer")
    text = st.session_state.get(state_keys.TEXT, "")
    if name is None or not text:
        if not text:
            st.info("Type a text in the Tokenize page to cut it into chunks.", icon="✍️")
        return
    c1, c2 = st.columns(2)
    keep(state_keys.INSPECT_BUDGET_N, 256)
    n = c1.number_input("Tokens per chunk at most", min_value=1, max_value=1_000_000, step=64,
                        key=state_keys.INSPECT_BUDGET_N, persist_state=PERSIST)
    keep(state_keys.INSPECT_BUDGET_AT, "token")
    at = c2.segmented_control("Cut at", list(BOUNDARIES), key=state_keys.INSPECT_BUDGET_AT, persist_state=PERSIST,
                              required=True, help="At the last sentence or paragraph end that fits, or at any "
                                                  "token boundary; a sentence longer than the budget is cut at tokens.")
    try:
        chunks = chunk_by_tokens(tokenizers[name], text, max_tokens=int(n), boundary=at or "token")
    except ValueError as e:
        st.warning(escape_markdown(str(e)))
        return
    st.caption(f"{len(chunks):,} chunks of at most {int(n):,} tokens each (each counted by encoding it alone); "
               "joined, they give the text back exactly.")
    st.dataframe(chunk_rows(chunks), hide_index=True, width="stretch", height=320)
    st.download_button("Chunks as JSONL", chunks_jsonl(chunks, tokenizer=name), file_name="tokviz-chunks.jsonl",
                       mime=JSONL_MIME, icon="⬇️", key=state_keys.INSPECT_BUDGET_JSONL)


def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """Four tabs; only the open one is computed."""
    st.subheader("Inspect", anchor=False)
    st.caption("Look inside the chosen tokenizers: which tokens are junk, what the same passage costs in each "
               "language, how the current text measures up, and how it splits into token budgets. Click any token "
               "on any page for its anatomy in the sidebar.")
    tabs = st.tabs(TABS, key=state_keys.INSPECT_TAB, on_change="rerun")
    for tab, draw in zip(tabs, (_health_tab, _languages_tab, _measures_tab, _budget_tab)):
        if tab.open:
            with tab:
                draw(tokenizers, chosen)


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import inspect as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
