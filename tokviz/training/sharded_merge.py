"""The merge loop over shards of the pre-token table: the same merges as one process, with no process holding the
whole table.

Each shard (:class:`WordShard`) holds its own pre-tokens as :class:`~tokviz.training.merge_loop.WordTable` does in
the one-process loop: the words as token strings with their counts, and for each pair the words holding it. The
coordinator (:func:`merge_shards`) holds only the global pair counts (the sum of every shard's) and the
:class:`~tokviz.training.merge_loop.Candidates` heap, so each merge is picked by the one-process loop's own tie rule
(highest count; ties to the lexicographically greatest pair of byte strings). Each step it sends (pair, new token) to
every shard; each shard merges its words and answers with its pair-count deltas: what its neighbour pairs lost, and
the counts of the pairs the merge made. A pair's global count is the sum of its shards' counts at every step, so the
coordinator's table equals the one-process loop's, and so do the merges. Nothing can be pipelined across steps (the
next pair depends on every shard's deltas), so each merge costs one round trip to the slowest shard.

The shards may live anywhere a call can reach: in this process (tests, :func:`merge_in_shards`), or as Dask actors
(:mod:`tokviz.scale.dask_merge`).

Example:
    >>> from tokviz.training.merge_loop import merge_counts
    >>> table = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    >>> result = merge_in_shards([{"low": 5, "newest": 6}, {"lower": 2, "widest": 3}], n_merges=3)
    >>> result.merges == merge_counts(table, n_merges=3).merges
    True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from tokviz.training.merge_loop import (
    CancelCheck,
    Candidates,
    Merge,
    MergeResult,
    WordTable,
    run_merges,
)

#: What a shard answers to one merge: the pairs whose counts fell (negative deltas), and the pairs the merge made
#: with their counts (each holds the new token, so none is in the first).
Deltas = tuple[dict[str, int], dict[str, int]]


class WordShard:
    """One shard's pre-tokens, merged as the coordinator says.

    >>> shard = WordShard({"abab": 2, "ab": 1})
    >>> shard.pair_counts()
    {'ab': 5, 'ba': 2}
    >>> shard.merge("ab", chr(256))
    ({'ba': -2}, {'ĀĀ': 2})
    """

    def __init__(self, word_counts: Mapping[str, int] | Mapping[bytes, int]) -> None:
        self.table = WordTable(word_counts)

    def pair_counts(self) -> dict[str, int]:
        """This shard's count of each adjacent pair."""
        return self.table.pair_counts()

    def merge(self, best: str, x: str) -> Deltas:
        """Merge pair ``best`` (two token characters) into token ``x`` in this shard's words; returns its
        :data:`Deltas`."""
        fallen: defaultdict[str, int] = defaultdict(int)
        made = self.table.merge(best, x, fallen)
        return dict(fallen), made


class Shard(Protocol):
    """What :func:`merge_in_shards` needs of a shard (:class:`WordShard` is one)."""

    def pair_counts(self) -> dict[str, int]: ...

    def merge(self, best: str, x: str) -> Deltas: ...


def sum_pair_counts(tables: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The global pair counts: each pair's counts summed over the shards.

    >>> sum_pair_counts([{"ab": 2}, {"ab": 1, "bc": 4}])
    {'ab': 3, 'bc': 4}
    """
    total: dict[str, int] = {}
    get = total.get
    for table in tables:
        for p, c in table.items():
            total[p] = get(p, 0) + c
    return total


def merge_shards(
    pair_counts: dict[str, int],
    broadcast: Callable[[str, str], Iterable[Deltas]],
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> MergeResult:
    """The coordinator: learn up to ``n_merges`` merges from the global ``pair_counts`` (:func:`sum_pair_counts` of
    the shards'; updated in place), calling ``broadcast(pair, new_token)`` for each merge, which applies it in every
    shard and gives each shard's :data:`Deltas`. Pairs and tokens are characters: token ``i`` is ``chr(i)``, the
    first 256 are the bytes, merge ``k`` makes token ``256 + k``. ``on_merge`` and ``should_stop`` are as in
    :func:`~tokviz.training.merge_loop.merge_counts`.

    >>> shard = WordShard({"aaa": 2})
    >>> merge_shards(shard.pair_counts(), lambda p, x: [shard.merge(p, x)], n_merges=5).merges
    [(b'a', b'a'), (b'aa', b'a')]
    """
    if n_merges < 0:
        raise ValueError(f"n_merges must be >= 0, got {n_merges}.")
    tokens: list[bytes] = [bytes([b]) for b in range(256)]
    candidates = Candidates(pair_counts)
    get = pair_counts.get

    def step() -> tuple[bytes, bytes, int] | None:
        taken = candidates.take(tokens)
        if taken is None:
            return None
        best, x, count = taken
        made: dict[str, int] = {}
        made_get = made.get
        for fallen, new in broadcast(best, x):
            for q, d in fallen.items():
                pair_counts[q] = get(q, 0) + d
            for q, c in new.items():
                made[q] = made_get(q, 0) + c
        # As the one-process loop: the merged pair leaves the table, then the new pairs enter it.
        pair_counts.pop(best, None)
        for q, c in made.items():
            pair_counts[q] = c
            candidates.push(q, c)
        return tokens[ord(best[0])], tokens[ord(best[1])], count

    return run_merges(step, n_merges=n_merges, on_merge=on_merge, should_stop=should_stop)


def merge_in_shards(
    tables: Sequence[Mapping[str, int] | Mapping[bytes, int]],
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> MergeResult:
    """:func:`merge_shards` over a :class:`WordShard` per table, all in this process: the same merges as
    :func:`~tokviz.training.merge_loop.merge_counts` on the tables' union (their keys must not overlap, as a
    sharded counts dataset's never do)."""
    shards = [WordShard(t) for t in tables]
    pair_counts = sum_pair_counts(s.pair_counts() for s in shards)
    return merge_shards(pair_counts, lambda best, x: [s.merge(best, x) for s in shards], n_merges=n_merges,
                        on_merge=on_merge, should_stop=should_stop)

