"""The BPE merge phase sharded across Dask workers: each worker holds a part of the pre-token table, the client only
the pair counts, and the merges are exactly those of one process.

A sharded counts dataset (``tokviz count --shards N``, :mod:`tokviz.training.counts_shards`) is split among
``actors`` Dask actors (:class:`MergeShard`), each pinned to a worker and reading its own shard files there (the
client sends only their paths, so the workers must see the folder: a shared disk, or the same machine). Each actor
holds its words in the compact loop's arrays (:class:`~tokviz.training.sharded_merge.CompactShard`); the client runs
:func:`~tokviz.training.sharded_merge.merge_shards`: the global pair counts, packed (16 to 20 B a pair), and the
heap with the one-process loops' tie rule. For each merge it sends every shard (pair, new token), two characters,
and waits for every shard's pair-count deltas, on a direct line to each (:mod:`tokviz.scale.merge_channel`: a socket
answered by a thread of the worker, measured at a tenth or less of an actor call's cost), or, where the client
cannot reach a worker's host on a new port, as Dask actor calls (straight to the worker, not through the scheduler).
Everything else (reading the shards, the initial pair counts, memory figures) is an actor call.

An actor lives only as long as its worker: a worker that dies takes its shard with it and the merge stops with
:class:`ShardLost` (nothing is retried; run it again).

Example (a local cluster: slow to start, so not run here)::

    from tokviz.scale import connect
    from tokviz.scale.dask_merge import train_on_dask
    with connect("local:2") as client:
        tok = train_on_dask("counts/", client=client, vocab_size=32000)
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.scale.cluster import import_distributed
from tokviz.scale.merge_channel import LineBroken, Lines, listen, serve
from tokviz.training.compact_merge import read_counts_files
from tokviz.training.counts_shards import manifest_entries, read_manifest
from tokviz.training.merge_loop import CancelCheck, Merge, MergeResult
from tokviz.training.sharded_merge import (
    CompactShard,
    Deltas,
    PairCounts,
    Shard,
    WordShard,
    merge_shards,
    sum_pair_counts,
)
from tokviz.training.trainer import validate_vocab_size, vocab_of

#: Seconds between looks at the actors' state while waiting for an answer (a lost worker is noticed this late).
POLL_SECONDS = 1.0


class ShardLost(RuntimeError):
    """A Dask worker holding a shard of the merge died (or could not be reached); the merge cannot go on."""


class MergeShard:
    """A Dask actor: the pre-tokens of some counts shards, read on its worker, merged as the client says; held in the
    compact loop's arrays (:class:`~tokviz.training.sharded_merge.CompactShard`), or with ``compact=False`` as the
    Python loop holds them (:class:`~tokviz.training.sharded_merge.WordShard`: about five times the memory, less
    time a merge on small shards)."""

    def __init__(self, entries: Sequence[Mapping[str, object]], vocab: int, compact: bool = True) -> None:
        self.rss_before = _rss()
        self.thread: threading.Thread | None = None
        self.line: tuple[tuple[str, int], bytes] = (("", 0), b"")
        # Read a line at a time into the compact arrays (the shards' keys never overlap: a union), never a dict.
        loaded = read_counts_files([(Path(str(e["path"])), e) for e in entries])
        self.settings = (loaded.pattern, loaded.special_tokens)
        self.distinct, self.total = loaded.words.distinct, loaded.words.total
        self.shard: Shard = (CompactShard(loaded.words, vocab=vocab) if compact else
                             WordShard(loaded.words.to_dict()))
        del loaded  # the words now live in the shard only

    def pair_counts(self) -> dict[str, int]:
        return self.shard.pair_counts()

    def open_line(self, host: str) -> tuple[tuple[str, int], bytes]:
        """Listen for the coordinator's direct line (:mod:`tokviz.scale.merge_channel`) on ``host``, answered by a
        thread of this worker; returns the address and the key."""
        key, listener = listen(host)
        self.line = (listener.address, key)
        self.thread = threading.Thread(target=serve, args=(listener, self.shard.merge), daemon=True,
                                       name="tokviz-merge-shard")
        self.thread.start()
        return self.line

    def close_line(self) -> None:
        """End the line's thread, even if the coordinator never connected (it then waits in ``accept``)."""
        if self.thread is not None and self.thread.is_alive():
            with contextlib.suppress(OSError):
                Lines([self.line], timeout=5.0).close()
            self.thread.join(5.0)

    def merge(self, best: str, x: str) -> Deltas:
        return self.shard.merge(best, x)

    def sizes(self) -> tuple[int, int]:
        """Distinct pre-tokens and their total count, as read."""
        return self.distinct, self.total

    def memory(self) -> tuple[int, int, int]:
        """This worker process's resident memory before this shard was read, now, and at its peak, in bytes."""
        return self.rss_before, _rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _rss() -> int:
    import psutil  # a dependency of distributed

    return int(psutil.Process().memory_info().rss)


@dataclass
class ShardedMergeReport:
    """What a sharded merge measured: how the shard files were split, the time, and each worker's memory."""

    files_per_actor: list[int]
    distinct: int
    total: int
    load_seconds: float
    merge_seconds: float
    channel: str  # how merges reached the shards: 'lines' (direct sockets) or 'actor calls'
    #: Per actor, bytes: its worker process's resident memory before reading the shard, at the end, and at its peak.
    worker_memory: list[tuple[int, int, int]] = field(default_factory=list)
    #: Pairs the coordinator counted, from the bytes' to the last merge's (its table's size, zero rows included).
    pairs: int = 0


def _workers(client: Any) -> list[str]:
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if not workers:
        raise ValueError("the Dask cluster has no workers; start some with `dask worker tcp://SCHEDULER:8786`.")
    return workers


def start_shards(counts: str | os.PathLike[str], *, client: Any, actors: int | None = None,
                 vocab: int = 1 << 31, compact: bool = True) -> tuple[list[Any], list[Any], list[str]]:
    """Start one :class:`MergeShard` actor per worker (or ``actors`` of them, round robin over the workers), each
    given every ``actors``-th shard file of the dataset at ``counts`` (``vocab``: the largest vocabulary its merges
    will reach; ``compact``: as :class:`MergeShard`); returns the actors, their futures (keep them:
    an actor lives as long as its future) and the host of each one's worker."""
    entries = manifest_entries(counts)
    workers = _workers(client)
    n = min(len(workers), len(entries)) if actors is None else actors
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"actors must be a positive integer, got {actors!r}.")
    if n > len(entries):
        raise ValueError(f"{counts}: {len(entries)} shard file(s) cannot feed {n} actors; count again with "
                         f"`tokviz count --shards {n}` or more, or use fewer actors.")
    run = uuid.uuid4().hex[:12]
    placed = [workers[i % len(workers)] for i in range(n)]
    futures = [client.submit(MergeShard, entries[i::n], vocab, compact, actor=True, workers=[placed[i]],
                             allow_other_workers=False, key=f"tokviz-merge-shard-{run}-{i}") for i in range(n)]
    return [f.result() for f in futures], futures, [_host(w) for w in placed]


def _call_all(shards: Sequence[Any], futures: Sequence[Any], method: str, *args: Any) -> list[Any]:
    """Call ``method`` on every actor at once, then wait for each: one round trip to the slowest. A call to an actor
    whose worker died would wait for its task to run again (it cannot: the actor is pinned to that worker), so the
    wait looks at the actors' futures every :data:`POLL_SECONDS` and gives up with :class:`ShardLost`."""
    try:
        pending = [getattr(s, method)(*args) for s in shards]
        out = []
        for p in pending:
            while True:
                try:
                    out.append(p.result(timeout=POLL_SECONDS))
                    break
                except TimeoutError:
                    gone = [f"{f.key} is {f.status}" for f in futures if f.status != "finished"]
                    if gone:
                        raise _lost(RuntimeError(f"actor {gone[0]}")) from None
        return out
    except (OSError, RuntimeError) as e:  # the actor's worker is gone (its own errors keep their types)
        if isinstance(e, ShardLost) or (isinstance(e, RuntimeError) and "lost" not in str(e)):
            raise
        raise _lost(e) from e


def _lost(e: BaseException) -> ShardLost:
    return ShardLost(f"a Dask worker holding a shard of the merge is gone ({e}); nothing is retried: give the "
                     "workers more memory, or more shards, and run the merge again.")


def _host(address: str) -> str:
    """The host of a Dask address: ``tcp://10.0.0.5:40123`` -> ``10.0.0.5`` (``[::1]`` -> ``::1``)."""
    return address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")


def _open_lines(shards: Sequence[Any], futures: Sequence[Any], hosts: Sequence[str]) -> Lines | None:
    """Direct lines to every shard, or None (the actors' threads stopped) if any cannot be reached."""
    opened = [s.open_line(h).result() for s, h in zip(shards, hosts)]
    try:
        return Lines(opened)
    except OSError:
        _call_all(shards, futures, "close_line")
        return None


@contextmanager
def _direct_client(client: Any) -> Iterator[Any]:
    """``client`` if it talks to workers directly, else a second client to the same scheduler that does: an actor
    call through the scheduler costs a hop more (4.1 against 5.9 ms a merge in one run here)."""
    if client.direct_to_workers:
        yield client
        return
    distributed = import_distributed()
    with distributed.Client(client.scheduler.address, direct_to_workers=True, set_as_default=False,
                            security=client.security, timeout="30s") as direct:
        yield direct


def merge_on_dask(
    counts: str | os.PathLike[str],
    *,
    client: Any,
    n_merges: int,
    actors: int | None = None,
    lines: bool = True,
    compact_shards: bool = True,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> tuple[MergeResult, ShardedMergeReport]:
    """Learn up to ``n_merges`` merges from the sharded counts at ``counts`` (a folder made by ``tokviz count
    --shards N``, or its manifest) on the Dask ``client``'s workers: the same merges as
    :func:`~tokviz.training.merge_loop.merge_counts` on the whole table, with each worker holding only its shards'
    pre-tokens and the client only the pair counts. ``actors`` defaults to one per worker (at most one per shard
    file). Each merge goes to the shards on a direct line (:mod:`tokviz.scale.merge_channel`) when ``lines`` is
    true and every worker's host answers on a new port, else as Dask actor calls. The shards hold their words in the
    compact loop's arrays unless ``compact_shards`` is false (:class:`MergeShard`)."""
    if n_merges < 0:
        raise ValueError(f"n_merges must be >= 0, got {n_merges}.")
    t0 = time.perf_counter()
    with _direct_client(client) as direct:
        shards, futures, hosts = start_shards(counts, client=direct, actors=actors, vocab=256 + n_merges,
                                              compact=compact_shards)
        line: Lines | None = None
        try:
            sizes = _call_all(shards, futures, "sizes")
            pair_counts = PairCounts(sum_pair_counts(_call_all(shards, futures, "pair_counts")))
            line = _open_lines(shards, futures, hosts) if lines else None
            t1 = time.perf_counter()
            result = merge_shards(pair_counts, _broadcast(shards, futures, line), n_merges=n_merges, on_merge=on_merge,
                                  should_stop=should_stop)
            t2 = time.perf_counter()
            channel = "lines" if line is not None else "actor calls"
            if line is not None:
                line.close()  # the shards' threads end
                line = None
            memory = _call_all(shards, futures, "memory")
        finally:
            if line is not None:
                line.close()
            direct.cancel(futures)
    n, n_files = len(shards), len(manifest_entries(counts))
    report = ShardedMergeReport([len(range(i, n_files, n)) for i in range(n)], sum(d for d, _ in sizes),
                                sum(t for _, t in sizes), t1 - t0, t2 - t1, channel, [tuple(m) for m in memory],
                                pair_counts.counted)
    return result, report


def _broadcast(shards: Sequence[Any], futures: Sequence[Any],
               line: Lines | None) -> Callable[[str, str], list[Deltas]]:
    if line is None:
        return lambda best, x: _call_all(shards, futures, "merge", best, x)

    def on_lines(best: str, x: str) -> list[Deltas]:
        try:
            return line.merge(best, x)
        except LineBroken as e:
            raise _lost(e) from e

    return on_lines


def train_on_dask(
    counts: str | os.PathLike[str],
    *,
    client: Any,
    vocab_size: int,
    name: str = "bpe",
    actors: int | None = None,
    progress: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> Tokenizer:
    """``train_bpe(load_shards(counts), vocab_size=...)`` with the merge sharded across the Dask workers
    (:func:`merge_on_dask`): the same tokenizer (the counts' pattern and special tokens, specials first, then the
    256 bytes, then the merges), without any process holding the whole table."""
    _, data = read_manifest(counts)
    pattern, specials = str(data.get("pattern", "gpt2")), [str(s) for s in cast(list[str], data["special_tokens"])]
    validate_vocab_size(vocab_size, len(specials))
    result, report = merge_on_dask(counts, client=client, n_merges=vocab_size - 256 - len(specials), actors=actors,
                                   on_merge=progress, should_stop=should_stop)
    vocab = vocab_of(specials, result.merges)
    tok = Tokenizer(vocab, result.merges, specials, pattern, name=name)
    tok.training = TrainingReport(requested_vocab_size=vocab_size, vocab_size=len(vocab), merge_counts=result.counts,
                                  seconds=report.load_seconds + report.merge_seconds,
                                  stopped_early=result.stopped_early, message=result.message,
                                  n_pretokens=report.total, n_distinct_pretokens=report.distinct)
    return tok

