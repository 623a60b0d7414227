"""Pre-token counting: text in, ``{pre-token bytes (as latin-1 str): count}`` out, on one core or two.

The step is a pure map-reduce: each chunk is counted on its own and the counts add up. Chunks are cut only at safe
positions (:func:`tokviz.pretokenize.chunk_text`), so the result equals one pass over the whole text, and a large file
is streamed: it is never held in memory whole. Special tokens split the text and are not counted.

Example:
    >>> from tokviz.pretokenize import PreTokenizer
    >>> sorted(count_text("the cat the", PreTokenizer.create("gpt2")).items())
    [(' cat', 1), (' the', 1), ('the', 1)]
"""

from __future__ import annotations

import codecs
import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from tokviz.pretokenize import PreTokenizer, chunk_text

#: Below this many characters counting stays in-process: starting a worker costs more than it saves.
PARALLEL_MIN_CHARS = 1 << 20
#: Characters per chunk sent to a worker: large enough to amortise the transfer, small enough to bound memory.
CHUNK_CHARS = 1 << 20


def count_text(text: str, pretokenizer: PreTokenizer) -> Counter[str]:
    """Count the pre-tokens of one text, keyed by their UTF-8 bytes held as a latin-1 ``str`` (one char a byte)."""
    counts: Counter[str] = Counter()
    for seg, is_special in pretokenizer.segments(text):
        if not is_special:
            counts.update(pretokenizer.findall(seg))
    if text.isascii():
        return counts  # ASCII pre-tokens are their own bytes already
    return Counter({w.encode("utf-8").decode("latin-1"): c for w, c in counts.items()})


# Set in the parent before forking, so workers inherit the compiled patterns instead of unpickling them.
_WORKER_PRETOKENIZER: PreTokenizer | None = None


def _count_in_worker(chunk: str) -> Counter[str]:
    assert _WORKER_PRETOKENIZER is not None  # internal invariant, set before the pool forks
    return count_text(chunk, _WORKER_PRETOKENIZER)


def count_chunks(
    chunks: Iterable[str],
    pretokenizer: PreTokenizer,
    *,
    workers: int | None = None,
    chunk_chars: int | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Count pre-tokens over a stream of text chunks read as their concatenation.

    ``workers`` defaults to the number of cores (at most 2 here); parallel counting forks worker processes and is
    used only for inputs over :data:`PARALLEL_MIN_CHARS`. ``on_progress`` gets the number of characters counted.
    """
    pieces = chunk_text(chunks, pretokenizer, target=chunk_chars or CHUNK_CHARS)
    first = _take_up_to(pieces, PARALLEL_MIN_CHARS)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    total: Counter[str] = Counter()
    done = 0
    if n_workers <= 1 or sum(map(len, first)) < PARALLEL_MIN_CHARS or "fork" not in mp.get_all_start_methods():
        for chunk in _chain(first, pieces):
            total.update(count_text(chunk, pretokenizer))
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)
        return total
    global _WORKER_PRETOKENIZER
    _WORKER_PRETOKENIZER = pretokenizer
    ctx = mp.get_context("fork")
    with ctx.Pool(n_workers) as pool:
        sizes: list[int] = []

        def feed() -> Iterator[str]:
            for chunk in _chain(first, pieces):
                sizes.append(len(chunk))
                yield chunk

        for i, part in enumerate(pool.imap(_count_in_worker, feed())):
            # Merge the smaller counter into the larger: update() costs the size of its argument.
            if len(part) > len(total):
                part.update(total)
                total = part
            else:
                total.update(part)
            done += sizes[i]
            if on_progress is not None:
                on_progress(done)
    return total


def _take_up_to(it: Iterator[str], n_chars: int) -> list[str]:
    got: list[str] = []
    size = 0
    for chunk in it:
        got.append(chunk)
        size += len(chunk)
        if size >= n_chars:
            break
    return got


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def iter_file(path: str | os.PathLike[str], *, errors: str = "strict", block: int = 1 << 20) -> Iterator[str]:
    """Read a UTF-8 file in blocks; a decoding error names the file and the byte offset of the first bad byte."""
    with open(path, "rb") as f:
        data_offset = 0
        decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
        while True:
            raw = f.read(block)
            final = not raw
            pending = len(decoder.getstate()[0])  # bytes of a character split across blocks, kept from before
            try:
                text = decoder.decode(raw, final=final)
            except UnicodeDecodeError as e:
                pos = data_offset - pending + e.start
                raise ValueError(
                    f"{path} is not valid UTF-8: byte {max(pos, 0)} (0x{e.object[e.start]:02x}) cannot be decoded. "
                    "Convert the file to UTF-8 or train with replacement characters."
                ) from e
            if text:
                yield text
            if final:
                return
            data_offset += len(raw)
