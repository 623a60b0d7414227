"""Pre-token counting: text in, ``{pre-token bytes (as latin-1 str): count}`` out, on one core or two.

The step is a pure map-reduce: each chunk is counted on its own and the counts add up. Chunks are cut only at safe
positions (:func:`tokviz.pretokenize.chunk_text`), so the result equals one pass over the whole text, and a large file
is streamed: it is never held in memory whole. Special tokens split the text and are not counted.

For inputs over :data:`PARALLEL_MIN_CHARS`, forked worker processes each keep one running count over the chunks they
are handed (whichever worker is free takes the next chunk) and send it back once at the end, so only two counters
cross a pipe rather than one per chunk.

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
from multiprocessing.connection import Connection, wait

from tokviz.pretokenize import PreTokenizer, chunk_text

#: Below this many characters counting stays in-process: starting a worker costs more than it saves.
PARALLEL_MIN_CHARS = 1 << 20
#: Characters per chunk handed to a worker: large enough to amortise the transfer, small enough to bound memory.
CHUNK_CHARS = 1 << 19


def count_into(counts: Counter[str], text: str, pretokenizer: PreTokenizer) -> None:
    """Add the pre-tokens of ``text`` to ``counts`` (keys are the pieces as text; see :func:`to_byte_keys`)."""
    pieces: list[str] = []
    for part in pretokenizer.split_on_specials(text):
        pieces += pretokenizer.findall(part)
    counts.update(pieces)  # a list goes through the C counting helper; many small updates would not


def to_byte_keys(counts: Counter[str]) -> Counter[str]:
    """Re-key counts by UTF-8 bytes held as a latin-1 ``str`` (one character a byte), as the merge loop wants.

    Works in place and touches only non-ASCII keys (ASCII pieces are their own bytes already). All of them are taken
    out before any is put back, since a converted key could equal another key still waiting to be converted.

    >>> to_byte_keys(Counter({"é": 2, "Ã©": 1, "a": 5}))
    Counter({'a': 5, 'Ã©': 2, 'Ã\x83Â©': 1})
    """
    wide = [(k, counts.pop(k)) for k in [k for k in counts if not k.isascii()]]
    for k, c in wide:
        counts[k.encode("utf-8").decode("latin-1")] = c
    return counts


def count_text(text: str, pretokenizer: PreTokenizer) -> Counter[str]:
    """Count the pre-tokens of one text, keyed by their UTF-8 bytes held as a latin-1 ``str``."""
    counts: Counter[str] = Counter()
    count_into(counts, text, pretokenizer)
    return to_byte_keys(counts)


def _worker(conn: Connection, pretokenizer: PreTokenizer) -> None:
    counts: Counter[str] = Counter()
    try:
        while True:
            chunk = conn.recv()
            if chunk is None:
                conn.send(("counts", to_byte_keys(counts)))  # re-keyed here, in parallel, not in the parent
                return
            count_into(counts, chunk, pretokenizer)
            conn.send(("done", None))
    except ValueError as e:  # e.g. a custom regex that timed out: report it, the parent raises it
        conn.send(("error", str(e)))
    finally:
        conn.close()


def count_chunks(
    chunks: Iterable[str],
    pretokenizer: PreTokenizer,
    *,
    workers: int | None = None,
    chunk_chars: int | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Count pre-tokens over a stream of text chunks read as their concatenation.

    ``workers`` defaults to the number of cores (at most 2); parallel counting forks worker processes and is used
    only for inputs over :data:`PARALLEL_MIN_CHARS`. ``on_progress`` gets the number of characters counted so far.
    """
    pieces = chunk_text(chunks, pretokenizer, target=chunk_chars or CHUNK_CHARS)
    first = _take_up_to(pieces, PARALLEL_MIN_CHARS)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n_workers <= 1 or sum(map(len, first)) < PARALLEL_MIN_CHARS or "fork" not in mp.get_all_start_methods():
        total: Counter[str] = Counter()
        done = 0
        for chunk in _chain(first, pieces):
            count_into(total, chunk, pretokenizer)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)
        return to_byte_keys(total)
    return _count_parallel(_chain(first, pieces), pretokenizer, n_workers, on_progress)


def _count_parallel(
    chunks: Iterator[str], pretokenizer: PreTokenizer, n_workers: int,
    on_progress: Callable[[int], object] | None,
) -> Counter[str]:
    ctx = mp.get_context("fork")
    conns: list[Connection] = []
    procs = []
    for _ in range(n_workers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child, pretokenizer), daemon=True)
        p.start()
        child.close()
        conns.append(parent)
        procs.append(p)
    in_flight: dict[Connection, int] = {}
    done = 0

    def collect(conn: Connection) -> None:
        nonlocal done
        kind, payload = conn.recv()
        if kind == "error":
            raise ValueError(payload)
        done += in_flight.pop(conn)
        if on_progress is not None:
            on_progress(done)

    try:
        for chunk in chunks:
            idle = [c for c in conns if c not in in_flight]
            if not idle:
                for c in wait(list(in_flight)):
                    collect(c)  # type: ignore[arg-type]
                idle = [c for c in conns if c not in in_flight]
            idle[0].send(chunk)
            in_flight[idle[0]] = len(chunk)
        while in_flight:
            for c in wait(list(in_flight)):
                collect(c)  # type: ignore[arg-type]
        parts: list[Counter[str]] = []
        for c in conns:
            c.send(None)
            kind, payload = c.recv()
            if kind == "error":
                raise ValueError(payload)
            parts.append(payload)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
        for c in conns:
            c.close()
    parts.sort(key=len, reverse=True)
    total = parts[0]
    for other in parts[1:]:
        total.update(other)  # costs the size of the smaller counter
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
    """Read a UTF-8 file in blocks; a decoding error names the file and the byte offset of the first bad byte.

    ``errors="replace"`` reads bad bytes as U+FFFD instead.
    """
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
