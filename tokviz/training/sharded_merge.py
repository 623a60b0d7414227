"""The merge loop over shards of the pre-token table: the same merges as one process, with no process holding the
whole table.

Each shard (:class:`WordShard`) holds its own pre-tokens as :class:`~tokviz.training.merge_loop.WordTable` does in
the one-process loop: the words as token strings with their counts, and for each pair the words holding it. The
coordinator (:func:`merge_shards`) holds only the global pair counts (the sum of every shard's), packed in two
``int64`` arrays (:class:`PairCounts`: 16 to 20 B a pair, needs numpy), and the compact loop's heap
(:class:`~tokviz.training.compact_merge.PairHeap`: the one-process loops' scheme and tie rule, highest count; ties
to the lexicographically greatest pair of byte strings), so each merge is the one the one-process loops pick. Each
step it sends (pair, new token) to every shard; each shard merges its words and answers with its pair-count deltas:
what its neighbour pairs lost, and the counts of the pairs the merge made. A pair's global count is the sum of its
shards' counts at every step, so the coordinator's table equals the one-process loop's, and so do the merges.
Nothing can be pipelined across steps (the next pair depends on every shard's deltas), so each merge costs one round
trip to the slowest shard.

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
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from tokviz.training.compact_merge import SortedPairs
from tokviz.training.merge_loop import CancelCheck, Merge, MergeResult, WordTable, run_merges

if TYPE_CHECKING:
    from numpy import ndarray

    from tokviz.training.compact_merge import WordArrays

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


class CompactShard:
    """One shard's pre-tokens in the compact loop's arrays (:class:`~tokviz.training.compact_merge.CompactLoop`
    without its heap: about 160 B a distinct pre-token against :class:`WordShard`'s 560), merged as the coordinator
    says; needs numpy. Its answers are :class:`WordShard`'s for the same pre-tokens, except that the merged pair's
    own fall is left out (the coordinator drops that pair whatever its count). ``vocab`` is the largest vocabulary
    the merges will reach (symbols take 2 bytes below 65,535 tokens, else 4).

    >>> shard = CompactShard({"abab": 2, "ab": 1})
    >>> shard.pair_counts() == WordShard({"abab": 2, "ab": 1}).pair_counts() == {"ab": 5, "ba": 2}
    True
    >>> shard.merge("ab", chr(256))
    ({'ba': -2}, {'ĀĀ': 2})
    """

    def __init__(self, word_counts: Mapping[str, int] | Mapping[bytes, int] | WordArrays, *,
                 vocab: int = 1 << 31) -> None:
        from tokviz.training.compact_merge import CompactLoop, WordArrays

        words = word_counts if isinstance(word_counts, WordArrays) else WordArrays.from_mapping(word_counts)
        self.loop = CompactLoop(words, vocab, candidates=False)

    def pair_counts(self) -> dict[str, int]:
        """This shard's count of each adjacent pair."""
        return self.loop.as_dict()

    def merge(self, best: str, x: str) -> Deltas:
        """Merge pair ``best`` into token ``x`` (the next token: every shard is sent every merge) in this shard's
        words; returns its :data:`Deltas`."""
        from tokviz.training.compact_merge import pack, pair_strings, unpack

        loop = self.loop
        a, b, xc = ord(best[0]), ord(best[1]), ord(x)
        if xc != len(loop.tokens):
            raise ValueError(f"this shard's next token is {len(loop.tokens)}, not {xc}: send every shard every "
                             "merge, in order.")
        key = pack(a, b)
        if loop.count_of(key) <= 0:  # none of this shard's words holds the pair
            loop.tokens.append(loop.tokens[a] + loop.tokens[b])
            return {}, {}
        keys, sums = loop.merge(key, a, b)
        keep = (sums != 0) & (keys != key)
        keys, sums = keys[keep], sums[keep]
        pairs = pair_strings(*unpack(keys))
        new = ((keys >> 32) == xc).tolist()  # the new token is the newer of any pair holding it
        fallen: dict[str, int] = {}
        made: dict[str, int] = {}
        for q, d, is_new in zip(pairs, sums.tolist(), new):
            (made if is_new else fallen)[q] = d
        return fallen, made


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
    pair_counts: Mapping[str, int] | PairCounts,
    broadcast: Callable[[str, str], Iterable[Deltas]],
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> MergeResult:
    """The coordinator: learn up to ``n_merges`` merges from the global ``pair_counts`` (:func:`sum_pair_counts` of
    the shards', or a :class:`PairCounts` of them, updated in place), calling ``broadcast(pair, new_token)`` for each
    merge, which applies it in every shard and gives
    each shard's :data:`Deltas`. Pairs and tokens are characters: token ``i`` is ``chr(i)``, the first 256 are the
    bytes, merge ``k`` makes token ``256 + k``. The counts are held packed (:class:`PairCounts`) and each merge is
    picked by :class:`~tokviz.training.compact_merge.PairHeap` (needs numpy). ``on_merge`` and ``should_stop`` are
    as in :func:`~tokviz.training.merge_loop.merge_counts`.

    >>> shard = WordShard({"aaa": 2})
    >>> merge_shards(shard.pair_counts(), lambda p, x: [shard.merge(p, x)], n_merges=5).merges
    [(b'a', b'a'), (b'aa', b'a')]
    """
    if n_merges < 0:
        raise ValueError(f"n_merges must be >= 0, got {n_merges}.")
    from tokviz.training.compact_merge import PairHeap, unpack

    tokens: list[bytes] = [bytes([b]) for b in range(256)]
    table = pair_counts if isinstance(pair_counts, PairCounts) else PairCounts(pair_counts)
    candidates = PairHeap(table)

    def step() -> tuple[bytes, bytes, int] | None:
        found = candidates.pop_best()
        if found is None:
            return None
        key, count = found
        a, b = unpack(key)
        tokens.append(tokens[a] + tokens[b])
        candidates.add_token(a, b)
        x = len(tokens) - 1
        made, made_counts = table.apply(key, x, list(broadcast(chr(a) + chr(b), chr(x))))
        candidates.push_new(made, made_counts)
        return tokens[a], tokens[b], count

    return run_merges(step, n_merges=n_merges, on_merge=on_merge, should_stop=should_stop)


class PairCounts(SortedPairs):
    """The coordinator's global pair counts, packed: two ``int64`` arrays, the pairs' keys
    (:func:`~tokviz.training.compact_merge.pack` of their two token ids) sorted, and their counts, 16 B a pair (20 B
    at most with the room kept for growth) where a ``dict`` of 2-character strings and the heap entry of each cost
    about 150 (the heap, :class:`~tokviz.training.compact_merge.PairHeap`, holds the frequent pairs only, and the
    rare ones as 8 B keys until they may be best). A merge makes pairs with its new token only, newer than every
    other, so their keys sort after every key there is: the table only grows at its end, as the compact loop's does.
    Rows whose count fell to 0 are dropped once they are half of a large table.

    >>> table = PairCounts({"ab": 3, "ba": 1})
    >>> made, counts = table.apply(table.key_of("ab"), 256, [({"ba": -1}, {chr(256) + "a": 2})])
    >>> table.as_dict()
    {'Āa': 2}
    """

    def __init__(self, pair_counts: Mapping[str, int], *, compact_from: int = 1 << 16) -> None:
        import numpy as np

        self.np = np
        keys = pack_pairs(pair_counts)
        counts = np.fromiter(pair_counts.values(), dtype=np.int64, count=len(pair_counts))
        order = np.argsort(keys, kind="stable")
        self.key = keys[order]
        self.count = counts[order]
        self.n = len(self.key)
        self.zeros = int((self.count == 0).sum())
        self.compact_from = compact_from
        self.counted = self.n  # pairs ever given a row (what a dict of them would hold at the end)

    def key_of(self, pair: str) -> int:
        """The packed key of a pair of two token characters."""
        from tokviz.training.compact_merge import pack

        return int(pack(ord(pair[0]), ord(pair[1])))

    def apply(self, best: int, x: int, answers: Sequence[Deltas]) -> tuple[ndarray, ndarray]:
        """The merge of pair ``best`` into token ``x`` done in every shard, whose :data:`Deltas` are ``answers``: add
        the neighbour pairs' losses, drop ``best``, and append the pairs the merge made; returns those (keys sorted,
        counts), as the one-process loop has them once the merged pair left its table and the new pairs entered
        it."""
        from tokviz.training.compact_merge import sum_by_key

        np = self.np
        # One pass over every answer: the made pairs hold x, so their keys sort after every fallen one's.
        keys, sums = sum_by_key(*_packed(np, [table for answer in answers for table in answer]))
        split = int(np.searchsorted(keys, x << 32))
        if split < len(keys) and int(keys[-1]) >> 32 != x:
            raise ValueError(f"a shard made a pair of a token newer than {x}, the token this merge makes; every "
                             "shard must be sent every merge, in order.")
        fallen_keys, fallen = keys[:split], sums[:split]
        rows = self.find(fallen_keys)
        if split and (int(rows[-1]) >= self.n or (self.key[rows] != fallen_keys).any()):
            raise ValueError("a shard's deltas name a pair the coordinator never counted: the shards must be the "
                             "ones whose pair_counts it started from, each sent every merge.")
        count = self.count
        count[rows] += fallen
        best_row = int(np.searchsorted(self.key[: self.n], best))
        # Counts only fall to 0 here (a pair never comes back), so the rows at 0 are counted as they get there.
        self.zeros += int(np.count_nonzero(count[rows] == 0)) + int(count[best_row] != 0)
        count[best_row] = 0  # as the one-process loop: the merged pair leaves the table
        made, made_counts = keys[split:], sums[split:]
        self._append(made, made_counts)
        self.counted += len(made)
        if self.n > self.compact_from and self.zeros * 2 > self.n:
            self._compact()
        return made, made_counts

    def _append(self, keys: ndarray, counts: ndarray) -> None:
        need = self.n + len(keys)
        if need > len(self.key):
            # In place (realloc): a copy into a new array would hold the old one beside it, 2.25 times the table
            # at that moment; the 25 per cent of room keeps the regrowths few.
            cap = max(need, len(self.key) * 5 // 4, 1024)
            self.key.resize(cap, refcheck=False)  # no view of the table outlives a method of this class
            self.count.resize(cap, refcheck=False)
        self.key[self.n : need] = keys
        self.count[self.n : need] = counts
        self.n = need

    def _compact(self) -> None:
        """Drop the rows whose count is 0 (a pair that reached 0 never comes back: new pairs hold a new token)."""
        keep = self.count[: self.n] != 0
        kept = int(self.np.count_nonzero(keep))
        self.key[:kept] = self.key[: self.n][keep]
        self.count[:kept] = self.count[: self.n][keep]
        del keep
        self.key.resize(kept + kept // 8 + 1024, refcheck=False)
        self.count.resize(kept + kept // 8 + 1024, refcheck=False)
        self.n, self.zeros = kept, 0


def pack_pairs(pairs: Iterable[str]) -> ndarray:
    """The packed keys (:func:`~tokviz.training.compact_merge.pack`) of pairs given as 2-character strings, in
    order, without a Python step per pair: the strings joined and read as UTF-32 code points.

    >>> from tokviz.training.compact_merge import pack
    >>> pack_pairs(["ab", chr(300) + "a"]).tolist() == [pack(97, 98), pack(300, 97)]
    True
    """
    import numpy as np

    from tokviz.training.compact_merge import pack

    parts = list(pairs)
    if any(n != 2 for n in set(map(len, parts))):
        raise ValueError("each pair must be two token characters; got a string of another length.")
    text = "".join(parts)
    # surrogatepass: tokens 55,296 to 57,343 are lone surrogates as characters, still one code point each.
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    return pack(codes[0::2], codes[1::2])


def _packed(np: Any, tables: Sequence[Mapping[str, int]]) -> tuple[ndarray, ndarray]:
    """Every table's pairs as packed keys, and their values, concatenated."""
    total = sum(map(len, tables))
    keys = pack_pairs(chain.from_iterable(tables))
    values = np.fromiter(chain.from_iterable(t.values() for t in tables), dtype=np.int64, count=total)
    return keys, values


def merge_in_shards(
    tables: Sequence[Mapping[str, int] | Mapping[bytes, int]],
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
    compact: bool = False,
) -> MergeResult:
    """:func:`merge_shards` over a :class:`WordShard` per table (a :class:`CompactShard` with ``compact``), all in
    this process: the same merges as :func:`~tokviz.training.merge_loop.merge_counts` on the tables' union (their
    keys must not overlap, as a sharded counts dataset's never do)."""
    shards: list[Shard] = [CompactShard(t, vocab=256 + n_merges) if compact else WordShard(t) for t in tables]
    pair_counts = sum_pair_counts(s.pair_counts() for s in shards)
    return merge_shards(pair_counts, lambda best, x: [s.merge(best, x) for s in shards], n_merges=n_merges,
                        on_merge=on_merge, should_stop=should_stop)

