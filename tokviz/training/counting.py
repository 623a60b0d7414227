"""Pre-token counting: text in, ``{pre-token bytes (as latin-1 str): count}`` out, on one core or two.

The step is a pure map-reduce: each part of the text is counted on its own and the counts add up. Parts are cut only
at safe positions (:func:`tokviz.pre_tokenizers.stream_cuts.chunk_text`, :mod:`tokviz.corpus.ranges`), so the result
equals one pass over
the whole text. Special tokens split the text and are not counted.

Large inputs are counted by forked worker processes, each keeping one running count that it sends back once at the
end. How the text reaches them depends on where it is:

- a file (:func:`count_file`): the parent cuts it into byte ranges and hands out (start, end) pairs; each worker
  reads and decodes its ranges itself, so no text crosses a pipe and the parent stays idle;
- a text in memory (:func:`count_large_text`): the same with character ranges of the text the workers inherited;
- any other stream of chunks (:func:`count_chunks`): the parent re-cuts the stream and sends the chunks, so a stream
  of any length is counted in bounded memory.

Whichever worker is free takes the next part, so both finish at about the same time.

Example:
    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> sorted(count_text("the cat the", PreTokenizer.create("gpt2")).items())
    [(' cat', 1), (' the', 1), ('the', 1)]
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, BinaryIO

from tokviz.core.lifeline import die_with_parent
from tokviz.corpus.ranges import file_ranges, text_ranges
from tokviz.corpus.sources import iter_file
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.stream_cuts import chunk_text

#: Below this many characters counting stays in-process: starting a worker costs more than it saves.
PARALLEL_MIN_CHARS = 1 << 20
#: Characters per chunk handed to a worker: large enough to amortise the transfer, small enough to bound memory.
CHUNK_CHARS = 1 << 19
#: Bytes (or characters) per range a worker reads itself: small enough that the workers finish close together.
RANGE_BYTES = 1 << 18
#: Input whose safe cuts lie further apart than this (megabytes without a space) is streamed instead, so no worker
#: ever holds one huge range in memory.
MAX_RANGE_BYTES = 64 << 20


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


class _DecodeFailed(Exception):
    """A range of a file is not valid UTF-8; the parent finds and reports the file's first bad byte."""


class _FileReader:
    """Reads and decodes byte ranges of one file; opened on first use, so each worker process has its own handle."""

    def __init__(self, path: str | os.PathLike[str], errors: str) -> None:
        self.path = path
        self.errors = errors
        self._file: BinaryIO | None = None

    def __call__(self, start: int, end: int) -> str:
        if self._file is None:
            self._file = open(self.path, "rb")  # noqa: SIM115 - lives as long as the worker process
        self._file.seek(start)
        try:
            return self._file.read(end - start).decode("utf-8", self.errors)
        except UnicodeDecodeError:
            raise _DecodeFailed from None


def _worker(conn: Connection, pretokenizer: PreTokenizer, read: Callable[[int, int], str] | None,
            parent_pid: int) -> None:
    # A job is a text chunk, or with `read`, a (start, end) range the worker reads itself.
    die_with_parent(parent_pid)  # a parent killed outright must not leave this process counting on
    counts: Counter[str] = Counter()
    try:
        while True:
            job = conn.recv()
            if job is None:
                conn.send(("counts", to_byte_keys(counts)))  # re-keyed here, in parallel, not in the parent
                return
            text = job if read is None else read(*job)
            count_into(counts, text, pretokenizer)
            conn.send(("done", len(text)))
    except _DecodeFailed:
        conn.send(("decode", None))
    except ValueError as e:  # e.g. a custom regex that timed out: report it, the parent raises it
        conn.send(("error", str(e)))
    finally:
        conn.close()


def _parallel_ok(n_workers: int) -> bool:
    return n_workers > 1 and "fork" in mp.get_all_start_methods()


def _n_workers(workers: int | None) -> int:
    return workers if workers is not None else min(2, os.cpu_count() or 1)


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
    n_workers = _n_workers(workers)
    if not _parallel_ok(n_workers) or sum(map(len, first)) < PARALLEL_MIN_CHARS:
        total: Counter[str] = Counter()
        done = 0
        for chunk in _chain(first, pieces):
            count_into(total, chunk, pretokenizer)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)
        return to_byte_keys(total)
    return _count_parallel(_chain(first, pieces), pretokenizer, n_workers, on_progress)


def count_file(
    path: str | os.PathLike[str],
    pretokenizer: PreTokenizer,
    *,
    workers: int | None = None,
    errors: str = "strict",
    on_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Count the pre-tokens of one UTF-8 file; a large one on several processes that each read their own ranges.

    The parent only cuts the file into byte ranges (:func:`tokviz.corpus.ranges.file_ranges`) and hands them out, so no
    text crosses a pipe. A custom pattern, whose safe cuts are not known in advance, is streamed instead.

    >>> import pathlib, tempfile
    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "corpus.txt"
    ...     _ = path.write_text("the cat the", encoding="utf-8")
    ...     sorted(count_file(path, PreTokenizer.create("gpt2")).items())
    [(' cat', 1), (' the', 1), ('the', 1)]
    """
    n_workers = _n_workers(workers)
    if _ranges_pay(n_workers, pretokenizer, os.path.getsize(path)):
        ranges = file_ranges(path, target=RANGE_BYTES, special_tokens=pretokenizer.special_tokens)
        if _small_enough(ranges):
            try:
                return _count_parallel(iter(ranges), pretokenizer, n_workers, on_progress,
                                       read=_FileReader(path, errors))
            except _DecodeFailed:
                for _ in iter_file(path, errors=errors):  # raises with the offset of the file's first bad byte
                    pass
                bad = f"{path} is not valid UTF-8; convert it or train with replacement characters."
                raise ValueError(bad) from None
    return count_chunks(iter_file(path, errors=errors), pretokenizer, workers=workers, on_progress=on_progress)


def count_large_text(
    text: str,
    pretokenizer: PreTokenizer,
    *,
    workers: int | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Count the pre-tokens of a text held in memory; a large one on several processes, each taking ranges of it.

    Forked workers see the text without copying it through a pipe; they are handed only (start, end) pairs.

    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> sorted(count_large_text("a b a", PreTokenizer.create("gpt2")).items())
    [(' a', 1), (' b', 1), ('a', 1)]
    """
    n_workers = _n_workers(workers)
    if _ranges_pay(n_workers, pretokenizer, len(text)):
        ranges = text_ranges(text, target=RANGE_BYTES, special_tokens=pretokenizer.special_tokens)
        if _small_enough(ranges):
            return _count_parallel(iter(ranges), pretokenizer, n_workers, on_progress,
                                   read=lambda start, end: text[start:end])
    return count_chunks([text], pretokenizer, workers=workers, on_progress=on_progress)


def _ranges_pay(n_workers: int, pretokenizer: PreTokenizer, size: int) -> bool:
    """Whether to count an input of ``size`` in ranges: workers are possible and worth starting, and the pattern is
    a named one, whose safe cuts are known (a custom pattern is streamed)."""
    return _parallel_ok(n_workers) and pretokenizer.name is not None and size >= PARALLEL_MIN_CHARS


def _small_enough(ranges: list[tuple[int, int]]) -> bool:
    """No range over :data:`MAX_RANGE_BYTES` (else the input is streamed, so no worker holds one huge range)."""
    return max(b - a for a, b in ranges) <= MAX_RANGE_BYTES


def _count_parallel(
    jobs: Iterator[str] | Iterator[tuple[int, int]], pretokenizer: PreTokenizer, n_workers: int,
    on_progress: Callable[[int], object] | None, *, read: Callable[[int, int], str] | None = None,
) -> Counter[str]:
    ctx = mp.get_context("fork")
    conns: list[Connection] = []
    procs = []
    for _ in range(n_workers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child, pretokenizer, read, os.getpid()), daemon=True)
        p.start()
        child.close()
        conns.append(parent)
        procs.append(p)
    busy: set[Connection] = set()
    done = 0

    def send(conn: Connection, job: object) -> None:
        try:
            conn.send(job)
        except (BrokenPipeError, ConnectionError):  # the worker died while idle
            raise _died(procs) from None

    def collect(conn: Connection) -> None:
        nonlocal done
        kind, payload = _receive(conn, procs)
        if kind == "decode":
            raise _DecodeFailed
        if kind == "error":
            raise ValueError(payload)
        busy.discard(conn)
        done += payload
        if on_progress is not None:
            on_progress(done)

    try:
        for job in jobs:
            idle = [c for c in conns if c not in busy]
            if not idle:
                for c in wait(list(busy)):
                    collect(c)  # type: ignore[arg-type]
                idle = [c for c in conns if c not in busy]
            send(idle[0], job)
            busy.add(idle[0])
        while busy:
            for c in wait(list(busy)):
                collect(c)  # type: ignore[arg-type]
        parts: list[Counter[str]] = []
        for c in conns:
            send(c, None)
        for c in conns:
            kind, payload = _receive(c, procs)
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


def _receive(conn: Connection, procs: list[Any]) -> tuple[str, Any]:
    """The next message from a worker; a worker that died (killed, out of memory) becomes a clear error."""
    try:
        kind, payload = conn.recv()
    except (EOFError, ConnectionError):
        raise _died(procs) from None
    return kind, payload


def _died(procs: list[Any]) -> ChildProcessError:
    """The error for a worker that ended without reporting, saying how it ended (signal or exit code)."""
    for p in procs:
        p.join(timeout=1)
    codes = sorted({p.exitcode for p in procs if p.exitcode not in (0, None)})
    how = ", ".join(f"killed by signal {-c}" if c < 0 else f"exit code {c}" for c in codes)
    return ChildProcessError(
        f"a pre-token counting process ended unexpectedly{f' ({how})' if how else ''}; it may have run out of memory."
    )


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
