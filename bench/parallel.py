"""Encoding one large text on several cores: a pool of forked workers that inherit a warm tokenizer.

The text is cut at safe positions (where one pass would cut anyway, see
:meth:`tokviz.pre_tokenizers.pretokenizer.PreTokenizer.safe_cut`), each part is encoded in a worker, and the ids come
back as packed
machine integers (``array.tobytes``), which crosses a pipe far faster than a pickled list of a million ints.
Workers are forked after the tokenizer is built (and, ideally, has seen similar text), so its piece cache is warm in
every worker from the start. Linux/macOS only (needs the ``fork`` start method); elsewhere it encodes in-process.

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 50], vocab_size=262)
    >>> with ParallelEncoder(tok, workers=2) as pe:
    ...     pe.encode("low lower " * 1000) == tok.encode("low lower " * 1000)
    True
"""

from __future__ import annotations

import multiprocessing as mp
import os
from array import array
from types import TracebackType
from typing import Any

from tokviz.core.lifeline import die_with_parent
from tokviz.core.protocol import encode_as_shown

# Set in the parent just before forking; each worker inherits it (with its warm cache) instead of unpickling it.
_TOKENIZER: Any = None


def _encode_part(text: str) -> bytes:
    return array("q", encode_as_shown(_TOKENIZER, text)).tobytes()


def split_safely(text: str, pretokenizer: Any, parts: int) -> list[str]:
    """Cut ``text`` into about ``parts`` pieces at safe positions; their encodings concatenate to the whole's."""
    out: list[str] = []
    rest = text
    for k in range(parts, 1, -1):
        target = len(rest) // k
        cut = pretokenizer.safe_cut(rest[: target + 1]) if target > 0 else 0
        if cut <= 0:
            continue
        out.append(rest[:cut])
        rest = rest[cut:]
    out.append(rest)
    return [p for p in out if p]


class ParallelEncoder:
    """A context manager holding a fork pool of ``workers`` processes for one tokenizer."""

    def __init__(self, tokenizer: Any, *, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}.")
        self.tokenizer = tokenizer
        self.workers = workers
        self._pool: Any = None

    def __enter__(self) -> ParallelEncoder:
        global _TOKENIZER
        if self.workers > 1 and "fork" in mp.get_all_start_methods():
            _TOKENIZER = self.tokenizer
            # Workers die with this process, so one killed outright leaves no worker behind.
            self._pool = mp.get_context("fork").Pool(self.workers, initializer=die_with_parent,
                                                     initargs=(os.getpid(),))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def encode(self, text: str) -> list[int]:
        """The same ids as ``tokenizer.encode(text)``, computed on the pool's workers."""
        if self._pool is None or len(text) < 10_000:
            return encode_as_shown(self.tokenizer, text)
        parts = split_safely(text, self.tokenizer.pretokenizer, self.workers)
        ids = array("q")
        for packed in self._pool.map(_encode_part, parts, chunksize=1):
            ids.frombytes(packed)
        return ids.tolist()
