"""Pre-token counting on a Dask cluster: byte ranges counted on the workers, partial counts summed in a tree.

1. Plan (on the workers): each file is cut into byte ranges of about ``range_bytes`` at the safe places local
   counting cuts (:func:`tokviz.corpus.sources.source_ranges`); only a small window around each cut is read.
2. Map (on the workers): one task per range reads its bytes through fsspec and counts them
   (:func:`tokviz.training.source_counts.count_range`). A custom pattern, whose safe cuts are not known in advance,
   gets one task per file that streams the file through :func:`tokviz.training.counting.count_chunks` instead.
3. Reduce (on the workers): partial counts are summed ``split_every`` at a time, then those sums, and so on, so the
   client receives one table, never one per range.

The counts equal those of one process over each file (each file is one document), so training from them gives the
same merges. A worker that dies (killed, out of memory) takes its tasks with it: the scheduler runs them again
elsewhere, recomputing any lost partial sum from its inputs, up to its ``allowed-failures`` setting (3 by
default); past that the count stops with one :class:`WorkerLost` error. No range is ever left out of the sum.

Example (a local cluster: slow to start, so not run here)::

    from tokviz.scale import connect, count_on_dask
    with connect("local:2") as client:
        counts = count_on_dask(["s3://bucket/part-0.txt", "corpus.txt"], client=client,
                               special_tokens=["<|endoftext|>"])
    counts.save("counts.tsv")
"""

from __future__ import annotations

import functools
import os
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import getitem
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from tokviz.corpus.checks import bad_sources_error, check_range, first_bad_bytes, plan_checks
from tokviz.corpus.sources import Source, iter_source, source_ranges, source_size
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

if TYPE_CHECKING:
    from typing_extensions import Unpack

from tokviz.scale.cluster import import_distributed
from tokviz.training.counting import count_chunks
from tokviz.training.counts_shards import save_shard, split_counts, write_manifest
from tokviz.training.counts_table import Counts
from tokviz.training.source_counts import count_range

#: Most bytes per map task: large enough that the scheduler's per-task cost (about a millisecond) and sending a
#: partial table on are small beside counting it, small enough that a worker holds little text at once.
DASK_RANGE_BYTES = 8 << 20
#: Fewest bytes per map task when a small corpus is cut finer so that every worker gets some.
MIN_RANGE_BYTES = 1 << 20
#: Partial tables summed per reduce task.
SPLIT_EVERY = 8
#: Key prefix of the map tasks (a test, or a Dask dashboard, can tell them apart from the plan and reduce tasks).
MAP_KEY = "tokviz-count-range"
#: Sums run before the ranges still waiting to be counted (Dask runs the higher priority first), so a range's table
#: is summed, and freed, soon after it is made rather than after every range is counted.
SUM_PRIORITY = 1


class WorkerLost(RuntimeError):
    """A Dask worker died running a counting task more often than the scheduler allows."""


@functools.lru_cache(maxsize=8)
def _pretokenizer(pattern: str, special_tokens: tuple[str, ...]) -> PreTokenizer:
    # Built once per worker process and pattern, not once per task.
    return PreTokenizer.create(pattern, special_tokens=list(special_tokens))


def _plan(source: Source, target: int, special_tokens: tuple[str, ...], named: bool) -> list[tuple[int, int]]:
    if not named:
        return [(0, source_size(source))]  # one streamed task per file
    return source_ranges(source, target=target, special_tokens=special_tokens)


def _count(source: Source, start: int, end: int, pattern: str, special_tokens: tuple[str, ...], errors: str,
           whole: bool) -> Counter[str]:
    pretok = _pretokenizer(pattern, special_tokens)
    if whole:
        return count_chunks(iter_source(source, errors=errors), pretok, workers=1)
    return count_range(source, start, end, pretok, errors=errors)


def _sum(*parts: Counter[str]) -> Counter[str]:
    ordered = sorted(parts, key=len, reverse=True)
    total = ordered[0]
    for other in ordered[1:]:
        total.update(other)  # costs the size of the smaller table
    return total


def check_on_dask(sources: Sequence[Source], *, client: Any, errors: str = "strict") -> None:
    """Raise one ValueError naming every missing source and, with ``errors="strict"``, every one that is not UTF-8
    (its first bad byte), checked on the workers in ranges of
    :data:`~tokviz.corpus.checks.CHECK_RANGE_BYTES` before any counting (:mod:`tokviz.corpus.checks`)."""
    run = uuid.uuid4().hex[:12]
    plans = client.gather([client.submit(plan_checks, [s], key=f"tokviz-check-plan-{run}-{i}")
                           for i, s in enumerate(sources)])
    missing = [m for _, gone in plans for m in gone]
    if errors != "strict":
        if missing:
            raise bad_sources_error(missing, len(sources))
        return
    jobs = [job for ranges, _ in plans for job in ranges]
    found = client.gather([client.submit(check_range, *job, key=f"tokviz-check-{run}-{i}")
                           for i, job in enumerate(jobs)])
    bad = first_bad_bytes(list(zip(jobs, found)))
    messages = [m for s in sources for m in [bad.get(str(s))] if m]
    if missing or messages:
        raise bad_sources_error(missing + messages, len(sources))


@dataclass(frozen=True)
class _Maps:
    """The map tasks of one count: their futures, the bytes each covers, and the settings they counted with."""

    run: str
    futures: list[Any]
    sizes: dict[str, int]
    total_bytes: int
    specials: tuple[str, ...]


def _start_maps(sources: Sequence[Source], client: Any, *, pattern: str, special_tokens: Sequence[str], errors: str,
                range_bytes: int | None, split_every: int) -> _Maps:
    """Check the sources, plan their ranges on the workers and submit one counting task per range."""
    check_on_dask(sources, client=client, errors=errors)
    if range_bytes is None:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        total = sum(client.gather([client.submit(source_size, s, pure=False) for s in sources]))
        range_bytes = min(DASK_RANGE_BYTES, max(MIN_RANGE_BYTES, total // (4 * n_workers)))
    if range_bytes < 1 or split_every < 2:
        raise ValueError(f"range_bytes must be >= 1 and split_every >= 2, got {range_bytes} and {split_every}.")
    specials = tuple(dict.fromkeys(special_tokens))
    pretok = PreTokenizer.create(pattern, special_tokens=list(specials))  # a bad pattern fails here, once
    named = pretok.name is not None
    run = uuid.uuid4().hex[:12]
    plans = client.gather([client.submit(_plan, s, range_bytes, specials, named, key=f"tokviz-count-plan-{run}-{i}")
                           for i, s in enumerate(sources)])
    jobs = [(s, a, b) for s, ranges in zip(sources, plans) for a, b in ranges]
    futures = [client.submit(_count, s, a, b, pattern, specials, errors, not named, key=f"{MAP_KEY}-{run}-{i}")
               for i, (s, a, b) in enumerate(jobs)]
    sizes = {f.key: b - a for f, (_, a, b) in zip(futures, jobs)}
    return _Maps(run, futures, sizes, sum(sizes.values()), specials)


def _wait_maps(maps: _Maps, on_progress: Callable[[int, int], object] | None) -> None:
    """Wait for the map tasks, reporting progress; a task's error (a bad byte, a missing file) is raised here."""
    distributed = import_distributed()
    done = 0
    # Only the sums that take a range's table need it now: a future the client kept would hold every table in
    # worker memory until the last range is counted.
    finished = distributed.as_completed(maps.futures)
    maps.futures.clear()
    for f in finished:
        if f.status == "error":  # only an error crosses to the client here, never a partial table
            f.result()  # raises the task's own error with its message
        done += maps.sizes[f.key]
        if on_progress is not None:
            on_progress(done, maps.total_bytes)


def _tree(client: Any, level: list[Any], split_every: int, name: str) -> Any:
    """Sum ``level`` ``split_every`` at a time, then those sums, up to one future."""
    depth = 0
    while len(level) > 1:
        depth += 1
        level = [client.submit(_sum, *level[i:i + split_every], key=f"{name}-{depth}-{i}", priority=SUM_PRIORITY)
                 for i in range(0, len(level), split_every)]
    return level[0]


def _worker_lost(e: BaseException) -> WorkerLost:
    return WorkerLost(
        f"a Dask worker died while counting ({e}); the scheduler gave up after its allowed failures. "
        "Workers usually die of memory: give them more, count with a smaller range_bytes, or use more shards."
    )


class DaskCountOptions(TypedDict, total=False):
    """Options of :func:`count_shards_on_dask` (as :func:`count_on_dask` takes them), each optional."""

    pattern: str  # the pre-tokenizer pattern ['gpt2']
    special_tokens: Sequence[str]  # split off and not counted [none]
    errors: str  # undecodable bytes: 'strict', 'replace' or 'ignore' ['strict']
    range_bytes: int | None  # bytes per map task [about four ranges per worker]
    split_every: int  # tables summed at a time in the tree [SPLIT_EVERY]
    on_progress: Callable[[int, int], object] | None  # (bytes counted, total bytes)


def count_on_dask(
    sources: Sequence[Source],
    *,
    client: Any,
    pattern: str = "gpt2",
    special_tokens: Sequence[str] = (),
    errors: str = "strict",
    range_bytes: int | None = None,
    split_every: int = SPLIT_EVERY,
    on_progress: Callable[[int, int], object] | None = None,
) -> Counts:
    """Count the pre-tokens of ``sources`` (paths the workers can read, or fsspec URLs) on a Dask ``client``.

    ``range_bytes`` defaults to about four ranges per worker, between :data:`MIN_RANGE_BYTES` and
    :data:`DASK_RANGE_BYTES`. ``on_progress(done, total)`` gets the bytes counted so far and the total, as map tasks
    finish. Returns the same :class:`~tokviz.training.counts_table.Counts` as
    :func:`tokviz.training.counts_table.count_files` on one machine. The whole table is summed by one worker and
    sent to the client; for tables too large for one process, see :func:`count_shards_on_dask`.
    """
    distributed = import_distributed()
    maps = _start_maps(sources, client, pattern=pattern, special_tokens=special_tokens, errors=errors,
                       range_bytes=range_bytes, split_every=split_every)
    if not maps.futures:
        return Counts(Counter(), pattern=pattern, special_tokens=maps.specials)
    root = _tree(client, list(maps.futures), split_every, f"tokviz-count-sum-{maps.run}")
    try:
        _wait_maps(maps, on_progress)
        counts: Counter[str] = root.result()
    except distributed.KilledWorker as e:
        raise _worker_lost(e) from e
    return Counts(counts, pattern=pattern, special_tokens=maps.specials)


def _sum_split(n_shards: int, *parts: Counter[str]) -> list[Counter[str]]:
    return split_counts(_sum(*parts), n_shards)


def _shard_sums(client: Any, maps: _Maps, cut: list[Any], shards: int, split_every: int, name: str,
                on_progress: Callable[[int, int], object] | None) -> dict[Any, int]:
    """Wait for the map tasks (as :func:`_wait_maps`) and, as each cut sum finishes, send its parts up the shards'
    sums; returns each shard's last sum with its shard.

    Part ``k`` is taken out of a cut sum on the worker that holds it (``workers=``, a preference the scheduler may
    overrule if that worker is gone), so only the part, not the whole list of parts, crosses to the worker that sums
    it. A shard's parts are summed ``split_every`` at a time as they come, the sum joining the next group, so a cut
    sum is freed soon after it is made: waiting for every range first kept every cut sum in worker memory, which
    grew with the corpus.
    """
    distributed = import_distributed()
    cut_keys = {f.key for f in cut}
    finished = distributed.as_completed([*maps.futures, *cut])
    maps.futures.clear()  # only the tasks that take a table hold it now (see _wait_maps)
    cut.clear()
    pending: list[list[Any]] = [[] for _ in range(shards)]
    sums = done = 0
    for f in finished:
        if f.status == "error":  # only an error crosses to the client here, never a table
            f.result()  # raises the task's own error with its message
        if f.key not in cut_keys:
            done += maps.sizes[f.key]
            if on_progress is not None:
                on_progress(done, maps.total_bytes)
            continue
        holders = list(client.who_has([f]).get(f.key, ()))
        for k in range(shards):
            pending[k].append(client.submit(getitem, f, k, key=f"{name}-part-{k}-{f.key}", workers=holders or None,
                                            allow_other_workers=True, priority=SUM_PRIORITY))
            if len(pending[k]) >= split_every:
                sums += 1
                pending[k] = [client.submit(_sum, *pending[k], key=f"{name}-{k}-running-{sums}",
                                            priority=SUM_PRIORITY)]
        del f
    return {_tree(client, parts, split_every, f"{name}-{k}"): k for k, parts in enumerate(pending)}


def count_shards_on_dask(
    sources: Sequence[Source],
    output: str | os.PathLike[str],
    *,
    client: Any,
    shards: int,
    **options: Unpack[DaskCountOptions],
) -> Path:
    """Count like :func:`count_on_dask`, but sum and write the table in ``shards`` parts
    (:mod:`tokviz.training.counts_shards`), so no worker and not the client ever holds more than about one shard.

    Partial tables are summed ``split_every`` at a time and each sum cut into ``shards`` parts by a hash of the
    pre-token; part ``k`` of every sum goes up shard ``k``'s own tree of sums. The client receives the shards one at
    a time and writes each into the folder ``output`` as it arrives, then ``manifest.json``; returns the manifest's
    path. ``train_bpe(load_shards(path), ...)`` or ``tokviz train --counts FOLDER`` trains from it.
    """
    pattern, split_every = options.get("pattern", "gpt2"), options.get("split_every", SPLIT_EVERY)
    distributed = import_distributed()
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards must be a positive integer, got {shards!r}.")
    folder = Path(output)
    if not folder.parent.is_dir():
        raise ValueError(f"{folder.parent}: the output folder does not exist; create it or choose another.")
    maps = _start_maps(sources, client, pattern=pattern, special_tokens=options.get("special_tokens", ()),
                       errors=options.get("errors", "strict"), range_bytes=options.get("range_bytes"),
                       split_every=split_every)
    futures = maps.futures or [client.submit(Counter, key=f"tokviz-count-empty-{maps.run}")]
    cut = [client.submit(_sum_split, shards, *futures[i:i + split_every], key=f"tokviz-count-cut-{maps.run}-{i}",
                         priority=SUM_PRIORITY) for i in range(0, len(futures), split_every)]
    del futures
    entries: list[dict[str, object]] = [{} for _ in range(shards)]
    try:
        tops = _shard_sums(client, maps, cut, shards, split_every, f"tokviz-count-shard-{maps.run}",
                           options.get("on_progress"))
        for f in distributed.as_completed(list(tops)):
            k = tops.pop(f)
            entries[k] = save_shard(Counts(f.result(), pattern=pattern, special_tokens=maps.specials), folder, k)
            del f  # the shard leaves the client's memory before the next arrives
    except distributed.KilledWorker as e:
        raise _worker_lost(e) from e
    return write_manifest(folder, entries, pattern=pattern, special_tokens=maps.specials)
