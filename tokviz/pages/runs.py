"""The session's Train runs, by the name of the tokenizer each made: filed by the Train page, brought back with
their tokenizer (a refresh, a restart, a link) and dropped with it by the tokenizer list (:mod:`tokviz.pages.registry`).

Its own module so that the list and the Train page both use it without importing each other.
"""

from __future__ import annotations

import streamlit as st

from tokviz.models.bpe import Tokenizer
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.run_store import StoredRun
from tokviz.viewmodels.training_input import heldout_text
from tokviz.viewmodels.training_summary import TrainedRun

#: Session state keys: name -> TrainedRun of every run, and the last run id given out.
RUNS, COUNTER = state_keys.TRAIN_RUNS, state_keys.TRAIN_COUNTER
#: Session state key: name -> the held-out text of a run (the Vocab sizes view measures on it).
HELDOUT = state_keys.USER_HELDOUT


def restore_run(name: str, stored: StoredRun, tok: Tokenizer) -> None:
    """File a run brought back from the server with its tokenizer ``name`` (a refresh, a restart, a link), as the
    Train page filed it: its summary, merges, replay and downloads show again.

    It keeps the id it had, so the link's replay step and open tab (keyed by the id) apply to it, unless this
    session already uses that id.
    """
    runs: dict[str, TrainedRun] = st.session_state.setdefault(RUNS, {})
    if name in runs:
        return
    taken = {r.id for r in runs.values()}
    counter = st.session_state.get(COUNTER, 0)
    run_id = stored.id if stored.id > 0 and stored.id not in taken else max(taken | {counter}) + 1
    st.session_state[COUNTER] = max(counter, run_id)  # the next run trained here takes a fresh id
    runs[name] = stored.trained_run(tok, id=run_id)
    if stored.texts_kept:
        heldout = heldout_text(stored.texts, fraction=stored.holdout)
        if heldout:
            st.session_state.setdefault(HELDOUT, {})[name] = heldout


def forget_run(name: str) -> None:
    """Drop the run of the session tokenizer ``name`` (its tokenizer was removed)."""
    st.session_state.get(RUNS, {}).pop(name, None)
    st.session_state.get(HELDOUT, {}).pop(name, None)
