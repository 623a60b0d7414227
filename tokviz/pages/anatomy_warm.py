"""Rank files' merge lists derived off the click path, so that a click on a GPT-4o token answers at once.

A rank file (GPT-2, GPT-4, GPT-4o) has no merge list; the anatomy panel needs one (the merge tree, the longer
tokens a token is part of) and deriving it from 200k ranks costs seconds of pure Python. When a page draws a rank
file's tokens, the list is derived in a child process (another core; the server's own thread stays free) and handed
to the tokenizer when done. A click before then derives it as before.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from threading import Lock

import streamlit as st

from tokviz.analysis.anatomy import bpe_model
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.tiktoken_file import merges_from_ranks
from tokviz.models.bpe import Tokenizer


class _Warmer:
    """One child process for the server, and the models whose merges it is deriving (by id)."""

    def __init__(self) -> None:
        self.lock = Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.jobs: dict[int, Future[tuple[list[tuple[bytes, bytes]], list[bytes]]]] = {}

    def submit(self, model: Tokenizer) -> None:
        with self.lock:
            if id(model) in self.jobs or "merges" in model.__dict__:
                return
            if self.pool is None:
                # spawn: a fork of a threaded server may copy a held lock
                self.pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
            specials = set(model.special_ids.values())
            ranks = {t: r for r, t in model.vocab.items() if r not in specials}
            job = self.pool.submit(merges_from_ranks, ranks)
            self.jobs[id(model)] = job
        job.add_done_callback(lambda done: _install(model, done))


def _install(model: Tokenizer, done: Future[tuple[list[tuple[bytes, bytes]], list[bytes]]]) -> None:
    # The same list ``model.merges`` computes on first read (a cached property): set where it is not read yet.
    if done.cancelled() or done.exception() is not None:
        return
    merges, _ = done.result()
    model.__dict__.setdefault("merges", [(bytes(a), bytes(b)) for a, b in merges])


@st.cache_resource(show_spinner=False)
def _warmer() -> _Warmer:
    return _Warmer()


#: Set to 0 to derive merge lists only when a click needs them (the test suite does: its servers and AppTest runs
#: would each spend a core's seconds on lists no test reads).
WARM_ENV = "TOKVIZ_WARM_MERGES"


def warm(tokenizers: Mapping[str, TokenizerLike], names: Iterable[str]) -> None:
    """Start deriving the merge lists of the named rank-rule tokenizers that are loaded and have none yet."""
    if os.environ.get(WARM_ENV, "1") == "0":
        return
    is_loaded = getattr(tokenizers, "is_loaded", None)
    for name in names:
        if is_loaded is not None and not is_loaded(name):
            continue
        try:
            model = bpe_model(tokenizers[name])
        except (ValueError, KeyError):
            continue
        if model.rule == "ranks" and "merges" not in model.__dict__:
            _warmer().submit(model)
