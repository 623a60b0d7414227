"""The "Vocab sizes" page: one training run per pattern gives every size, as curves and side by side.

Only widgets and layout live here; the runs, sizes and series come from :mod:`tokviz.viewmodels.size_runs`, the
numbers from :mod:`tokviz.analysis.sweep`, the figures from :mod:`tokviz.viewmodels.charts` and the markup from
:mod:`tokviz.viewmodels.render`.

An uploaded corpus is trained in child processes (:class:`tokviz.viewmodels.size_runs.SizeJob`, one
:class:`tokviz.training.live.TrainingJob` per pattern), never on the script thread, so other sessions do not wait for
it: the
job lives in ``st.session_state``, a fragment polls it every :data:`POLL_SECONDS` and draws its progress and a Cancel
button, and when it ends one full run draws the charts (or says why it ended, and shows the built-in corpus).

Session state this view reads, for other views to fill:
    ``user_tokenizers``  name -> tokenizer (the app's registry). A BPE ``Tokenizer`` with a ``training`` report can
                         join the charts as a curve, any other tokenizer as a point.
    ``user_heldout``     name -> held-out text of such a tokenizer (optional). Its curve is measured on that text;
                         without it, on this view's held-out text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from threading import Lock
from typing import Any

import streamlit as st

from tokviz.analysis.sweep import (
    LengthDistribution,
    SizeComparison,
    SizeView,
    default_baselines,
    length_distribution,
    rows_to_csv,
    side_by_side_rows,
    sizes_side_by_side,
    token_count_curve,
)
from tokviz.core.protocol import TokenizerLike
from tokviz.pages.runs import HELDOUT
from tokviz.pages.state import PERSIST, keep_choice
from tokviz.pages.widgets import stacking_pair
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.charts import (
    POINT_KINDS_NOTE,
    compression_figure,
    half_page,
    length_figure,
    token_count_figure,
)
from tokviz.viewmodels.defaults import cache_dir, default_corpus
from tokviz.viewmodels.keys import tokenizers_key
from tokviz.viewmodels.markdown import code_span, escape_markdown
from tokviz.viewmodels.menu import BUILTIN_ENCODINGS
from tokviz.viewmodels.render import (
    preview_length,
    render_changed_legend,
    render_header,
    render_tokens,
)
from tokviz.viewmodels.samples import SAMPLES
from tokviz.viewmodels.size_curves import (
    DEFAULT_MAX_SIZE,
    MAX_SIZES,
    NICE_SIZES,
    chart_kinds,
    compare_all,
    kind_text,
)
from tokviz.viewmodels.size_runs import (
    PATTERNS,
    PatternRuns,
    SizeJob,
    SizeJobSnapshot,
    default_sizes,
    offered_sizes,
    pattern_runs,
    size_text,
    upload_key,
)
from tokviz.viewmodels.summary import TokenCounts
from tokviz.viewmodels.uploads import CorpusText, read_corpus

#: Characters drawn per size in the side by side (counts always cover the whole text): five sizes of 2,000
#: characters stay quick to draw.
SIDE_CHARS = 2_000
#: Uploads are trained three times (once per pattern), each in a child process: 10 MB takes a few seconds each.
UPLOAD_LIMIT = 10 * 1024 * 1024
#: Seconds between two redraws of a running upload's training, and how long each waits for its end.
POLL_SECONDS = 0.4
FINISH_WAIT_SECONDS = 0.2
#: Finished upload runs kept in the server's memory (shared by sessions that upload the same text).
UPLOADS_KEPT = 4
# Session keys: the running job, and how the last job for a given upload ended when it gave no runs.
JOB, ENDED = "_sizes_job", "_sizes_ended"
#: Numbers: the patterns cut digits differently, so the text's own chart shows them apart; one line keeps the side
#: by side short.
DEFAULT_TEXT = SAMPLES["numbers"].text
LENGTH_KINDS = {"vocabulary": "the vocabulary", "usage": "held-out tokens"}
#: No mode bar: it covers the chart titles on hover; drag to zoom and double-click to reset still work.
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False}


# -- cached work (never retrain on a rerun) -------------------------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner="Training one BPE per pattern (once, then cached on disk)…")
def builtin_runs(max_size: int, patterns: tuple[str, ...], directory: str) -> PatternRuns:
    """The built-in corpus's runs, shared by every session; the disk cache in ``directory`` survives restarts."""
    corpus = default_corpus()
    return pattern_runs(corpus.text, source=corpus.source, max_size=max_size, patterns=patterns, directory=directory)


class _Finished:
    """Runs of uploaded corpora, by :func:`tokviz.viewmodels.size_runs.upload_key`, least recently used out first.

    Kept in memory only: an uploaded corpus is not written to the disk cache."""

    def __init__(self, limit: int) -> None:
        self._runs: OrderedDict[str, PatternRuns] = OrderedDict()
        self._limit = limit
        self._lock = Lock()  # sessions run on threads of their own

    def get(self, key: str) -> PatternRuns | None:
        with self._lock:
            runs = self._runs.get(key)
            if runs is not None:
                self._runs.move_to_end(key)
            return runs

    def put(self, key: str, runs: PatternRuns) -> None:
        with self._lock:
            self._runs[key] = runs
            self._runs.move_to_end(key)
            while len(self._runs) > self._limit:
                self._runs.popitem(last=False)


@st.cache_resource(show_spinner=False)
def finished_uploads() -> _Finished:
    return _Finished(UPLOADS_KEPT)


@st.cache_resource(max_entries=8, show_spinner=False)
def baselines(_runs: PatternRuns, key: str) -> tuple[Any, ...]:
    return default_baselines(_runs.train_text)


@st.cache_data(max_entries=16, show_spinner="Measuring every size…")
def compare(_runs: PatternRuns, key: str, _extras: dict[str, TokenizerLike], extras_key: str, text: str | None,
            own: dict[str, str]) -> tuple[SizeComparison, tuple[str, ...]]:
    """``text`` None means the runs' held-out text (and each extra curve's own held-out text when there is one)."""
    out = compare_all(_runs.heldout if text is None else text, _runs.runs, baselines=baselines(_runs, key),
                      extras=_extras, own_texts=own if text is None else None)
    return out.comparison, out.problems


@st.cache_data(max_entries=16, show_spinner=False)
def lengths(_runs: PatternRuns, key: str, pattern: str, sizes: tuple[int, ...], kind: str) -> LengthDistribution:
    return length_distribution(_runs.run(pattern), sizes, text=_runs.heldout if kind == "usage" else None)


@st.cache_data(max_entries=16, show_spinner=False)
def side_by_side(_runs: PatternRuns, key: str, pattern: str, sizes: tuple[int, ...], text: str,
                 shown: str) -> tuple[list[SizeView], tuple[int, ...]]:
    """The drawn part at each size, and the whole text's token count at each size (one pass for all sizes)."""
    tok = _runs.run(pattern)
    return sizes_side_by_side(tok, shown, sizes), token_count_curve(tok, text, sizes=sizes).tokens


def on_upload() -> None:
    f = st.session_state.get(state_keys.SIZES_UPLOAD)
    _drop_job()
    st.session_state.pop(ENDED, None)  # the same file again: a new try
    # Bytes that are not UTF-8 become U+FFFD (with a warning) rather than refusing the whole file.
    st.session_state[state_keys.SIZES_CORPUS] = (
        None if f is None else read_corpus(f.getvalue(), name=f.name, max_bytes=UPLOAD_LIMIT, replace=True))


def use_builtin_corpus() -> None:
    _drop_job()
    st.session_state[state_keys.SIZES_CORPUS] = None


class _Stopped(ValueError):
    """The user cancelled the upload's training: said as a notice, not an error."""


def _drop_job() -> None:
    job: SizeJob | None = st.session_state.pop(JOB, None)
    if job is not None:
        job.kill()


def _upload_runs(corpus: CorpusText, max_size: int, patterns: tuple[str, ...]) -> PatternRuns | None:
    """The upload's runs when trained; else starts (or follows) their training in child processes and draws its
    progress, returning None. A run that cannot start or that ended without runs raises ValueError with the reason
    (the caller says it and goes on with the built-in corpus)."""
    key = upload_key(corpus.text, max_size=max_size, patterns=patterns)
    done = finished_uploads().get(key)
    if done is not None:
        return done
    ended: tuple[str, str, str] | None = st.session_state.get(ENDED)
    if ended is not None and ended[0] == key:
        raise (_Stopped if ended[1] == "cancelled" else ValueError)(ended[2])
    job: SizeJob | None = st.session_state.get(JOB)
    if job is not None and job.key != key:  # other settings or another corpus: that run is no longer wanted
        _drop_job()
        job = None
    if job is None:
        job = SizeJob.start(corpus.text, source=corpus.name, max_size=max_size, patterns=patterns)
        st.session_state[JOB] = job
    snap = job.poll()
    if snap.finished:
        return _file(job, snap)
    _live_progress()
    return None


def _file(job: SizeJob, snap: SizeJobSnapshot) -> PatternRuns:
    st.session_state.pop(JOB, None)
    if snap.runs is None:
        st.session_state[ENDED] = (job.key, snap.status, snap.message)
        raise (_Stopped if snap.status == "cancelled" else ValueError)(snap.message)
    finished_uploads().put(job.key, snap.runs)
    return snap.runs


@st.fragment(run_every=POLL_SECONDS)
def _live_progress() -> None:
    """The upload's training progress, redrawn on its own; when it ends, one full run draws the charts."""
    job: SizeJob | None = st.session_state.get(JOB)
    if job is None:
        return
    snap = job.poll(finish_within=FINISH_WAIT_SECONDS)
    if snap.finished:
        st.rerun()
    bar, cancel = st.columns([6, 1], vertical_alignment="bottom")
    bar.progress(snap.fraction, text=snap.text)
    cancel.button("Cancel", key=state_keys.SIZES_CANCEL, on_click=job.cancel, icon="⏹️", width="stretch",
                  help="Stop training on this corpus and go back to the built-in one.")
    st.caption("Training runs in a separate process, one pattern after the other; the charts follow when it is done. "
               "Other views (and other users) stay responsive meanwhile.")


def use_sample() -> None:
    key = st.session_state.get(state_keys.SIZES_SAMPLE)
    if key:
        st.session_state[state_keys.SIZES_TEXT] = SAMPLES[key].text
    st.session_state[state_keys.SIZES_SAMPLE] = None  # a pill is an action here, not a lasting choice


def download(label: str, csv: str, file_name: str, key: str) -> None:
    st.download_button(label, csv, file_name=file_name, mime="text/csv", key=key, on_click="ignore",
                       icon=":material/download:", type="tertiary")


# -- the view -------------------------------------------------------------------------------------------------------
def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """Compression and token counts at every size, token lengths and the text itself at chosen sizes."""
    st.subheader("Vocab sizes", anchor=False)
    st.caption("BPE learns its merges in order, so one training run holds every smaller vocabulary: the first k "
               "merges. Each pattern is trained once on 90% of the corpus; the curves measure the other 10%.")
    runs = controls()
    if runs is None:
        return
    # The session's own tokenizers and the OpenAI encodings (read here if no page has needed them yet).
    candidates = {n: tokenizers[n] for n in tokenizers
                  if n in st.session_state.get(state_keys.USER_TOKENIZERS, {}) or n in BUILTIN_ENCODINGS}
    kinds = chart_kinds(candidates)
    keep_choice(state_keys.SIZES_EXTRAS, list(kinds), list(kinds), multi=True)
    st.multiselect("Also on the charts", list(kinds), key=state_keys.SIZES_EXTRAS, persist_state=PERSIST,
                   format_func=lambda n: f"{n} ({kind_text(kinds[n])})",
                   placeholder="Train or load a tokenizer in another view to add it here",
                   help="Tokenizers from this session: a BPE trained here is a curve (every smaller size is a "
                        "prefix of it), and so is a rank file (GPT-2, GPT-4, GPT-4o: its first k ranks are a "
                        "tokenizer of k tokens, as tiktoken encodes with them); any other tokenizer is one point "
                        "at its vocabulary size.")
    extras = {n: candidates[n] for n in st.session_state[state_keys.SIZES_EXTRAS] if n in candidates}
    own = {n: t for n, t in st.session_state.get(HELDOUT, {}).items() if isinstance(t, str) and t}
    key = runs.key

    st.markdown("##### Your text", help="Counted at every size in the right-hand chart and drawn at the chosen "
                                         "sizes further down.")
    st.pills("Samples", list(SAMPLES), format_func=lambda k: SAMPLES[k].label, key=state_keys.SIZES_SAMPLE,
             on_change=use_sample, label_visibility="collapsed")
    st.session_state.setdefault(state_keys.SIZES_TEXT, DEFAULT_TEXT)
    text: str = st.text_area("Text", key=state_keys.SIZES_TEXT, height=90, persist_state=PERSIST,
                             label_visibility="collapsed", placeholder="Type or paste any text…")

    left, right = stacking_pair("sizes_charts")
    with left:
        held, problems = compare(runs, key, extras, tokenizers_key(extras), None, own)
        for p in problems:
            st.warning(escape_markdown(p), icon="⚠️")
        fig = compression_figure(held, title="Compression on held-out text",
                                 subtitle=f"{len(runs.heldout):,} characters")
        st.plotly_chart(half_page(fig), key=state_keys.SIZES_FIG_COMPRESSION, theme=None, config=PLOT_CONFIG)
        download("Compression CSV", held.to_csv(), "tokviz-compression-heldout.csv", "sizes_csv_compression")
    with right:
        if text:
            counted, _ = compare(runs, key, extras, tokenizers_key(extras), text, {})
            # one legend for the two charts: this one's curves are named at their ends
            fig = token_count_figure(counted, title="Tokens in your text", subtitle=f"{len(text):,} characters",
                                     legend=False)
            st.plotly_chart(half_page(fig), key=state_keys.SIZES_FIG_TOKENS, theme=None, config=PLOT_CONFIG)
            download("Token counts CSV", counted.to_csv(), "tokviz-token-counts.csv", "sizes_csv_tokens")
        else:
            st.info("Type or paste some text above, or pick a sample, to count its tokens at every size.",
                    icon="✍️")
    st.caption(POINT_KINDS_NOTE)

    at_chosen_sizes(runs, key, text)


def controls() -> PatternRuns | None:
    """Largest size, patterns and corpus; the runs they give (trained or read from a cache), or None with a hint."""
    # The size and the corpus at their own widths, the patterns in the rest: in fixed columns a 1024-pixel window
    # drew the third pattern's chip under the clear button.
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    keep_choice(state_keys.SIZES_MAX, list(MAX_SIZES), DEFAULT_MAX_SIZE, multi=False)
    max_size: int = row.selectbox("Largest size", MAX_SIZES, key=state_keys.SIZES_MAX, format_func=size_text,
                                  persist_state=PERSIST, width=140,
                                  help="Each pattern is trained once to this size; every smaller size is a prefix.")
    keep_choice(state_keys.SIZES_PATTERNS, list(PATTERNS), list(PATTERNS), multi=True)
    patterns: list[str] = row.multiselect(
        "Pre-tokenizer patterns", PATTERNS, key=state_keys.SIZES_PATTERNS, persist_state=PERSIST, width="stretch",
        help="Same corpus, same sizes, different pre-tokenizer: gpt2 splits numbers anywhere and contractions "
             "after the apostrophe; gpt4 and o200k keep at most 3 digits together and handle whitespace differently.")
    with row.popover("Corpus", icon=":material/upload_file:", width="content"):
        st.file_uploader("A UTF-8 text file to train and measure on", key=state_keys.SIZES_UPLOAD, on_change=on_upload,
                         help=f"Up to {UPLOAD_LIMIT // 2**20} MB; the last 10% is held out. It stays in memory.")
        st.button("Use the built-in corpus", on_click=use_builtin_corpus, icon=":material/undo:")
    if not patterns:
        st.info("Pick at least one pre-tokenizer pattern.", icon="👆")
        return None
    corpus: CorpusText | None = st.session_state.get(state_keys.SIZES_CORPUS)
    if corpus is not None and not corpus.ok:
        st.error(f"{escape_markdown(corpus.problem or '')} Using the built-in corpus instead.", icon="🚫")
        corpus = None
    runs: PatternRuns | None = None
    if corpus is not None:
        try:
            runs = _upload_runs(corpus, max_size, tuple(patterns))
            if runs is None:
                return None  # training: the progress is drawn, the charts follow
        except _Stopped:
            st.info(f"Training on {code_span(corpus.name)} was cancelled; showing the built-in corpus. Upload it "
                    "again or press Train again.", icon="⏹️")
            st.button("Train again", key=state_keys.SIZES_RETRAIN, icon=":material/replay:",
                      on_click=lambda: st.session_state.pop(ENDED, None))
            corpus = None
        except ValueError as e:  # e.g. no line break to hold out at: say why, and go on with the built-in corpus
            st.error(f"Cannot train on {code_span(corpus.name)}: {escape_markdown(str(e))} Using the built-in corpus "
                     "instead.", icon="🚫")
            corpus = None
    if runs is None:
        runs = builtin_runs(max_size, tuple(patterns), str(cache_dir()))
    if corpus is not None and corpus.n_replaced:
        n = corpus.n_replaced
        st.warning(f"{code_span(corpus.name)}: {n:,} {'byte was' if n == 1 else 'bytes were'} not UTF-8 and became "
                   "U+FFFD (the replacement character).", icon="⚠️")
    # No timings: the caption (and the README screenshot) stays the same from run to run, as the sidebar's does.
    how = ("read from the cache folder" if runs.from_cache else
           "trained once, kept in memory" if corpus is not None else "trained once, cached on disk")
    where = "uploaded" if corpus is not None else "built in"
    st.caption(f"Corpus: {code_span(runs.source)} ({where}): {len(runs.train_text):,} characters to train on, "
               f"{len(runs.heldout):,} held out. Runs to {max_size:,}: {how}.")
    note = runs.early_stop_note()
    if note:
        st.info(escape_markdown(note), icon="ℹ️")
    for damaged in runs.notices:  # a damaged cache file, discarded and retrained
        st.warning(escape_markdown(damaged), icon="🧹")
    return runs


def at_chosen_sizes(runs: PatternRuns, key: str, text: str) -> None:
    """Token lengths and the text itself at the sizes the user picks, for one pattern's run."""
    st.markdown("##### At chosen sizes")
    reached = runs.common_max
    # The two choices at their own widths in a row that wraps, the sizes below at full width: in fixed columns a
    # 1024-pixel window cut "o200k" and "held-out text" short and drew the last size's chip under the clear button.
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    keep_choice(state_keys.SIZES_RUN, list(runs.patterns), runs.patterns[0], multi=False)
    # required=True never gives None; the fallback only satisfies the type.
    pattern: str = row.segmented_control("Run", runs.patterns, key=state_keys.SIZES_RUN, required=True,
                                         persist_state=PERSIST,
                                        help="Which pattern's run to look into.") or runs.patterns[0]
    options = list(offered_sizes(reached, nice=NICE_SIZES))
    if state_keys.SIZES_PICK in st.session_state:
        # After a smaller run, sizes above it become its largest size (as the defaults are clipped).
        picked = st.session_state[state_keys.SIZES_PICK]
        st.session_state[state_keys.SIZES_PICK] = sorted({min(s, reached) for s in picked})
    keep_choice(state_keys.SIZES_PICK, options, list(default_sizes(reached)), multi=True)
    sizes = tuple(sorted(st.multiselect("Sizes", options, key=state_keys.SIZES_PICK, format_func=lambda s: f"{s:,}",
                                        persist_state=PERSIST,
                                        help="Each size is the first (size - 256) merges of the same run.")))
    keep_choice(state_keys.SIZES_LENGTHS, list(LENGTH_KINDS), "vocabulary", multi=False)
    kind: str = row.segmented_control(
        "Lengths of", list(LENGTH_KINDS), key=state_keys.SIZES_LENGTHS, required=True,
        format_func=LENGTH_KINDS.__getitem__,
        persist_state=PERSIST, help="Each token of the vocabulary once, or each token of the held-out text.",
    ) or "vocabulary"
    if not sizes:
        st.info("Pick at least one size.", icon="👆")
        return
    tok = runs.run(pattern)
    left, right = st.columns([2, 3], gap="medium")
    with left:
        dist = lengths(runs, key, pattern, sizes, kind)
        fig = length_figure(dist, title="Token lengths", subtitle=f"{tok.name}, {LENGTH_KINDS[kind]}")
        st.plotly_chart(half_page(fig), key=state_keys.SIZES_FIG_LENGTHS, theme=None, config=PLOT_CONFIG)
        download("Lengths CSV", dist.to_csv(), "tokviz-token-lengths.csv", "sizes_csv_lengths")
    with right:
        if not text:
            st.info("Type or paste some text above to see it at each size.", icon="✍️")
            return
        cut = preview_length(text, limit=SIDE_CHARS)
        shown = text[:cut]
        views, totals = side_by_side(runs, key, pattern, sizes, text, shown)
        if cut < len(text):
            st.caption(f"Counts cover all {len(text):,} characters; tokens are drawn for the first {cut:,}.")
        parts = [render_changed_legend(f"changed: not a token at the size before (in {tok.name}'s run)")]
        n_chars, n_bytes = len(text), len(text.encode("utf-8"))
        for v, total in zip(views, totals):
            extra = [] if v is views[0] else [(f"{v.n_changed:,}", "changed")]
            parts.append(render_header(tok.name, TokenCounts(tokens=total, characters=n_chars, bytes=n_bytes),
                                       vocab_size=v.vocab_size, extra=extra))
            parts.append(render_tokens(v.encoding, shown, tokenizer=f"{tok.name}@{v.vocab_size}",
                                       changed={i for i, c in enumerate(v.changed) if c}))
        st.html("".join(parts))
        download("Side by side CSV", rows_to_csv(side_by_side_rows(views)), "tokviz-side-by-side.csv",
                 "sizes_csv_side")


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import sizes as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
