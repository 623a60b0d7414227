"""A corpus to one flat array of token ids, as language-model training reads it: a raw ``.bin`` in nanoGPT's layout
with a JSON sidecar, a ``.npy``, or shards of either with a manifest (:mod:`tokviz.corpus.id_files`).

The array is ``uint16`` when every id fits (vocabularies of up to 65,536 tokens, GPT-2's included) and ``uint32``
otherwise. Each file is one document; with ``eot`` the id of that special token is put between documents. A file
that already separates its documents with the special token's text (TinyStories' ``<|endoftext|>``) gets the
special's id there anyway, since ``encode`` turns a special token's text into its id; so documents are not split
inside a file.

Memory stays bounded whatever the corpus: ids are appended to the file as they are made (the length goes in the
``.npy`` header or the ``.bin``'s sidecar at the end), one file is streamed at a time, and at most a few ranges per
worker are in flight. The array is written in corpus order, to ``OUT.partial`` first and renamed to ``OUT`` when
complete, so a failed run never leaves a file that looks finished. Read a ``.npy`` with
``numpy.load(path, mmap_mode="r")``, a ``.bin`` with ``numpy.memmap(path, dtype=numpy.uint16, mode="r")`` (the dtype
its sidecar names).

Parallel encoding (``workers > 1``, or :func:`tokviz.scale.encode_on_dask`) cuts each file into byte ranges at the
safe places counting uses (:mod:`tokviz.corpus.ranges`) and encodes them separately: for a tokviz BPE tokenizer with a
named pattern this gives exactly the ids of encoding the whole file. Any other tokenizer is streamed through its
``encode_iterable`` in this process.

Needs numpy (the ``scale`` extra), imported when a function here runs.

Example:
    >>> import pathlib, tempfile, numpy
    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [], special_tokens=["<|endoftext|>"])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     a, b = pathlib.Path(folder) / "a.txt", pathlib.Path(folder) / "b.txt"
    ...     _ = a.write_text("hi", encoding="utf-8"), b.write_text("yo", encoding="utf-8")
    ...     out = encode_corpus([a, b], tok, pathlib.Path(folder) / "ids.npy", eot="<|endoftext|>")
    ...     out.dtype, numpy.load(out.path).tolist()
    ('uint16', [104, 105, 256, 121, 111])
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast, runtime_checkable

from tokviz.core.protocol import TokenizerLike, encode_as_shown, id_batches
from tokviz.corpus.checks import require_utf8
from tokviz.corpus.id_files import IdsOutput, check_output
from tokviz.corpus.sources import Source, iter_source, read_range, source_ranges, source_size
from tokviz.models.bpe import Tokenizer

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: Bytes of text per parallel job: enough to amortise sending the ids back, small enough to bound memory.
ENCODE_RANGE_BYTES = 1 << 20
#: Ids buffered before they are appended to the file when streaming.
BATCH_IDS = 1 << 20

Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class CorpusIds:
    """What :func:`encode_corpus` wrote: the file (the manifest when sharded), its number of ids and dtype,
    documents, the EOT id used, and the shards (just ``path`` when not sharded)."""

    path: Path
    n_ids: int
    dtype: str
    n_documents: int
    eot_id: int | None
    shards: tuple[Path, ...] = ()


def ids_dtype(max_id: int) -> str:
    """``"uint16"`` if ids up to ``max_id`` fit, else ``"uint32"``.

    >>> ids_dtype(50256), ids_dtype(100276)
    ('uint16', 'uint32')
    """
    if max_id < 0 or max_id >= 1 << 32:
        raise ValueError(f"token ids up to {max_id} cannot be stored as uint32.")
    return "uint16" if max_id < 1 << 16 else "uint32"


def max_id(tokenizer: TokenizerLike) -> int:
    """The largest id ``tokenizer`` can emit (the vocabulary's largest key where it has one)."""
    vocab = getattr(tokenizer, "vocab", None)
    if isinstance(vocab, dict) and vocab:
        return max(vocab)
    return tokenizer.vocab_size - 1


def eot_id(tokenizer: TokenizerLike, token: str) -> int:
    """The id of special token ``token``; ValueError naming the tokenizer's specials if it has no such token."""
    specials: dict[str, int] = dict(getattr(tokenizer, "special_ids", {}) or {})
    if token not in specials:
        have = ", ".join(map(repr, specials)) or "none"
        raise ValueError(f"{token!r} is not a special token of {tokenizer.name} (its special tokens: {have}); "
                         "choose one of them for the end-of-text id, or leave it out.")
    return specials[token]


@dataclass(frozen=True)
class Job:
    """One unit of parallel encoding: bytes ``[start, end)`` of document ``doc`` (an index into the sources)."""

    doc: int
    source: Source
    start: int
    end: int


def can_cut(tokenizer: TokenizerLike) -> bool:
    """Whether ranges cut at safe places encode to the ids of the whole text: our BPE with a named pattern."""
    return type(tokenizer) is Tokenizer and tokenizer.pretokenizer.name is not None


def plan_jobs(sources: Sequence[Source], *, special_tokens: Sequence[str],
              range_bytes: int = ENCODE_RANGE_BYTES) -> list[Job]:
    """The byte ranges of every source, in corpus order (a range reads only a small window to find its cut)."""
    specials = list(special_tokens)
    return [Job(d, s, a, b) for d, s in enumerate(sources)
            for a, b in source_ranges(s, target=range_bytes, special_tokens=specials)]


def encode_range(tokenizer: TokenizerLike, source: Source, start: int, end: int, dtype: str, *,
                 errors: str = "strict") -> Any:
    """The ids of bytes ``[start, end)`` of a source as a numpy array of ``dtype`` (a job's result); ``errors`` reads
    bytes that are not UTF-8 as ``bytes.decode`` does."""
    import numpy as np

    ids = np.array(encode_as_shown(tokenizer, read_range(source, start, end, errors=errors)), dtype=np.int64)
    if ids.size and int(ids.max()) > np.iinfo(dtype).max:
        raise ValueError(f"token id {int(ids.max())} does not fit {dtype}.")
    return ids.astype(dtype)


def write_in_order(
    jobs: Sequence[Job], results: Iterable[Any], writer: IdsOutput, *, eot: int | None, n_documents: int,
    on_progress: Progress | None = None,
) -> None:
    """Append each job's ids in order, the EOT id between documents; ``results`` yields one array per job."""
    total = sum(j.end - j.start for j in jobs)
    done = 0
    doc = 0
    for job, ids in zip(jobs, results):
        while doc < job.doc:  # documents with no ranges (empty files) still get their separator
            doc += 1
            if eot is not None:
                writer.append([eot])
        writer.append(ids)
        done += job.end - job.start
        if on_progress is not None:
            on_progress(done, total)
    while doc < n_documents - 1:
        doc += 1
        if eot is not None:
            writer.append([eot])


def windowed(submit: Callable[[Job], Any], result: Callable[[Any], Any], jobs: Sequence[Job],
             window: int) -> Iterator[Any]:
    """Results of ``jobs`` in order, with at most ``window`` submitted and not yet taken: bounded memory."""
    pending: deque[Any] = deque()
    it = iter(jobs)
    for job in islice(it, window):
        pending.append(submit(job))
    while pending:
        out = result(pending.popleft())
        nxt = next(it, None)
        if nxt is not None:
            pending.append(submit(nxt))
        yield out


_WORKER_TOKENIZER: list[TokenizerLike] = []


def _init_worker(tokenizer: TokenizerLike) -> None:
    _WORKER_TOKENIZER[:] = [tokenizer]


def _encode_job(job: Job, dtype: str, errors: str) -> Any:
    return encode_range(_WORKER_TOKENIZER[0], job.source, job.start, job.end, dtype, errors=errors)


class EncodeCorpusOptions(TypedDict, total=False):
    """Options of :func:`encode_corpus` and :func:`tokviz.scale.encode_on_dask`, each optional."""

    eot: str | None  # a special token written after each document [none]
    range_bytes: int  # bytes per task [ENCODE_RANGE_BYTES]
    shard_tokens: int | None  # at most this many ids per shard, with a manifest [one file]
    errors: str  # undecodable bytes: 'strict', 'replace' or 'ignore' ['strict']
    on_progress: Progress | None  # (bytes done, total bytes)


def encode_corpus(
    sources: Sequence[Source],
    tokenizer: TokenizerLike,
    output: str | os.PathLike[str],
    *,
    workers: int = 1,
    **options: Unpack[EncodeCorpusOptions],
) -> CorpusIds:
    """Encode ``sources`` (paths or fsspec URLs, one document each) to one flat array of ids at ``output``: ``X.bin``
    (raw little-endian, nanoGPT's layout, with ``X.bin.json``) or ``X.npy``; with ``shard_tokens`` in shards of at
    most that many ids and a manifest (:mod:`tokviz.corpus.id_files`).

    ``eot`` names a special token whose id goes between documents. ``errors="replace"`` (or ``"ignore"``) reads
    bytes that are not UTF-8 as U+FFFD (or drops them); by default every bad file is named before any encoding.
    ``workers > 1`` encodes ranges on that many local processes (see the module docstring for which tokenizers).
    ``on_progress(done, total)`` gets bytes.
    """
    eot, range_bytes = options.get("eot"), options.get("range_bytes", ENCODE_RANGE_BYTES)
    shard_tokens, errors, on_progress = options.get("shard_tokens"), options.get("errors", "strict"), \
        options.get("on_progress")
    out = check_output(output)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}.")
    sep = eot_id(tokenizer, eot) if eot is not None else None
    dtype = ids_dtype(max_id(tokenizer))
    require_utf8(sources, errors=errors, workers=workers)  # every bad file named at once, before any encoding
    writer = IdsOutput(out, dtype, shard_tokens=shard_tokens)
    total = sum(source_size(s) for s in sources)  # one stat of each source (a request, on object storage)
    if total >= ENGINE_WAIT_BYTES:
        engine_ready(tokenizer)
    try:
        if workers > 1 and can_cut(tokenizer):
            specials = cast(Tokenizer, tokenizer).pretokenizer.special_tokens
            jobs = plan_jobs(sources, special_tokens=specials, range_bytes=range_bytes)
            import multiprocessing as mp

            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(tokenizer,)) as pool:

                def submit(job: Job) -> Future[Any]:
                    return pool.submit(_encode_job, job, dtype, errors)

                results = windowed(submit, lambda f: f.result(), jobs, 2 * workers)
                write_in_order(jobs, results, writer, eot=sep, n_documents=len(sources), on_progress=on_progress)
        else:
            stream_documents(sources, tokenizer, writer, eot=sep, errors=errors, on_progress=on_progress,
                             total=total)
    except BaseException:
        writer.abort()
        raise
    return finish(writer, tokenizer, n_documents=len(sources), eot=sep)


#: A corpus of at least this many bytes waits for the tokenizer's native engine before encoding (its build takes
#: 0.3-0.6 s for GPT-2's ranks): 5 MB of Python source was encoded in 0.9 s without it, 0.26-0.39 s with it.
ENGINE_WAIT_BYTES = 1 << 20


@runtime_checkable
class _BuildsEngine(Protocol):
    def wait(self, timeout: float | None = None) -> bool: ...


def engine_ready(tokenizer: TokenizerLike, *, timeout: float = 60.0) -> bool:
    """Build ``tokenizer``'s native engine now, if it has one being built in the background (the first texts
    would run in pure Python meanwhile, and forked workers would never get it); True if an engine runs.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> engine_ready(ByteTokenizer())
    False
    """
    engine = getattr(tokenizer, "engine", None)
    return isinstance(engine, _BuildsEngine) and engine.wait(timeout)


def finish(writer: IdsOutput, tokenizer: TokenizerLike, *, n_documents: int, eot: int | None) -> CorpusIds:
    """Close the output, recording the tokenizer, documents and EOT id in its sidecar or manifest."""
    path = writer.close({"tokenizer": tokenizer.name, "documents": n_documents, "eot_id": eot})
    return CorpusIds(path, writer.n, writer.dtype.name, n_documents, eot, tuple(writer.shards))


def stream_documents(sources: Sequence[Source], tokenizer: TokenizerLike, writer: IdsOutput, *, eot: int | None,
                     errors: str = "strict", on_progress: Progress | None = None,
                     total: int | None = None) -> None:
    """Encode each source with ``encode_iterable`` in this process, appending ids in batches; ``total`` is the
    sources' bytes when the caller has them (else each is looked up)."""
    import numpy as np

    if total is None:
        total = sum(source_size(s) for s in sources)
    done = 0

    def chunks(source: Source) -> Iterator[str]:
        nonlocal done
        for chunk in iter_source(source, errors=errors):
            yield chunk
            done += len(chunk) if chunk.isascii() else len(chunk.encode("utf-8"))
            if on_progress is not None:
                on_progress(min(done, total), total)

    for d, source in enumerate(sources):
        if d and eot is not None:
            writer.append([eot])
        for batch in id_batches(tokenizer, chunks(source), size=BATCH_IDS):
            writer.append(np.asarray(batch, dtype=np.int64))
