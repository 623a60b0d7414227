"""The Train page: train a BPE vocabulary on uploaded text, watch every merge, replay a step, download it.

Training runs in a child process (:class:`tokviz.training.live.TrainingJob`), never on the page's script thread, so
neither
this page nor other sessions of the server stall. The job lives in ``st.session_state``; a fragment that re-runs every
:data:`POLL_SECONDS` polls it and redraws only the progress bar and the merge table. When the run ends, the fragment
asks for one full run, which files the result (:func:`file_if_finished`, before anything is drawn) and draws it: the
tokenizer joins the session's user tokenizers (so the sidebar offers it to every view), its held-out text joins the
session's held-out texts (for the vocab-sizes view), and the run's record (pre-token counts for
the replay, summary, downloads) joins ``st.session_state[state_keys.TRAIN_RUNS]`` and is kept on the server beside the
tokenizer (:func:`tokviz.pages.registry.keep_run`), so that a refresh, a restart or a link that brings the
tokenizer back brings the run back too (:func:`tokviz.pages.runs.restore_run`). Earlier runs are never replaced; a
failed run adds nothing and removes nothing.
A run's tabs are drawn only when opened, so the replay's counts and the download files are made on first use.
Its Slow motion tab plays the merges back at a chosen pace (with "Slow motion" on, a finished run opens on it).
A run goes on while another view is shown: that view's sidebar follows it (:func:`sidebar_status`).

Like app.py, this module only lays out widgets and calls :mod:`tokviz`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

import streamlit as st

from tokviz.analysis.replay import ReplayStep, candidates_at, step_effect
from tokviz.core.protocol import TokenizerLike
from tokviz.models.bpe import Tokenizer
from tokviz.pages.registry import keep_own, keep_run, session_only
from tokviz.pages.runs import COUNTER, HELDOUT, RUNS
from tokviz.pages.state import GOTO, PERSIST, keep
from tokviz.pages.widgets import metric_row, stacking_pair
from tokviz.training.live import JobSnapshot, TrainingJob, TrainSpec, prewarm
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.charts import merge_count_figure
from tokviz.viewmodels.defaults import DefaultCorpus, default_corpus
from tokviz.viewmodels.display import token_label
from tokviz.viewmodels.export import Download, ExportFailure, downloads
from tokviz.viewmodels.markdown import code_span, escape_markdown
from tokviz.viewmodels.replay_display import candidate_rows, render_step_effect, sample_for_step
from tokviz.viewmodels.slow_motion import (
    DEFAULT_PACE,
    PACES,
    TICK_SECONDS,
    WATCH_TEXT,
    PlayState,
    advance,
    frame,
    render_frame,
    start,
    step,
    toggle,
    with_pace,
)
from tokviz.viewmodels.training_input import (
    PATTERN_CHOICES,
    CorpusBatch,
    chosen_pattern,
    file_stem,
    gather_corpus,
    heldout_text,
    trained_name,
    training_special_tokens,
    upload_limit,
)
from tokviz.viewmodels.training_summary import (
    TrainedRun,
    TrainingSummary,
    merge_rows,
    progress_text,
    summarize,
)

#: Seconds between two redraws of a running job: at least two a second, so the merges are seen as they come.
POLL_SECONDS = 0.4
#: How long each redraw waits for the run to end before drawing progress (a click waits at most this long).
FINISH_WAIT_SECONDS = 0.2
#: Largest vocabulary the form accepts (the issue asks for at least 50,000).
MAX_VOCAB = 100_000
DEFAULT_VOCAB = 2_000
DEFAULT_SPECIALS = "<|endoftext|>"
#: Merges listed for a finished run (every step stays reachable in the replay and in the downloads).
FINISHED_MERGES_SHOWN = 2_000
#: Candidate-pair tables kept per run, so moving the replay slider back and forth does not recount.
REPLAY_CACHE = 64
PATTERN_LABELS = {"gpt2": "gpt2", "gpt4": "gpt4", "o200k": "o200k", "custom": "custom regex"}
SOURCE_LABELS = {"upload": "Upload text files", "builtin": "Built-in corpus"}
SLOW_TAB = "Slow motion"
OWN_SAMPLE = "The lowest, newest and widest tokens: 1885 people said héllo 👋"

# Session keys of this view (widget keys start with "train_" too).
JOB, JOB_META, OUTCOME = state_keys.TRAIN_JOB, state_keys.TRAIN_JOB_META, state_keys.TRAIN_OUTCOME
WATCH_TEXT_KEY, PACE_KEY = state_keys.TRAIN_WATCH_TEXT, state_keys.TRAIN_WATCH_PACE
# the last upload, kept across other views
KEPT_UPLOADS, USING_KEPT = state_keys.TRAIN_UPLOADS, state_keys.TRAIN_UPLOADS_KEPT
ANNOUNCE = state_keys.TRAIN_ANNOUNCE  # a run was filed while another view was shown: toast its outcome once
OUTCOME_ICONS = {"success": "✅", "warning": "⚠️", "info": "ℹ️", "error": "🛑"}
#: First values of the widgets kept for the whole session (see :mod:`tokviz.pages.state`).
KEPT: dict[str, Any] = {
    state_keys.TRAIN_SOURCE: "upload", state_keys.TRAIN_VOCAB: DEFAULT_VOCAB,
    state_keys.TRAIN_SPECIALS: DEFAULT_SPECIALS,
    state_keys.TRAIN_PATTERN: "gpt2", state_keys.TRAIN_REGEX: r"\w+|\s+|[^\w\s]+", state_keys.TRAIN_REPLACE: False,
    state_keys.TRAIN_SAMPLE_KIND: "corpus", state_keys.TRAIN_SAMPLE: OWN_SAMPLE, state_keys.TRAIN_HOLDOUT: True,
    state_keys.TRAIN_SLOW: False,
}
#: The share of the corpus held out (when asked) to measure compression on text the run did not see.
HOLDOUT = 0.1


@st.cache_resource(show_spinner=False)
def builtin_corpus() -> DefaultCorpus:
    """The corpus the built-in tokenizers were trained on (shared by all sessions)."""
    return default_corpus()


# -- inputs --------------------------------------------------------------------------------------------------------
def _corpus_input() -> tuple[tuple[str, ...], str] | None:
    """The training texts and a short description of them, or None (with the reason shown) when not ready."""
    source = st.radio("Corpus", list(SOURCE_LABELS), format_func=SOURCE_LABELS.__getitem__, key=state_keys.TRAIN_SOURCE,
                      persist_state=PERSIST, horizontal=True)
    if source == "builtin":
        corpus = builtin_corpus()
        st.caption(f"{code_span(corpus.source)}: Python's reference documentation, {len(corpus.text):,} characters "
                   "(the text the built-in tokenizers learned from).")
        return (corpus.text,), corpus.source
    limit = upload_limit()
    uploads = _uploads(limit)
    if not uploads:
        st.info("Upload one or more text files, or pick the built-in corpus.", icon="📄")
        return None
    batch = gather_corpus(uploads, max_bytes=limit)
    if batch.n_fixable:
        replace = st.checkbox("Train with replacement characters", key=state_keys.TRAIN_REPLACE, persist_state=PERSIST,
                              help="Each byte that is not valid UTF-8 becomes U+FFFD (�) in the training text.")
        if replace:
            batch = gather_corpus(uploads, max_bytes=limit, replace=True)
    return _report_batch(batch)


def _uploads(limit: int) -> list[tuple[str, bytes]] | None:
    """The uploaded files as (name, bytes); the last upload is kept while other views are shown.

    Streamlit empties a file uploader that a run does not draw, so after a look at another view the uploader comes
    back empty. Its widget state is gone then too, which tells that case apart from the user removing the files.
    """
    returning = state_keys.TRAIN_FILES not in st.session_state
    files = st.file_uploader("Text files (UTF-8)", accept_multiple_files=True, key=state_keys.TRAIN_FILES,
                             help=f"One or more text files, up to {limit / 1e6:g} MB each; they are joined with a "
                                  "line break. The last tenth is held out to measure compression.")
    if files:
        uploads = [(f.name, f.getvalue()) for f in files]
        st.session_state[KEPT_UPLOADS] = uploads
        st.session_state[USING_KEPT] = False
        return uploads
    kept: list[tuple[str, bytes]] | None = st.session_state.get(KEPT_UPLOADS)
    if kept and (returning or st.session_state.get(USING_KEPT)):
        st.session_state[USING_KEPT] = True
        note, forget = st.columns([3, 1], vertical_alignment="center")
        note.caption(f"Using the files uploaded before: {', '.join(code_span(n) for n, _ in kept)}. Upload others to "
                     "replace them.")
        forget.button("Forget", key=state_keys.TRAIN_FORGET, icon="🗑️", on_click=_forget_uploads, width="stretch",
                      help="Drop the files uploaded before.")
        return kept
    _forget_uploads()  # the user removed them from the uploader
    return None


def _forget_uploads() -> None:
    st.session_state.pop(KEPT_UPLOADS, None)
    st.session_state.pop(USING_KEPT, None)


def _report_batch(batch: CorpusBatch) -> tuple[tuple[str, ...], str] | None:
    for problem in batch.problems:
        st.error(escape_markdown(problem), icon="⚠️")
    if not batch.ok:
        return None
    if batch.n_replaced:
        st.warning(f"Replaced {batch.n_replaced:,} invalid UTF-8 byte{'s' if batch.n_replaced != 1 else ''} with "
                   f"U+FFFD (�) in {', '.join(map(code_span, batch.replaced_in))}.", icon="🩹")
    n = len(batch.names)
    st.caption(f"{n} file{'s' if n != 1 else ''}, {batch.n_bytes:,} bytes, {batch.n_chars:,} characters.")
    return batch.texts, ", ".join(batch.names)


def _settings() -> tuple[int | None, tuple[str, ...] | None, str]:
    """Vocabulary size and special tokens (each None, with the reason shown, when it cannot be used) and pattern as
    typed (the trainer validates the rest when starting)."""
    # No min_value or max_value: out of range, Streamlit's box would keep its old value with no more than a red
    # outline, and Train would then run with a size the user did not ask for. Every value is taken and checked below.
    vocab = st.number_input("Vocabulary size", step=1000, key=state_keys.TRAIN_VOCAB, persist_state=PERSIST,
                            help="256 single bytes + the special tokens + the merges to learn. If the corpus runs "
                                 "out of pairs first, training stops early and keeps what it learned.")
    specials = st.text_input("Special tokens", key=state_keys.TRAIN_SPECIALS, persist_state=PERSIST,
                             help="Separated by commas or spaces. Each is one token of its own and never merged; "
                                  "the text is split at them before counting.")
    choice = st.segmented_control("Pre-tokenizer", PATTERN_CHOICES, format_func=PATTERN_LABELS.__getitem__,
                                  key=state_keys.TRAIN_PATTERN, persist_state=PERSIST, required=True,
                                  help="The regex that cuts text into pieces before merging: merges never cross a "
                                       "piece boundary.")
    st.toggle("Hold out a tenth", key=state_keys.TRAIN_HOLDOUT, persist_state=PERSIST,
              help="Keep the last 10% of the corpus out of training to measure compression on text the run did not "
                   "see. Turn it off to train on all of it (to match a reference run, such as CS336's merges).")
    st.toggle("Slow motion", key=state_keys.TRAIN_SLOW, persist_state=PERSIST,
              help="When the run is done, play its merges one by one at a pace you choose (merges per second), "
                   "with pause and step: the Slow motion tab. Training itself takes a second or two.")
    regex = ""
    if choice == "custom":
        regex = st.text_input("Custom regex", key=state_keys.TRAIN_REGEX, persist_state=PERSIST,
                              help="Python `regex` syntax; every match is a piece.")
    try:
        parsed: tuple[str, ...] | None = training_special_tokens(specials)
    except ValueError as e:
        st.error(escape_markdown(str(e)), icon="🛑")
        parsed = None
    size = vocab_size_or_problem(vocab, n_special=len(set(parsed or ())))
    if isinstance(size, str):
        st.error(escape_markdown(size), icon="🛑")
    return (size if isinstance(size, int) else None), parsed, chosen_pattern(choice or "gpt2", regex)


def vocab_size_or_problem(value: object, *, n_special: int) -> int | str:
    """The vocabulary size typed, or the message that says why Train cannot use it and what would do.

    >>> vocab_size_or_problem(1000, n_special=1), vocab_size_or_problem(100, n_special=1)[:40]
    (1000, 'Vocabulary size 100 is too small: it mus')
    """
    from tokviz.training.trainer import validate_vocab_size

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"Vocabulary size {value!r} is not a whole number: type one between 256 and {MAX_VOCAB:,}."
    try:
        validate_vocab_size(value, n_special)
    except ValueError:
        base = 256 + n_special
        return (f"Vocabulary size {value:,} is too small: it must be at least {base:,} (256 single bytes + "
                f"{n_special} special token{'s' if n_special != 1 else ''}). Train stays off until it is.")
    if value > MAX_VOCAB:
        return (f"Vocabulary size {value:,} is too large for this page: at most {MAX_VOCAB:,}. Train stays off until "
                "it is.")
    return value


# -- running -------------------------------------------------------------------------------------------------------
def _start(texts: tuple[str, ...], described: str, vocab: int, specials: tuple[str, ...], pattern: str) -> None:
    holdout = HOLDOUT if st.session_state.get(state_keys.TRAIN_HOLDOUT, True) else 0.0
    spec = TrainSpec(texts=texts, vocab_size=vocab, special_tokens=specials, pattern=pattern, holdout=holdout)
    try:
        job = TrainingJob.start(spec)
    except ValueError as e:  # bad vocab size, bad regex, empty corpus: said before anything starts
        st.session_state[OUTCOME] = ("error", escape_markdown(str(e)))
        return
    st.session_state[JOB] = job
    st.session_state[JOB_META] = {"texts": texts, "described": described, "pattern": pattern}
    st.session_state.pop(OUTCOME, None)


def _file(job: TrainingJob, snap: JobSnapshot) -> None:
    """File a finished run: register its tokenizer (if it learned anything usable) and say how it ended."""
    meta = st.session_state.pop(JOB_META, {})
    st.session_state.pop(JOB, None)
    tok = snap.tokenizer
    if snap.status == "error" or tok is None:
        kind = "error" if snap.status == "error" else "info"
        extra = " Nothing was added; tokenizers trained before are still here." if kind == "error" else ""
        said = escape_markdown(snap.message or "Training ended without a tokenizer.")
        st.session_state[OUTCOME] = (kind, said + extra)
        return
    if snap.status == "cancelled" and not tok.merges:
        st.session_state[OUTCOME] = ("info", "Cancelled before the first merge; nothing was added.")
        return
    index = st.session_state[COUNTER] = st.session_state.get(COUNTER, 0) + 1
    user = st.session_state.setdefault(state_keys.USER_TOKENIZERS, {})
    tok.name = trained_name(index, pattern=job.spec.pattern, vocab_size=tok.vocab_size,
                            cancelled=snap.status == "cancelled", taken=user)
    # Kept on the server, so a refresh brings it back; else why not, said below.
    not_kept = keep_own(tok, tok.name, source="trained in the Train page")
    # The vocab-sizes view measures a session tokenizer on its own held-out text when it finds it here.
    heldout = heldout_text(meta.get("texts", ()), fraction=job.spec.holdout)
    if heldout:
        st.session_state.setdefault(HELDOUT, {})[tok.name] = heldout
    summary = summarize(tok, seconds=snap.seconds, heldout_ratio=snap.heldout_ratio)
    run = st.session_state.setdefault(RUNS, {})[tok.name] = TrainedRun(
        id=index, tokenizer=tok, counts=snap.counts, merges=snap.merges, summary=summary,
        texts=tuple(meta.get("texts", ())), described=meta.get("described", ""))
    st.session_state[state_keys.TRAIN_RUN] = tok.name  # show the newest run
    if st.session_state.get(state_keys.TRAIN_SLOW) and tok.merges:
        # open on the player, playing from the first merge
        st.session_state[f"{state_keys.TRAIN_TAB_PREFIX}{run.id}"] = SLOW_TAB
        _play_from_start(run)
    kept = keep_run(tok.name, run, holdout=job.spec.holdout)  # its summary, merges and replay come back with it
    where = "It is now in the sidebar's tokenizer list, for every view."
    if not_kept:
        where += escape_markdown(session_only(tok.name, not_kept))
    elif not kept.kept:
        where += (" The record of its run could not be written on the server, so after a refresh (or in a link) its "
                  "summary, merges and replay are gone; the tokenizer itself is kept.")
    elif not kept.corpus_kept:
        where += (" Its corpus is too big to keep on the server (or the server could not write it), so after a "
                  "refresh (or in a link) its merge replay offers only your own text.")
    if snap.status == "cancelled":
        kind, text = "info", f"Cancelled: kept the {len(tok.merges):,} merges learned so far as **{tok.name}**."
    elif summary.stopped_early:
        kind, text = "warning", (f"{escape_markdown(summary.message)} Kept what it learned as **{tok.name}** "
                                 f"(vocabulary {tok.vocab_size:,} of the {summary.requested_vocab_size:,} asked for).")
    else:
        kind, text = "success", f"Trained **{tok.name}**: {len(tok.merges):,} merges in {summary.seconds:.1f} s."
    st.session_state[OUTCOME] = (kind, f"{text} {where}")


@st.fragment(run_every=POLL_SECONDS)
def _live_panel() -> None:
    """Progress and the newest merges of the running job, redrawn on its own every :data:`POLL_SECONDS`."""
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        return
    snap = _running_snapshot(job)
    bar, cancel = st.columns([6, 1], vertical_alignment="bottom")
    bar.progress(snap.fraction, text=progress_text(snap))
    cancel.button("Cancel", key=state_keys.TRAIN_CANCEL, on_click=job.cancel, icon="⏹️", width="stretch",
                  help="Stop now and keep the merges learned so far.")
    if snap.merges:
        # The fall of these counts is the lesson: the first merges join the commonest pairs, later ones rare pairs.
        st.plotly_chart(merge_count_figure([m.count for m in snap.merges]), key=state_keys.TRAIN_LIVE_COUNTS,
                        theme=None, config={"displayModeBar": False})
    _merge_table(snap.merges, live=True)


def _merge_table(merges: tuple[Any, ...], *, live: bool, done: bool = False) -> None:
    import pandas as pd  # imported on first use, as app.py does (it costs a cold start ~0.3 s)

    columns = ["rank", "left", "right", "new token", "bytes", "count"]
    if live:
        rows = merge_rows(merges)
        st.caption(f"**{len(merges):,}** merges learned{'' if done else ' so far'}; the newest {len(rows):,} first. "
                   "Labels show spaces as ·, newlines as ↵, and bytes that are not whole characters in hex ⟨e4 bd⟩.")
    else:
        rows = list(reversed(merge_rows(merges[:FINISHED_MERGES_SHOWN], last=FINISHED_MERGES_SHOWN)))
        more = f" (the first {len(rows):,} of {len(merges):,})" if len(merges) > len(rows) else ""
        st.caption(f"Every merge in the order it was learned{more}; count is the pair's count when it was merged.")
    frame = pd.DataFrame(rows, columns=columns)
    st.dataframe(frame, hide_index=True, height=320, width="stretch",
                 column_config={"rank": st.column_config.NumberColumn(width="small"),
                                "count": st.column_config.NumberColumn(format="localized")})


def _outcome() -> None:
    got = st.session_state.get(OUTCOME)
    if not got:
        return
    kind, text = got
    show = {"success": st.success, "warning": st.warning, "info": st.info, "error": st.error}[kind]
    show(text, icon=OUTCOME_ICONS[kind])


# -- results -------------------------------------------------------------------------------------------------------
def _show_in_tokenize(name: str) -> None:
    chosen = [n for n in st.session_state.get(state_keys.CHOSEN, []) if n != name]
    st.session_state[state_keys.CHOSEN] = [*chosen, name]
    st.session_state[GOTO] = "tokenize"  # a callback cannot switch pages: the frame does it at the top of the run


def _summary(run: TrainedRun) -> None:
    from tokviz.viewmodels.charts import length_figure

    s: TrainingSummary = run.summary
    ratio = f"{s.heldout_ratio:.2f}" if s.heldout_ratio is not None else "n/a"
    metric_row([
        ("Vocabulary size", f"{s.vocab_size:,}",
         f"Asked for {s.requested_vocab_size:,}: 256 bytes + {s.n_special} special + merges."),
        ("Merges", f"{s.n_merges:,}", None),
        ("Time", f"{s.seconds:.1f} s",
         f"Wall time from start to result; counting pre-tokens took {s.counting_seconds:.2f} s of it."),
        ("Held-out compression", ratio, "UTF-8 bytes per token on the last tenth of the corpus, which training did "
                                        "not see (n/a: trained on all of it, or the corpus has no line break to cut "
                                        "at)."),
    ])
    if not s.reached:
        st.caption(f"Stopped at {s.vocab_size:,} of {s.requested_vocab_size:,}: {escape_markdown(s.message)}")
    left, right = st.columns([2, 3], gap="large")
    with left:
        import pandas as pd

        st.markdown("**Longest tokens**")
        longest = pd.DataFrame([{"id": t.id, "bytes": len(t.token), "token": t.label} for t in s.longest])
        st.dataframe(longest, hide_index=True, width="stretch",
                     column_config={"id": st.column_config.NumberColumn(width="small"),
                                    "bytes": st.column_config.NumberColumn(width="small"),
                                    "token": st.column_config.TextColumn(width="large")})
        st.button("Compare it in Tokenize", key=f"{state_keys.TRAIN_COMPARE_PREFIX}{run.id}",
                  on_click=_show_in_tokenize, args=(s.name,), icon="🔤",
                  help="Adds it to the chosen tokenizers and opens the Tokenize view.")
    with right:
        fig = length_figure(s.lengths, title="Token lengths in the vocabulary", share=False)
        fig.update_layout(showlegend=False, height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10})
        st.plotly_chart(fig, config={"displayModeBar": False}, key=f"{state_keys.TRAIN_LENGTHS_PREFIX}{run.id}")
    if run.merges:
        # What the live panel showed while the run trained, kept: the pair counts falling, and the newest merges.
        # Side by side only where the table's six columns fit beside the chart (a narrower place stacks them).
        chart, table = stacking_pair(f"{state_keys.TRAIN_COUNTS_PAIR_PREFIX}{run.id}")
        with chart:
            st.plotly_chart(merge_count_figure([m.count for m in run.merges],
                                               title=f"Count of each merged pair: {len(run.merges):,} merges"),
                            key=f"{state_keys.TRAIN_COUNTS_PREFIX}{run.id}", theme=None,
                            config={"displayModeBar": False})
        with table:
            _merge_table(run.merges, live=True, done=True)


def _replay_step(run: TrainedRun, step: int) -> tuple[ReplayStep, str]:
    """The candidate pairs before ``step`` and a corpus stretch where the step applies (kept per run)."""
    cache = cast(dict[int, tuple[ReplayStep, str]], run.replay)
    if step not in cache:
        if len(cache) >= REPLAY_CACHE:
            cache.pop(next(iter(cache)))
        tok = run.tokenizer
        if run.counts is None:  # the tab says so before asking for a step
            raise ValueError("This run kept no pre-token counts, so its steps cannot be replayed.")
        cache[step] = (candidates_at(tok, run.counts, step=step, top=10),
                       sample_for_step(tok, run.texts, step=step))
    return cache[step]


@st.fragment
def _go_to_step(slider_key: str, typed_key: str) -> None:
    st.session_state[slider_key] = int(st.session_state[typed_key])


def _replay(run: TrainedRun) -> None:
    """Slider over the merge steps; moving it re-runs only this fragment."""
    tok: Tokenizer = run.tokenizer
    n = len(tok.merges)
    if n == 0 or run.counts is None:
        st.info("This run learned no merges, so there is nothing to replay.")
        return
    k = 1
    if n > 1:
        slider_key = f"{state_keys.TRAIN_STEP_PREFIX}{run.id}"
        linked = st.session_state.get(slider_key)
        if isinstance(linked, int) and not 1 <= linked <= n:  # a link's step past this run's merges
            st.session_state[slider_key] = min(max(linked, 1), n)
        c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
        k = c1.slider("Merge step", 1, n, key=slider_key, help="Step k learns merge k.")
        # A step typed here moves the slider: reaching step 65 takes one entry, not 64 key presses.
        go_key = f"{state_keys.TRAIN_STEP_GO_PREFIX}{run.id}"
        c2.number_input("Go to step", 1, n, value=k, key=go_key, on_change=_go_to_step, args=(slider_key, go_key))
    step = k - 1
    try:
        cands, corpus_sample = _replay_step(run, step)
    except ValueError as e:
        st.warning(escape_markdown(str(e)))
        return
    left, right = st.columns(2, gap="large")
    with left:
        a, b = cands.merge
        st.markdown(f"**Step {k:,}** merged {code_span(token_label(a))} + {code_span(token_label(b))} → "
                    f"{code_span(token_label(a + b))}")
        st.caption(cands.tie_note + " Counts are over the corpus as cut by the merges before this step.")
        import pandas as pd

        st.dataframe(pd.DataFrame(candidate_rows(cands)), hide_index=True, width="stretch",
                     column_config={"count": st.column_config.NumberColumn(format="localized"),
                                    "note": st.column_config.TextColumn(width="medium")})
    with right:
        if run.texts_kept:
            kind = st.segmented_control("Sample text", ["corpus", "own"], key=state_keys.TRAIN_SAMPLE_KIND,
                                        persist_state=PERSIST, required=True,
                                        format_func={"corpus": "A corpus line with this pair",
                                                     "own": "Your own text"}.__getitem__)
        else:
            kind = "own"
            st.caption("This run's corpus is not kept on the server (too big to keep, or dropped since), so no corpus "
                       "line can be shown: try the step on your own text.")
        if kind == "own":
            text = st.text_input("Your text", key=state_keys.TRAIN_SAMPLE, persist_state=PERSIST)
        else:
            text = corpus_sample
        if not text:
            st.info("Type a text to see what this step does to it." if kind == "own" else
                    "No line of the corpus shows this step on its own; pick “Your own text” to try one.")
            return
        effect = step_effect(tok, text, step=step)
        st.html(render_step_effect(effect, tokenizer=tok.name))
        if effect.n_merged:
            st.caption(f"This step joined {effect.n_merged:,} pair{'s' if effect.n_merged != 1 else ''} in the "
                       "sample (outlined in red).")
        else:
            st.caption("This step changes nothing here: the pair does not occur in this text once earlier merges "
                       "and the pre-tokenizer have cut it.")


# -- slow motion: a finished run's merges played back at a chosen pace, with pause and step -------------------------
# The player (:mod:`tokviz.viewmodels.slow_motion`) lives in ``st.session_state`` per run. While it plays, a fragment
# redraws itself every TICK_SECONDS; paused, the same drawing runs in a fragment without a timer, so a paused page
# costs nothing. Play and pause swap the two with one full rerun. A frame (progress, headline, sample, chart, table)
# is one piece of HTML drawn from one position: a plotly chart and a data grid redraw after the rest in the browser,
# so they could show another count than the progress line.
def _player_key(run: TrainedRun) -> str:
    return f"{state_keys.TRAIN_WATCH_PREFIX}{run.id}"


def _player(run: TrainedRun) -> PlayState:
    key = _player_key(run)
    state: PlayState | None = st.session_state.get(key)
    if state is None:
        state = st.session_state[key] = start(pace=st.session_state.get(PACE_KEY, DEFAULT_PACE))
    return state


def _play_from_start(run: TrainedRun) -> None:
    """Start the run's player from its first merge; its clock starts with the first frame drawn, not while the rest
    of the page is still being laid out."""
    st.session_state[_player_key(run)] = start(pace=st.session_state.get(PACE_KEY, DEFAULT_PACE))


def _on_toggle(key: str, n: int) -> None:
    st.session_state[key] = toggle(st.session_state[key], n=n, now=time.monotonic())


def _on_step(key: str, n: int, by: int) -> None:
    st.session_state[key] = step(st.session_state[key], by=by, n=n, now=time.monotonic())


def _on_pace(key: str) -> None:
    st.session_state[key] = with_pace(st.session_state[key], st.session_state[PACE_KEY], now=time.monotonic())


def _watch(run: TrainedRun) -> None:
    """The Slow motion tab: the player, playing on a timer or paused without one."""
    if not run.merges:
        st.info("This run learned no merges, so there is nothing to play.")
        return
    st.caption("The run's merges one by one, at the pace you choose: the pair, how often it was seen, the text it "
               "cuts, and the chart and table growing with it. Pause at any time, or step through one merge at a "
               "time.")
    st.session_state.setdefault(WATCH_TEXT_KEY, WATCH_TEXT)
    st.text_input("Text to watch", key=WATCH_TEXT_KEY, persist_state=PERSIST,
                  help="Cut at every step by the merges learned so far; the tokens the newest merge made are outlined.")
    if _player(run).playing:
        _playing(run)
    else:
        _paused(run)


@st.fragment(run_every=TICK_SECONDS)
def _playing(run: TrainedRun) -> None:
    _draw_frame(run, playing=True)


@st.fragment
def _paused(run: TrainedRun) -> None:
    _draw_frame(run, playing=False)


def _draw_frame(run: TrainedRun, *, playing: bool) -> None:
    key, n = _player_key(run), len(run.merges)
    state = advance(_player(run), now=time.monotonic(), n=n)
    st.session_state[key] = state
    if state.playing != playing:
        st.rerun()  # play or pause was pressed, or the end was reached: the other fragment takes over
    controls = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    controls.button("Pause" if state.playing else ("Play again" if state.shown >= n else "Play"),
                    key=f"{key}_toggle", icon=":material/pause:" if state.playing else ":material/play_arrow:",
                    type="primary", on_click=_on_toggle, args=(key, n))
    controls.button("Back", key=f"{key}_back", icon=":material/skip_previous:", on_click=_on_step, args=(key, n, -1),
                    disabled=state.shown == 0, help="One merge back (pauses).")
    controls.button("Step", key=f"{key}_step", icon=":material/skip_next:", on_click=_on_step, args=(key, n, 1),
                    disabled=state.shown >= n, help="One merge forward (pauses).")
    st.session_state.setdefault(PACE_KEY, DEFAULT_PACE)
    controls.segmented_control("Merges per second", PACES, key=PACE_KEY, on_change=_on_pace, args=(key,),
                               format_func=lambda p: f"{p:g}", required=True)
    text = st.session_state.get(WATCH_TEXT_KEY) or WATCH_TEXT
    f = frame(run.tokenizer, run.merges, text, shown=state.shown)
    counts = [m.count for m in run.merges]
    # One piece of HTML: progress, headline, sample, chart and table are drawn together, never at two counts.
    st.html(render_frame(f, tokenizer=f"{run.tokenizer.name}@{f.shown}", lo=min(counts), hi=max(counts)))


def _downloads(run: TrainedRun) -> None:
    st.caption("Each file loads back to the same ids, with `tokviz encode`/`convert` or `tokviz.load_tokenizer`; "
               "the command under each button does it.")
    if run.downloads is None:
        run.downloads = downloads(run.tokenizer, stem=file_stem(run.tokenizer.name))
    for item, col in zip(run.downloads, st.columns(len(run.downloads), border=True)):
        with col:
            if isinstance(item, ExportFailure):
                st.markdown(f"**{item.label}**")
                st.warning(escape_markdown(item.message))
                continue
            d = cast(Download, item)
            st.download_button(d.label, data=d.data, file_name=d.file_name, mime=d.mime, on_click="ignore",
                               key=f"{state_keys.TRAIN_DL_PREFIX}{d.format}_{run.id}", icon="⬇️", width="stretch")
            st.caption(f"`{d.file_name}`, {len(d.data):,} bytes." + "".join(f" Note: {n}" for n in d.notes))
            st.code(d.load_command, language="bash", wrap_lines=True)


def _results() -> None:
    runs: dict[str, TrainedRun] = st.session_state.get(RUNS, {})
    if not runs:
        return
    st.divider()
    names = list(runs)[::-1]  # newest first
    if st.session_state.get(state_keys.TRAIN_RUN) not in runs:
        st.session_state[state_keys.TRAIN_RUN] = names[0]
    name = st.selectbox("Trained tokenizer", names, key=state_keys.TRAIN_RUN,
                        help="Every tokenizer trained in this session; each is also in the sidebar's list.")
    run = runs[name]
    specials = ", ".join(map(code_span, run.tokenizer.special_tokens or [])) or "none"
    st.caption(f"Trained on {escape_markdown(run.described)} · pattern {code_span(run.tokenizer.pretokenizer.label)} "
               f"· special tokens: {specials}")
    # Only the open tab is drawn (each switch reruns the page): the replay's pair counts, the long merge table and
    # the three download files cost nothing until asked for, so a finished run shows up sooner.
    tabs = st.tabs(["Summary", SLOW_TAB, "Merges", "Merge replay", "Download"],
                   key=f"{state_keys.TRAIN_TAB_PREFIX}{run.id}", on_change="rerun")
    for tab, draw in zip(tabs, (_summary, _watch, lambda r: _merge_table(r.merges, live=False), _replay,
                                _downloads)):
        if tab.open:
            with tab:
                draw(run)


# -- while another view is shown -----------------------------------------------------------------------------------
def file_if_finished() -> None:
    """File a run that ended while another view was shown, so that every view's sidebar lists its tokenizer.

    Called at the top of every page run, before the tokenizer list is built. On another view the outcome is also
    announced once, as a toast (the Train view shows it as its message instead).
    """
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        return
    snap = job.poll()
    if snap.finished:
        _file(job, snap)
        if st.session_state.get(state_keys.VIEW) != "train":
            st.session_state[ANNOUNCE] = True


def sidebar_status() -> None:
    """In the sidebar of the other views: a running job's progress (redrawn on its own), or the toast of one that
    has just been filed."""
    if st.session_state.pop(ANNOUNCE, False):
        kind, text = st.session_state.get(OUTCOME, ("info", "Training ended."))
        st.toast(text, icon=OUTCOME_ICONS[kind])
    if st.session_state.get(JOB) is not None:
        _background_progress()


def _running_snapshot(job: TrainingJob) -> JobSnapshot:
    """The running job's snapshot for a redraw. It waits a little for the run's end, so the result shows the moment it
    arrives rather than at the next redraw; at the end, one full page run files it (:func:`file_if_finished`, before
    the sidebar lists the tokenizers) and draws it."""
    snap = job.poll(finish_within=FINISH_WAIT_SECONDS)
    if snap.finished:
        st.rerun()
    return snap


@st.fragment(run_every=POLL_SECONDS)
def _background_progress() -> None:
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        return
    snap = _running_snapshot(job)
    st.progress(snap.fraction, text=progress_text(snap))
    st.caption("Training runs on while you look at other views; the result joins the list above when it is done.")


# -- the view ------------------------------------------------------------------------------------------------------
def view(tokenizers: Mapping[str, TokenizerLike], chosen: list[str]) -> None:
    """Upload or pick a corpus, set the size, specials and pattern, train live; then summary, replay, downloads."""
    st.subheader("Train", anchor=False)
    st.caption("Train a byte-level BPE vocabulary on your own text and watch every merge as it is learned. Training "
               "runs in a separate process: the page stays usable, and you can cancel at any time.")
    for key, first in KEPT.items():
        keep(key, first)
    job: TrainingJob | None = st.session_state.get(JOB)  # a finished one was filed at the top of this page run
    left, right = st.columns([3, 2], gap="large", border=True)
    with left:
        corpus = _corpus_input()
    with right:
        vocab, specials, pattern = _settings()
    running = job is not None
    if not running:
        prewarm()  # a training process waits, started, for the next press of Train
    go = st.button("Train", type="primary", icon="▶️", key=state_keys.TRAIN_START,
                   disabled=running or corpus is None or specials is None or vocab is None,
                   help="Training is running; cancel it to start another." if running else None)
    if go and corpus is not None and specials is not None and vocab is not None and not running:
        _start(*corpus, vocab, specials, pattern)
        st.rerun()  # draw the running state (button disabled, live panel) from the top
    _outcome()
    if running:
        _live_panel()
    _results()


if __name__ == "__main__":
    # Streamlit runs this file as the page's script. Draw with the imported module, not this copy, so that its
    # caches and fragments are the ones the rest of the app (and the tests) see.
    from tokviz.pages import train as page
    from tokviz.pages.registry import run_page

    run_page(page.view)
