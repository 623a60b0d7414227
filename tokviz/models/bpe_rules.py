"""BPE inside one pre-token, by either of the two rules in use, in O(n log n) time on any input.

Both rules merge one adjacent pair at a time, the leftmost one where the best pair occurs more than once; they differ
in which pair is best:

- the **merge-list** rule (CS336, minbpe, Hugging Face): the pair with the lowest merge rank; the new token is that
  merge's result (:func:`merge_by_pairs`);
- the **rank** rule (tiktoken): the pair whose *concatenation* is the token of lowest rank; the new token is that
  token, so tokens that no merge builds are reached too (:func:`split_by_ranks`).

Short pieces (most are under 20 bytes) use plain lists with C-level ``min`` and ``list.index``: quadratic, but
fastest when n is small; the encoder has its own copies of these loops (:func:`encode_pairs`, :func:`encode_ranks`)
without the merge steps and rank limit the views need. Longer pieces go through two phases:

- **dense rounds**: while the lowest rank covers a good share of the pairs (a run of one character: every pair),
  all its non-overlapping occurrences merge at once, left to right, with C-level passes over the list, provided
  no merge of the round makes a pair of lower rank (checked first; see :func:`_merge_long`);
- **the bucket loop**: a doubly linked list held in arrays, the positions of ranked adjacent pairs kept in one
  bucket per rank and a heap of the ranks that have a bucket. The lowest rank's bucket is sorted and merged left
  to right in one sweep: a merge never makes another pair of the same rank (the new token is longer than either
  part), so this is the rule's order, unless a merge makes a pair of *lower* rank, where the sweep stops and puts
  the rest of its bucket back. Positions are never removed from buckets: ``pr[i]``, the rank of the pair at node
  ``i`` now, is kept exact, so an entry whose pair a neighbouring merge changed is skipped when reached without a
  lookup (a rank names one pair, and the pair at a position only ever changes into a longer one).

Each merge costs O(1) plus the sorts, and the dense rounds O(n) in all: O(n log n) for any piece.

Example:
    >>> merge_by_pairs([104, 101, 108, 112], {(104, 101): 0, (256, 108): 1}, [256, 257])
    ([257, 112], [0, 1])
    >>> split_by_ranks(b"hello", {b"h": 0, b"e": 1, b"l": 2, b"o": 3, b"ll": 4, b"llo": 5})
    [0, 1, 2, 5]
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from heapq import heapify, heappop, heappush
from itertools import accumulate, chain, compress, repeat
from operator import add, sub
from typing import Any

#: A rank above every real one: the pair is not a merge (or its concatenation not a token).
NO_RANK = 1 << 62
#: Pieces of at most this many bytes take the list algorithm, faster there than the heap (measured with
#: ``bench/piece_threshold.py`` on GPT-2: the two cross at 24-32 bytes for both rules; at 16 bytes the list is
#: 1.5-2x faster, at 96 the heap is).
SHORT_PIECE = 32
#: A round of the lowest rank is merged in bulk while that rank covers at least 1 / DENSE_ROUND of the pairs: one
#: C-level pass over all pairs then costs less than the loop's work per merge. On ``"x" * 10**6`` every round is
#: dense; on 100 KB of random ACGT with GPT-2 (rounds of about 6% of the pairs) 16 or 32 instead of 4 sends the
#: first rounds to bulk and the piece takes 1.6x or 2.5x as long (process time, median of 9).
DENSE_ROUND = 4
_BYTES = [bytes([b]) for b in range(256)]


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
    return _merge_long(ids, ranks, merged, limit, steps), steps


def _merge_long(
    vals: list[Any], ranks: Mapping[Any, int], merged: Sequence[int] | None, limit: int, steps: list[int]
) -> list[Any]:
    """Both rules on a long piece: the final tokens. ``vals`` (consumed) holds the piece's first tokens.

    The merge-list rule (``merged`` given) works on token ids, looks pairs up as ``(left, right)`` and records the
    rank of each merge in ``steps``; the rank rule (``merged`` None) works on token bytes and looks up the
    concatenation, which is also the new token. One branch per lookup costs less than a call would.

    Dense rounds first: while the lowest rank covers at least ``1 / DENSE_ROUND`` of the pairs (``"x" * 10**6``:
    every pair, round after round), all its non-overlapping occurrences merge at once, left to right, with C-level
    passes over the whole list. That is the rule's order exactly when no merge of the round makes a pair of lower
    rank; every pair the round makes one merge at a time is looked up first (with the right neighbour as it was
    then), and if one ranks lower the round is left to the incremental loop. Each dense round removes at least a
    fraction of the tokens, so the rounds cost O(n) in all. Then the incremental loop (see the module docstring)
    finishes.
    """
    by_pairs = merged is not None
    get = ranks.get
    vals.append(-1 if by_pairs else b"")  # the neighbour of the ends: no pair with it ranks below a real one
    while True:
        rs = list(map(get, zip(vals, vals[1:-1]) if by_pairs else map(add, vals, vals[1:-1]), repeat(NO_RANK)))
        m = len(rs)
        if m == 0:
            vals.pop()
            return vals
        r = min(rs)
        if r >= limit:
            vals.pop()
            return vals
        if rs.count(r) * DENSE_ROUND < m:
            break
        first = rs.index(r)
        new = merged[r] if merged is not None else vals[first] + vals[first + 1]
        sel: list[int] = []  # where the round merges, left to right
        loose: list[int] = []  # of those, the ones whose left neighbour is not merged in this round
        last = -2
        for t in compress(range(m), map(r.__eq__, rs)):
            if t > last + 1:
                if t != last + 2:
                    loose.append(t)
                sel.append(t)
                last = t
        # distinct neighbours only: a run of one character has one, so its rounds cost no lookups here
        rights = set(map(vals.__getitem__, map(add, sel, repeat(2))))
        lefts = set(map(vals.__getitem__, map(sub, loose, repeat(1))))
        chained = len(loose) < len(sel)  # two merges side by side also make the pair (new, new)
        made: Iterable[Any]
        if by_pairs:
            made = chain(zip(repeat(new), rights), zip(lefts, repeat(new)), [(new, new)] if chained else ())
        else:
            made = chain(map(add, repeat(new), rights), map(add, lefts, repeat(new)), [new + new] if chained else ())
        if min(map(get, made, repeat(NO_RANK))) < r:
            break  # a merge of this round makes a better pair: it must merge before the round goes on
        keep = bytearray(b"\x01") * len(vals)
        for t in sel:
            vals[t] = new
            keep[t + 1] = 0
        vals = list(compress(vals, keep))
        if by_pairs:
            steps.extend(repeat(r, len(sel)))
    vals.pop()
    return _incremental(vals, rs, get, merged, limit, steps)


def _incremental(
    vals: list[Any],
    pr: list[int],
    get: Callable[[Any, int], int],
    merged: Sequence[int] | None,
    limit: int,
    steps: list[int],
) -> list[Any]:
    """The bucket loop of the module docstring; ``pr[i]`` is the rank of the pair at node ``i`` (NO_RANK if none).

    ``pr`` is kept exact for every live node, so a bucket entry is stale exactly when ``pr[i]`` differs from its
    rank: checking costs no lookup.
    """
    by_pairs = merged is not None
    n = len(vals)
    nxt = list(range(1, n + 1))
    prv = list(range(-1, n - 1))
    buckets = dict(_first_buckets(pr, limit))  # a plain dict: a new rank raises KeyError below
    pr.append(NO_RANK)  # the last node has no pair
    heap = list(buckets)
    heapify(heap)
    record = steps.append
    while heap:
        r = heappop(heap)
        at = buckets.pop(r)
        at.sort()
        new = merged[r] if merged is not None else None
        lower = False
        for i in at:
            if pr[i] != r:
                continue  # stale: a merge here or next door changed this pair
            j = nxt[i]
            k = nxt[j]
            if by_pairs:
                record(r)
            else:
                new = vals[i] + vals[j]
            vals[i] = new
            nxt[i] = k
            pr[j] = NO_RANK
            p = prv[i]
            if p >= 0:
                r2 = pr[p] = get((vals[p], new) if by_pairs else vals[p] + new, NO_RANK)
                if r2 < limit:
                    try:
                        buckets[r2].append(p)
                    except KeyError:  # a rank seen for the first time (a subscript is cheaper than .get here)
                        buckets[r2] = [p]
                        heappush(heap, r2)
                    if r2 < r:
                        lower = True
            if k < n:
                prv[k] = i
                r2 = pr[i] = get((new, vals[k]) if by_pairs else new + vals[k], NO_RANK)
                if r2 < limit:
                    try:
                        buckets[r2].append(i)
                    except KeyError:
                        buckets[r2] = [i]
                        heappush(heap, r2)
                    if r2 < r:
                        lower = True
            else:
                pr[i] = NO_RANK
            if lower:
                # A better pair appeared: it merges first, and the rest of this rank waits its turn again. The
                # first entry for i is the one that merged (a second one is stale), so index() finds this place.
                rest = at[at.index(i) + 1 :]
                if rest:
                    b = buckets.get(r)
                    if b is None:
                        buckets[r] = rest
                        heappush(heap, r)
                    else:
                        b.extend(rest)
                break
    out = []
    i = 0
    while i < n:
        out.append(vals[i])
        i = nxt[i]
    return out


def _first_buckets(pr: list[int], limit: int) -> dict[int, list[int]]:
    """Positions of each rank below ``limit``, ascending: appended in one C-level pass (no Python loop, no sort)."""
    buckets: defaultdict[int, list[int]] = defaultdict(list)
    deque(map(list.append, map(buckets.__getitem__, pr), range(len(pr))), maxlen=0)
    for r in [r for r in buckets if r >= limit]:
        del buckets[r]
    return buckets


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
    tokens = _merge_long(list(map(_BYTES.__getitem__, piece)), ranks, None, limit, [])
    return list(accumulate(map(len, tokens), initial=0))


def encode_pairs(ids: list[int], ranks: Mapping[tuple[int, int], int], merged: Sequence[int]) -> list[int]:
    """:func:`merge_by_pairs` for the encoder: every merge, and only the final ids (``ids`` is consumed).

    Most pieces are a few bytes long, so the loop for them is this one, without the steps and the limit the views
    need: on pieces that are all different (random base64) the per-piece work is what the encoder costs.

    >>> encode_pairs([104, 101, 108, 112], {(104, 101): 0, (256, 108): 1}, [256, 257])
    [257, 112]
    """
    if len(ids) > SHORT_PIECE:
        return _merge_long(ids, ranks, merged, NO_RANK, [])
    get = ranks.get
    pr = list(map(get, zip(ids, ids[1:]), repeat(NO_RANK)))
    while pr:
        r = min(pr)
        if r == NO_RANK:
            break
        i = pr.index(r)  # leftmost occurrence of the best pair
        ids[i] = new = merged[r]
        del ids[i + 1]
        del pr[i]
        if i:
            pr[i - 1] = get((ids[i - 1], new), NO_RANK)
        if i < len(pr):
            pr[i] = get((new, ids[i + 1]), NO_RANK)
    return ids


def encode_ranks(piece: bytes, ranks: Mapping[bytes, int]) -> list[bytes]:
    """tiktoken's rule for the encoder: the final tokens' bytes (their ranks are one lookup each away).

    >>> encode_ranks(b"hello", {b"h": 0, b"e": 1, b"l": 2, b"o": 3, b"ll": 4, b"llo": 5})
    [b'h', b'e', b'llo']
    """
    tokens = list(map(_BYTES.__getitem__, piece))
    if len(piece) > SHORT_PIECE:
        return _merge_long(tokens, ranks, None, NO_RANK, [])
    get = ranks.get
    pr = list(map(get, map(add, tokens, tokens[1:]), repeat(NO_RANK)))
    while pr:
        r = min(pr)
        if r == NO_RANK:
            break
        i = pr.index(r)
        tokens[i] = new = tokens[i] + tokens[i + 1]
        del tokens[i + 1]
        del pr[i]
        if i:
            pr[i - 1] = get(tokens[i - 1] + new, NO_RANK)
        if i < len(pr):
            pr[i] = get(new + tokens[i + 1], NO_RANK)
    return tokens
