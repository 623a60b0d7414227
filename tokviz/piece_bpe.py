"""BPE inside one pre-token, by either of the two rules in use, in O(n log n) time on any input.

Both rules merge one adjacent pair at a time, the leftmost one where the best pair occurs more than once; they differ
in which pair is best:

- the **merge-list** rule (CS336, minbpe, Hugging Face): the pair with the lowest merge rank; the new token is that
  merge's result (:func:`merge_by_pairs`);
- the **rank** rule (tiktoken): the pair whose *concatenation* is the token of lowest rank; the new token is that
  token, so tokens that no merge builds are reached too (:func:`split_by_ranks`).

Short pieces (most are under 20 bytes) use plain lists with C-level ``min`` and ``list.index``: quadratic, but
fastest when n is small. Longer pieces use a doubly linked list held in arrays, with the positions of ranked adjacent
pairs kept in one bucket per rank and a heap of the ranks that have a bucket. The lowest rank's bucket is sorted and
merged left to right in one sweep: a merge never makes another pair of the same rank (the new token is longer than
either part), so this is the rule's order, unless a merge makes a pair of *lower* rank, where the sweep stops and
puts the rest of its bucket back. Positions are never removed from buckets: one whose pair a neighbouring merge
changed is skipped when reached, because the pair now there has another rank (a rank names one pair, and the pair
at a position only ever changes into a longer one). Each merge costs O(1) plus the sorts: O(n log n) in all, with
far fewer Python-level steps than a heap entry per pair.

Example:
    >>> merge_by_pairs([104, 101, 108, 112], {(104, 101): 0, (256, 108): 1}, [256, 257])
    ([257, 112], [0, 1])
    >>> split_by_ranks(b"hello", {b"h": 0, b"e": 1, b"l": 2, b"o": 3, b"ll": 4, b"llo": 5})
    [0, 1, 2, 5]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from heapq import heapify, heappop, heappush
from typing import Any

#: A rank above every real one: the pair is not a merge (or its concatenation not a token).
NO_RANK = 1 << 62
#: Pieces of at most this many bytes take the list algorithm, faster there than the heap (measured with
#: ``bench/piece_threshold.py`` on GPT-2: the two cross at 24-32 bytes for both rules; at 16 bytes the list is
#: 1.5-2x faster, at 96 the heap is).
SHORT_PIECE = 32


def merge_by_pairs(
    ids: list[int],
    ranks: Mapping[tuple[int, int], int],
    merged: Sequence[int],
    *,
    limit: int = NO_RANK,
) -> tuple[list[int], list[int]]:
    """Apply merges to token ids: ``(final ids, ranks of the merges applied in order)``; ``ids`` is consumed.

    ``ranks`` maps a pair of ids to its merge rank, ``merged[rank]`` is the id that merge makes; only merges of rank
    below ``limit`` are used.

    >>> merge_by_pairs([1, 1, 1], {(1, 1): 0}, [2])
    ([2, 1], [0])
    """
    if len(ids) <= SHORT_PIECE:
        return _pairs_short(ids, ranks, merged, limit)
    return _pairs_heap(ids, ranks, merged, limit)


def _pairs_short(
    ids: list[int], ranks: Mapping[tuple[int, int], int], merged: Sequence[int], limit: int
) -> tuple[list[int], list[int]]:
    steps: list[int] = []
    if len(ids) < 2:
        return ids, steps
    get = ranks.get
    pr = [get(p, NO_RANK) for p in zip(ids, ids[1:], strict=False)]
    while pr:
        r = min(pr)
        if r >= limit:
            break
        i = pr.index(r)  # leftmost occurrence of the best pair
        ids[i] = merged[r]
        del ids[i + 1]
        del pr[i]
        steps.append(r)
        if i > 0:
            pr[i - 1] = get((ids[i - 1], ids[i]), NO_RANK)
        if i < len(pr):
            pr[i] = get((ids[i], ids[i + 1]), NO_RANK)
    return ids, steps


def _pairs_heap(
    ids: list[int], ranks: Mapping[tuple[int, int], int], merged: Sequence[int], limit: int
) -> tuple[list[int], list[int]]:
    steps: list[int] = []
    nxt = _heap_merge(ids, None, ranks, merged, limit, steps)
    out = []
    i, n = 0, len(ids)
    while i < n:
        out.append(ids[i])
        i = nxt[i]
    return out, steps


def _heap_merge(
    ids: list[int],
    piece: bytes | None,
    ranks: Mapping[Any, int],
    merged: Sequence[int],
    limit: int,
    steps: list[int],
) -> list[int]:
    """Both rules' heap loop; the ``nxt`` links of the result (node ``i`` is followed by ``nxt[i]``, ``n`` ends).

    The merge-list rule (``piece`` None) works on the token ids of ``ids``, updated in place, and records the rank
    of each merge in ``steps``; the rank rule works on the byte offsets of ``piece`` (``ids`` then only gives the
    length) and looks up the concatenation's bytes. The one branch per lookup costs less than a call would.
    """
    by_pairs = piece is None
    n = len(ids)
    get = ranks.get
    nxt = list(range(1, n + 1))
    nxt.append(n)  # nxt[n] == n, so the node after the last one reads as "none"
    prv = list(range(-1, n - 1))
    buckets: dict[int, list[int]] = {}
    if piece is None:
        firsts: Iterable[int | None] = map(get, zip(ids, ids[1:], strict=False))
    else:
        firsts = map(get, map(piece.__getitem__, map(slice, range(n - 1), range(2, n + 1))))
    for i, r in enumerate(firsts):
        if r is not None and r < limit:
            b = buckets.get(r)
            if b is None:
                buckets[r] = [i]
            else:
                b.append(i)
    heap = list(buckets)
    heapify(heap)
    while heap:
        r = heappop(heap)
        at = buckets.pop(r)
        at.sort()
        new_id = merged[r] if by_pairs else 0
        for t, i in enumerate(at):
            j = nxt[i]
            if j == n:
                continue
            k = nxt[j]
            if get((ids[i], ids[j]) if piece is None else piece[i:k]) != r:
                continue  # stale: a neighbour's merge changed this pair
            nxt[i] = k
            nxt[j] = n
            if piece is None:
                ids[i] = new_id
                steps.append(r)
            lower = False
            p = prv[i]
            if p >= 0:
                r2 = get((ids[p], new_id) if piece is None else piece[p:k])
                if r2 is not None and r2 < limit:
                    b = buckets.get(r2)
                    if b is None:
                        buckets[r2] = [p]
                        heappush(heap, r2)
                    else:
                        b.append(p)
                    lower = r2 < r
            if k < n:
                prv[k] = i
                r2 = get((new_id, ids[k]) if piece is None else piece[i : nxt[k]])
                if r2 is not None and r2 < limit:
                    b = buckets.get(r2)
                    if b is None:
                        buckets[r2] = [i]
                        heappush(heap, r2)
                    else:
                        b.append(i)
                    lower = lower or r2 < r
            if lower and t + 1 < len(at):
                # A better pair appeared: it merges first, and the rest of this rank waits its turn again.
                rest = at[t + 1 :]
                b = buckets.get(r)
                if b is None:
                    buckets[r] = rest
                    heappush(heap, r)
                else:
                    b.extend(rest)
                break
    return nxt


def split_by_ranks(piece: bytes, ranks: Mapping[bytes, int], *, limit: int = NO_RANK) -> list[int]:
    """tiktoken's rule on one piece: the byte offsets where its final tokens start, plus ``len(piece)``.

    ``ranks`` maps token bytes to rank and must hold every byte of ``piece``; only tokens of rank below ``limit``
    are made.

    >>> split_by_ranks(b"aaa", {b"a": 0, b"aa": 1})
    [0, 2, 3]
    """
    if len(piece) <= SHORT_PIECE:
        return _ranks_short(piece, ranks, limit)
    return _ranks_heap(piece, ranks, limit)


def _ranks_short(piece: bytes, ranks: Mapping[bytes, int], limit: int) -> list[int]:
    n = len(piece)
    bounds = list(range(n + 1))
    if n < 2:
        return bounds
    get = ranks.get
    pr = [get(piece[i : i + 2], NO_RANK) for i in range(n - 1)]
    while pr:
        r = min(pr)
        if r >= limit:
            break
        i = pr.index(r)
        del bounds[i + 1]
        del pr[i]
        if i > 0:
            pr[i - 1] = get(piece[bounds[i - 1] : bounds[i + 1]], NO_RANK)
        if i < len(pr):
            pr[i] = get(piece[bounds[i] : bounds[i + 2]], NO_RANK)
    return bounds


def _ranks_heap(piece: bytes, ranks: Mapping[bytes, int], limit: int) -> list[int]:
    n = len(piece)
    nxt = _heap_merge(list(range(n)), piece, ranks, (), limit, [])
    bounds = []
    i = 0
    while i < n:
        bounds.append(i)
        i = nxt[i]
    bounds.append(n)
    return bounds
