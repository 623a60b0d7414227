"""Pre-token counts of a source (a local path or an fsspec URL), whole or one byte range of it.

The counting of :mod:`tokviz.training.counting` applied to what :mod:`tokviz.corpus.sources` reads: a local file is
counted by forked workers that read their own ranges, a URL is streamed, and one byte range (cut at a safe place by
:func:`tokviz.corpus.sources.source_ranges`) is one map task of a distributed count.

Example:
    >>> import pathlib, tempfile
    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "a.txt"
    ...     _ = path.write_text("aa bb aa", encoding="utf-8")
    ...     sorted(count_range(str(path), 2, 8, PreTokenizer.create("gpt2")).items())
    [(' aa', 1), (' bb', 1)]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

from tokviz.corpus.sources import Source, is_url, iter_source, read_range
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.counting import count_chunks, count_file, count_text


def count_source(
    source: Source, pretokenizer: PreTokenizer, *, workers: int | None = None, errors: str = "strict",
    on_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Pre-token counts of one source (keys: bytes as latin-1 ``str``), on this machine."""
    if is_url(source):
        return count_chunks(iter_source(source, errors=errors), pretokenizer, workers=workers,
                            on_progress=on_progress)
    if not os.path.isfile(source):
        raise ValueError(f"{source}: no such file.")
    return count_file(source, pretokenizer, workers=workers, errors=errors, on_progress=on_progress)


def count_range(source: Source, start: int, end: int, pretokenizer: PreTokenizer, *,
                errors: str = "strict") -> Counter[str]:
    """Pre-token counts of bytes ``[start, end)`` of a source: one map task of a distributed count."""
    return count_text(read_range(source, start, end, errors=errors), pretokenizer)
