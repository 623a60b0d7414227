"""The "Load & diff" view: bring in tokenizer files (upload, local path, tiktoken's cached encodings) for every view,
and diff two tokenizers: vocabularies, the first merge where they part, and a text drawn side by side.

Loaded tokenizers go into ``st.session_state[state_keys.USER_TOKENIZERS]``, which app.py merges into every view's
choices.
Loading runs in button callbacks, before the script draws the sidebar, so a new tokenizer is in the sidebar's
choice (and chosen) in the same run. All parsing, naming and comparing is in :mod:`tokviz`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from tokviz.analysis.diff import VocabOverlap
from tokviz.core.encoding import Encoding
from tokviz.core.protocol import TokenizerLike
from tokviz.formats import PatternGuessWarning
from tokviz.formats.pretrained import list_encodings, load_encoding
from tokviz.pages.registry import forget_own, keep_own, session_only
from tokviz.pages.state import PERSIST, keep
from tokviz.pages.widgets import metric_row
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.compare import (
    DIFF_SAMPLE,
    Comparison,
    compare,
    default_pair,
    departure_rows,
    departure_summary,
    segment_rows,
    vocab_examples,
)
from tokviz.viewmodels.defaults import DefaultCorpus, default_corpus
from tokviz.viewmodels.family_views import describer
from tokviz.viewmodels.keys import tokenizer_key
from tokviz.viewmodels.markdown import code_span, escape_markdown
from tokviz.viewmodels.menu import BUILTIN_ENCODINGS
from tokviz.viewmodels.render import (
    preview_length,
    render_changed_legend,
    render_header,
    render_tokens,
)
from tokviz.viewmodels.summary import count_tokens
from tokviz.viewmodels.upload_tokenizer import (
    LOCAL_PATHS_ENV,
    load_path,
    load_uploaded,
    local_roots,
    name_for_path,
    parse_paths,
    parse_pattern,
    parse_special_tokens,
    suggest_name,
    unique_name,
)
from tokviz.viewmodels.uploads import read_corpus

USER = state_keys.USER_TOKENIZERS
MESSAGE = state_keys.CMP_MESSAGE
#: Characters of the sample drawn per side (the diff covers the same drawn part).
DIFF_CHARS = 5000
#: A corpus for the merge counts is pre-tokenized in full; beyond this it would keep the page waiting too long.
CORPUS_MAX_BYTES = 50 * 1024 * 1024
#: What the mark under a token means here (legend and hover card).
CUT_DIFFERENTLY = "cut differently"
CORPUS_CHOICES = {"builtin": "Built-in corpus", "upload": "Upload a text file", "none": "None"}


# -- loading (callbacks) -------------------------------------------------------------------------------------------
def _user() -> dict[str, TokenizerLike]:
    return st.session_state.setdefault(USER, {})


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def _add(tok: TokenizerLike, base: str, taken: list[str], *, source: str, own: bool = True, note: str = "") -> None:
    """Register ``tok`` under a free name and choose it in the sidebar (callbacks run before the sidebar)."""
    typed = st.session_state.get(state_keys.CMP_NAME, "").strip()
    name = unique_name(typed or base, set(taken) | set(_user()))
    if own:  # a shared (cached) tokenizer keeps its name; the session knows it by the key
        tok.name = name
    not_kept = ""
    if own:  # kept on the server: a refresh, a restart or the link brings it back
        not_kept = keep_own(tok, name, source=source)
    else:
        _user()[name] = tok
    st.session_state[state_keys.CHOSEN] = [*st.session_state.get(state_keys.CHOSEN, []), name]
    st.session_state[state_keys.CMP_NAME] = ""
    if not_kept:
        note += session_only(name, not_kept)
    _say("warning" if note else "success",
         f"Loaded **{escape_markdown(name)}** ({tok.vocab_size:,} tokens) from {escape_markdown(source)}. "
         "It is now chosen in the sidebar, next to the built-in tokenizers, in every view." + escape_markdown(note))


def _options() -> tuple[str | None, list[str] | dict[str, int] | None]:
    return (parse_pattern(st.session_state.get(state_keys.CMP_PATTERN, "")),
            parse_special_tokens(st.session_state.get(state_keys.CMP_SPECIALS, "")))


def _loaded_with_guess(load: Callable[[], TokenizerLike]) -> tuple[TokenizerLike, str]:
    """Run a load, and say (instead of only warning in the log) when an unknown rank file got a guessed pattern."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PatternGuessWarning)
        tok = load()
    guesses = [str(w.message) for w in caught if issubclass(w.category, PatternGuessWarning)]
    note = ""
    if guesses:
        note = (" It is a rank file tokviz does not recognise, so it was pre-tokenized with GPT-2's pattern: if its "
                "model used another, remove it, pick the pattern under Options (gpt4, o200k or a regex) and load "
                "it again.")
    return tok, note


def _load_upload(taken: list[str]) -> None:
    key = f"{state_keys.CMP_FILES_PREFIX}{st.session_state.get(state_keys.CMP_UPLOAD_N, 0)}"
    files = st.session_state.get(key) or []
    pattern, specials = _options()
    names = [f.name for f in files]
    try:
        tok, note = _loaded_with_guess(lambda: load_uploaded([(f.name, f.getvalue()) for f in files],
                                                             pattern=pattern, special_tokens=specials))
        base = suggest_name(names)
    except ValueError as e:
        _say("error", escape_markdown(str(e)))
    else:
        _add(tok, base, taken, source=" + ".join(names), note=note)
    # A new key empties the uploader (a refused file too), so the next pick starts afresh and a second click cannot
    # load the same files twice.
    st.session_state[state_keys.CMP_UPLOAD_N] = st.session_state.get(state_keys.CMP_UPLOAD_N, 0) + 1


def _load_path(taken: list[str]) -> None:
    text = st.session_state.get(state_keys.CMP_PATH, "")
    pattern, specials = _options()
    try:
        tok, note = _loaded_with_guess(lambda: load_path(text, pattern=pattern, special_tokens=specials))
        base = name_for_path(parse_paths(text))
    except ValueError as e:
        _say("error", escape_markdown(str(e)))
        return
    _add(tok, base, taken, source=text.strip(), note=note)
    st.session_state[state_keys.CMP_PATH] = ""


@st.cache_resource(max_entries=5, show_spinner=False)
def _named(name: str, where: str) -> Any:
    # Shared by all sessions, like the built-ins: cl100k and o200k take a moment to read. ``where`` (the cache
    # files) keys it, so a file provided later is read then.
    return load_encoding(name)


def _load_named(name: str, where: str, taken: list[str]) -> None:
    try:
        tok = _named(name, where)
    except ValueError as e:
        _say("error", escape_markdown(str(e)))
        return
    _add(tok, name, taken, source=f"tiktoken's cache ({where})" if where else "the package's built-in copy",
         own=False)


def _choose(name: str) -> None:
    chosen = [n for n in st.session_state.get(state_keys.CHOSEN, []) if n != name]
    st.session_state[state_keys.CHOSEN] = [*chosen, name]
    _say("success", f"**{escape_markdown(name)}** is chosen in the sidebar.")


def _remove(name: str) -> None:
    forget_own(name)  # from the list and from the server's store
    st.session_state[state_keys.CHOSEN] = [n for n in st.session_state.get(state_keys.CHOSEN, []) if n != name]
    _say("info", f"Removed **{escape_markdown(name)}**.")


# -- diff (cached computations) ------------------------------------------------------------------------------------
@st.cache_data(max_entries=1, show_spinner=False)
def _builtin_corpus() -> DefaultCorpus:
    return default_corpus()


@st.cache_data(max_entries=16, show_spinner="Comparing…")
def _compare(_a: TokenizerLike, _b: TokenizerLike, key_a: str, key_b: str, name_a: str, name_b: str, corpus: str | None,
             text: str) -> Comparison:
    return compare(_a, _b, name_a=name_a, name_b=name_b, corpus=corpus, text=text)


@st.cache_data(max_entries=32, show_spinner=False)
def _encode(_tok: TokenizerLike, key: str, text: str) -> Encoding:
    return _tok.encode_with_offsets(text)


# -- layout --------------------------------------------------------------------------------------------------------
def _load_section(tokenizers: Mapping[str, TokenizerLike]) -> None:
    taken = list(tokenizers)
    st.markdown("##### Load a tokenizer")
    upload, path, named = st.tabs(["Upload files", "Local path", "OpenAI encodings"])
    with upload:
        key = f"{state_keys.CMP_FILES_PREFIX}{st.session_state.get(state_keys.CMP_UPLOAD_N, 0)}"
        files = st.file_uploader(
            "Tokenizer file(s)", accept_multiple_files=True, key=key,
            help="One tokenizer.json, tiktoken rank file, minbpe .model or tokviz .json; or a GPT-2 vocab.json and "
                 "merges.txt together (or the zip the Train page downloads). The format is recognised from the "
                 "content.")
        st.button("Load uploaded files", type="primary", disabled=not files, on_click=_load_upload, args=(taken,))
    with path:
        roots = local_roots()
        if not roots:
            st.info(f"Loading from a path on the server is off, as it should be on a shared server. To read your own "
                    f"folders, start the app with `{LOCAL_PATHS_ENV}` naming them (see the README).", icon="🔒")
        else:
            st.text_input("Path on the machine running the app", key=state_keys.CMP_PATH,
                          placeholder=f"{roots[0] / 'tokenizer.json'}   or   a folder in {roots[0]}",
                          help="A tokenizer file, a folder holding one (or GPT-2's two files), or two files separated "
                               f"by ';', inside {', '.join(map(str, roots))}.")
            st.button("Load from path", type="primary", on_click=_load_path, args=(taken,))
    with named:
        st.caption("Built into tokviz (checked against tiktoken's SHA-256), else read from tiktoken's local cache: "
                   "nothing is downloaded.")
        in_menu = {enc: shown for shown, enc in BUILTIN_ENCODINGS.items()}
        for s in list_encodings():
            c1, c2 = st.columns([1, 4], vertical_alignment="top")
            c1.markdown(f"**{escape_markdown(s.title)}**")
            if s.name in in_menu and in_menu[s.name] in tokenizers:
                c2.button(f"Choose it · {s.description}", key=f"{state_keys.CMP_NAMED_PREFIX}{s.name}",
                          on_click=_choose,
                          args=(in_menu[s.name],), help="Built in: already in every page's list.")
            elif s.available:
                where = ";".join(map(str, s.paths)) if s.source == "cache" else ""
                c2.button(f"Load · {s.description}", key=f"{state_keys.CMP_NAMED_PREFIX}{s.name}", on_click=_load_named,
                          args=(s.name, where, taken))
            else:
                c2.caption(f"{s.description} · **unavailable**")
                with c2.expander("How to provide it"):
                    st.caption(escape_markdown(s.hint))
    with st.expander("Options: pattern, special tokens, name"):
        st.text_input("Pre-tokenizer pattern (GPT-2 and tiktoken files only)", key=state_keys.CMP_PATTERN,
                      placeholder="gpt2 (default), gpt4, o200k, or a regex",
                      help="These formats store no pattern. OpenAI's own rank files are recognised and need none.")
        st.text_input("Special tokens (GPT-2 and tiktoken files only)", key=state_keys.CMP_SPECIALS,
                      placeholder="<|endoftext|>",
                      help="Separated by commas or spaces; TOKEN=ID gives a token its saved id. Blank: the format's "
                           "own choice.")
        st.text_input("Name", key=state_keys.CMP_NAME, placeholder="from the file names",
                      help="How the tokenizer is listed in the sidebar; a number is added if the name is taken.")
    message = st.session_state.pop(MESSAGE, None)
    if message is not None:
        kind, text = message
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(text)
    user = _user()
    if user:
        st.caption("Loaded in this session (they last as long as the browser tab):")
        for name, tok in user.items():
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(f"**{escape_markdown(name)}** · {getattr(tok, 'vocab_size', 0):,} tokens")
            c2.button("Remove", key=f"{state_keys.CMP_RM_PREFIX}{name}", on_click=_remove, args=(name,))


def _corpus() -> str | None:
    source = st.radio("Corpus for the merge counts", list(CORPUS_CHOICES), format_func=CORPUS_CHOICES.__getitem__,
                      key=state_keys.CMP_CORPUS, persist_state=PERSIST, horizontal=True,
                      help="Both merge pairs are counted on it where the lists part, to tell a tie from a real "
                           "difference. The built-in corpus is the one our BPE tokenizers were trained on.")
    if source == "builtin":
        corpus = _builtin_corpus()
        st.caption(f"{code_span(corpus.source)}: {len(corpus.text):,} characters.")
        return corpus.text
    if source == "upload":
        f = st.file_uploader("Corpus (UTF-8 text)", key=state_keys.CMP_CORPUS_FILE)
        if f is None:
            st.caption("Upload a text file to count the pairs on it.")
            return None
        got = read_corpus(f.getvalue(), name=f.name, max_bytes=CORPUS_MAX_BYTES)
        if not got.ok:
            st.error(escape_markdown(got.problem or ""))
            return None
        return got.text
    return None


def _show_merges(comparison: Comparison) -> None:
    d = comparison.diff
    st.markdown("##### Vocabulary and merges")
    if d is None and comparison.mapped is not None:
        _show_mapped(comparison, comparison.mapped)
        return
    if d is None:
        st.info(escape_markdown(comparison.refusal or "These tokenizers have no vocabulary to compare."))
        return
    v = d.vocab
    metric_row([
        ("Shared tokens", f"{v.shared:,}", f"Tokens (as bytes) in both: A has {v.size_a:,}, B has {v.size_b:,}."),
        ("Only in A", f"{len(v.only_a):,}", None),
        ("Only in B", f"{len(v.only_b):,}", None),
        ("Same id", f"{v.same_id:,}", "Shared tokens that also have the same id in both."),
    ])
    examples = vocab_examples(v)
    left, right = st.columns([1, 2], gap="medium") if examples else (None, st.container())
    if left is not None:
        with left:
            st.caption("Examples, earliest ids first (· a space, ↵ a newline, ⟨..⟩ bytes of part of a character):")
            st.dataframe(examples, hide_index=True)
    with right:
        st.markdown("**Where the merge lists part**")
        if d.departure is not None:
            st.dataframe(departure_rows(d), hide_index=True)
        st.markdown(departure_summary(d))
        for note in d.notes:
            st.caption(f"Note: {escape_markdown(note)}.")


def _show_mapped(comparison: Comparison, v: VocabOverlap) -> None:
    # Different families: no merges to line up, but the vocabularies meet once their marks are mapped to text.
    st.info(escape_markdown(comparison.refusal or ""))
    metric_row([
        ("Shared once mapped", f"{v.shared:,}", f"Plain texts both vocabularies hold: A has {v.size_a:,} tokens, "
                                                f"B has {v.size_b:,} (a WordPiece 'a' and '##a' are one text)."),
        ("Only in A", f"{len(v.only_a):,}", "Plain texts only A's vocabulary holds."),
        ("Only in B", f"{len(v.only_b):,}", "Plain texts only B's vocabulary holds."),
        ("Overlap", f"{v.jaccard:.1%}", "Shared texts over all distinct texts of both (Jaccard)."),
    ])
    examples = vocab_examples(v)
    if examples:
        st.caption("Examples, earliest ids first, as plain text (· a space, ↵ a newline, ⟨..⟩ bytes of part of a "
                   "character):")
        st.dataframe(examples, hide_index=True)


def _show_text(comparison: Comparison, tokenizers: Mapping[str, TokenizerLike], shown: str) -> None:
    td = comparison.text_diff
    if td is None:
        return
    st.markdown("##### The text, side by side")
    st.html(render_changed_legend(f"{CUT_DIFFERENTLY}: in this stretch the other tokenizer has other tokens"))
    sides = ((comparison.name_a, comparison.marked_a), (comparison.name_b, comparison.marked_b))
    for col, (name, marked) in zip(st.columns(2, gap="medium"), sides):
        tok = tokenizers[name]
        enc = _encode(tok, tokenizer_key(name, tok), shown)
        with col:
            st.html(render_header(name, count_tokens(shown, enc.ids), vocab_size=getattr(tok, "vocab_size", None),
                                  extra=[(f"{len(marked):,}", "cut differently")])
                    + render_tokens(enc, shown, tokenizer=name, unknown_id=getattr(tok, "unk_id", None),
                                    changed=marked, changed_note=CUT_DIFFERENTLY, describe=describer(tok)))
    differing = td.differing
    st.caption(f"{len(differing):,} of {len(td.segments):,} stretches (between boundaries both share) are cut "
               "differently." + (" Tokens are compared as the plain text they stand for (▁ a space, ## dropped)."
                                 if comparison.mapped is not None else ""))
    if differing:
        with st.expander("The stretches cut differently"):
            st.dataframe(segment_rows(td), hide_index=True)


def _diff_section(tokenizers: Mapping[str, TokenizerLike]) -> None:
    st.markdown("##### Diff two tokenizers")
    names = list(tokenizers)
    if not names:
        st.info("There is no tokenizer to compare yet.")
        return
    first, second = default_pair(names)
    keep(state_keys.CMP_A, first, valid=lambda v: v in tokenizers)
    keep(state_keys.CMP_B, second, valid=lambda v: v in tokenizers)
    keep(state_keys.CMP_CORPUS, "builtin", valid=lambda v: v in CORPUS_CHOICES)
    keep(state_keys.CMP_TEXT, DIFF_SAMPLE, valid=lambda v: isinstance(v, str))
    c1, c2 = st.columns(2)
    name_a: str = c1.selectbox("A", names, key=state_keys.CMP_A, persist_state=PERSIST)
    name_b: str = c2.selectbox("B", names, key=state_keys.CMP_B, persist_state=PERSIST)
    corpus = _corpus()
    text: str = st.text_area("Sample text", key=state_keys.CMP_TEXT, persist_state=PERSIST, height=110,
                             help="Drawn for both tokenizers, with the stretches they cut differently marked.")
    shown = text[:preview_length(text, limit=DIFF_CHARS)] if text else ""
    if len(shown) < len(text):
        st.info(f"Long text: the first {len(shown):,} of {len(text):,} characters are compared and drawn.", icon="✂️")
    a, b = tokenizers[name_a], tokenizers[name_b]
    try:
        comparison = _compare(a, b, tokenizer_key(name_a, a), tokenizer_key(name_b, b), name_a, name_b, corpus, shown)
    except ValueError as e:  # e.g. a loaded tokenizer whose custom pattern gives up on this text
        st.error(escape_markdown(str(e)))
        return
    _show_merges(comparison)
    for side, name, tok in (("A", name_a, a), ("B", name_b, b)):
        outside = getattr(tok, "unbuildable_ids", ())
        if outside:
            # A rank file's merges are derived from its ranks; tiktoken's rule still reaches these tokens.
            many = f"{len(outside):,} tokens that no derived merge builds" if len(outside) != 1 else \
                "1 token that no derived merge builds"
            st.caption(f"Note: {side} ({escape_markdown(name)}) is a rank file with {many}; the rank rule reaches "
                       "them, so the merge lists above leave them out.")
    _show_text(comparison, tokenizers, shown)


def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """Load tokenizer files for every view, and diff two tokenizers."""
    st.subheader("Load & diff", anchor=False)
    st.caption("Load your own tokenizer files to use them in every view next to ours, and compare any two: "
               "their vocabularies, the first merge where they part, and where they cut a text differently.")
    with st.container(border=True):
        _load_section(tokenizers)
    with st.container(border=True):
        _diff_section(tokenizers)


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import compare as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
