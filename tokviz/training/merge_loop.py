"""The BPE merge loop: from pre-token counts to an ordered list of merges.

Conventions (CS336 assignment 1): the most frequent adjacent pair inside a pre-token is merged next, pairs counted with
the pre-token's frequency; ties go to the lexicographically greatest pair of byte strings, i.e. ``max`` over
``(count, (left_bytes, right_bytes))``.

How it stays fast in pure Python:
- Each distinct pre-token is held once, as a ``str`` with one character per token (``chr(token_id)``), so finding
  and replacing a pair is ``str.find`` / ``str.replace`` in C, and replacing left to right without overlap is exactly
  BPE's rule (``"aaa"`` with ``(a, a)`` gives ``"Xa"``).
- Pair counts are updated incrementally, only around the places a merge touched, through an index from each pair to
  the words that hold it (entries go stale lazily: a word that lost the pair is skipped by a C-level ``in`` check).
- The next pair comes from a heap whose key encodes the tie rule, so comparisons stay in C: a pair's key is
  ``(-count, inv(left), inv(right))`` where ``inv`` reverses byte order (each byte b becomes ``chr(256 - b)``,
  followed by a terminator ``chr(257)``, so a prefix sorts after its extensions). Counts only ever fall for pairs
  that exist (merging creates pairs with a brand-new token), so a popped entry whose count is stale is pushed back
  with the current count and new pairs are pushed once after each merge. A new pair whose count is below a falling
  threshold waits in a bucket instead and enters the heap only once the best count drops that low: most new pairs
  are rare and never do, so the heap stays small.
- A new pair's count is not updated per occurrence: the merge lists the word once per occurrence, and the count is
  the sum of those words' frequencies, taken in C once the merge is done.
- A long word (``LONG_WORD`` characters or more, such as a megabyte without a space) would make each ``replace`` and
  ``find`` rescan it for every merge, quadratic in its length. Such a word is held instead as a linked list over
  arrays, with an index from each pair to its positions there, so a merge visits only the occurrences of the pair
  it merges; their neighbours are updated exactly as the string path does, and the index entries that go stale are
  skipped when visited.

Example:
    >>> result = merge_counts({"low": 5, "lower": 2, "newest": 6, "widest": 3}, n_merges=3)
    >>> [(bytes(l), bytes(r)) for l, r in result.merges]
    [(b's', b't'), (b'e', b'st'), (b'o', b'w')]
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from operator import add
from typing import NamedTuple, Protocol

#: Words at least this long take the linked-list path (see the module docstring); shorter ones, nearly every
#: pre-token of ordinary text, keep the C-level string path.
LONG_WORD = 512


@dataclass(frozen=True)
class Merge:
    """One learned merge: its rank (0-based), the two parts, the new token's bytes and the pair count when chosen."""

    rank: int
    left: bytes
    right: bytes
    count: int

    @property
    def token(self) -> bytes:
        return self.left + self.right


@dataclass(frozen=True)
class MergeResult:
    """Merges in learned order (as byte pairs), their counts, and why the loop stopped."""

    merges: list[tuple[bytes, bytes]]
    counts: list[int]
    stopped_early: bool
    message: str


class CancelCheck(Protocol):
    def __call__(self) -> bool: ...


def cancelled_message(done: int, n_merges: int) -> str:
    """What a run cancelled after ``done`` of ``n_merges`` merges says (both merge loops).

    >>> cancelled_message(3, 10)
    'Cancelled after 3 of 10 merges; the merges learned so far are kept.'
    """
    return f"Cancelled after {done} of {n_merges} merges; the merges learned so far are kept."


def exhausted_message(done: int, n_merges: int) -> str:
    """What a run that ran out of pairs after ``done`` of ``n_merges`` merges says (both merge loops)."""
    return (f"Stopped after {done} of {n_merges} merges: no pair of adjacent tokens is left in the corpus (every "
            "pre-token is a single token). Use a larger corpus or a smaller vocabulary size.")


def run_merges(step: Callable[[], tuple[bytes, bytes, int] | None], *, n_merges: int,
               on_merge: Callable[[Merge], object] | None = None,
               should_stop: CancelCheck | None = None) -> MergeResult:
    """The loop both merge loops share: ``step()`` learns the next merge and gives its two tokens and count (None
    when no pair is left); this asks ``should_stop`` before each, reports each to ``on_merge`` and says how it ended.

    >>> pairs = iter([(b"a", b"b", 3)])
    >>> r = run_merges(lambda: next(pairs, None), n_merges=2)
    >>> r.merges, r.counts, r.stopped_early
    ([(b'a', b'b')], [3], True)
    """
    merges: list[tuple[bytes, bytes]] = []
    counts: list[int] = []
    message = f"Learned all {n_merges} merges."
    stopped_early = False
    while len(merges) < n_merges:
        if should_stop is not None and should_stop():
            stopped_early = True
            message = cancelled_message(len(merges), n_merges)
            break
        found = step()
        if found is None:
            stopped_early = True
            message = exhausted_message(len(merges), n_merges)
            break
        left, right, count = found
        merges.append((left, right))
        counts.append(count)
        if on_merge is not None:
            on_merge(Merge(len(merges) - 1, left, right, count))
    return MergeResult(merges, counts, stopped_early, message)

def merge_counts(
    word_counts: Mapping[str, int] | Mapping[bytes, int],
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> MergeResult:
    """Learn up to ``n_merges`` merges from pre-token counts (keys: bytes, or str with one char per byte).

    ``on_merge`` is called with each :class:`Merge` as it is learned; ``should_stop`` is polled every merge and ends
    training early (keeping what was learned) when it returns True.
    """
    if n_merges < 0:
        raise ValueError(f"n_merges must be >= 0, got {n_merges}.")
    with _no_cycle_collection():
        return _merge_loop(word_counts, n_merges, on_merge, should_stop)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector: the loop allocates tens of thousands of lists and tuples but never a reference
    cycle, so the collections they trigger only re-walk live data (about 4% of the loop's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _merge_loop(
    word_counts: Mapping[str, int] | Mapping[bytes, int],
    n_merges: int,
    on_merge: Callable[[Merge], object] | None,
    should_stop: CancelCheck | None,
) -> MergeResult:
    table = WordTable(word_counts)
    tokens: list[bytes] = [bytes([b]) for b in range(256)]
    pair_counts = table.pair_counts()
    candidates = Candidates(pair_counts)

    def step() -> tuple[bytes, bytes, int] | None:
        taken = candidates.take(tokens)
        if taken is None:
            return None
        best, x, count = taken
        new = table.merge(best, x, pair_counts)
        pair_counts.pop(best, None)
        for q, c in new.items():
            pair_counts[q] = c
            candidates.push(q, c)
        return tokens[ord(best[0])], tokens[ord(best[1])], count

    return run_merges(step, n_merges=n_merges, on_merge=on_merge, should_stop=should_stop)


class WordTable:
    """The distinct pre-tokens a merge rewrites: each as a ``str`` of token characters with its count, and an index
    from each pair to the words holding it (long words as :class:`_LongWords`). The one-process loop holds one; the
    sharded merge (:mod:`tokviz.training.sharded_merge`) holds one per shard, each over its own pre-tokens.

    >>> table = WordTable({"abab": 2, "ab": 1})
    >>> table.pair_counts()
    {'ab': 5, 'ba': 2}
    >>> from collections import defaultdict
    >>> deltas: defaultdict[str, int] = defaultdict(int)
    >>> table.merge("ab", chr(256), deltas), dict(deltas)  # the new pairs' counts; the old neighbours' fall
    ({'ĀĀ': 2}, {'ba': -2})
    """

    def __init__(self, word_counts: Mapping[str, int] | Mapping[bytes, int]) -> None:
        self.words, self.freqs = _words_and_freqs(word_counts)
        self.index = _pair_index(self.words)
        self.long_words = _LongWords(self.words, LONG_WORD)

    def pair_counts(self) -> dict[str, int]:
        """Each adjacent pair's count: the sum of the counts of the words holding it, once per occurrence."""
        freq_of = self.freqs.__getitem__
        return {p: sum(map(freq_of, lst)) for p, lst in self.index.items()}

    def merge(self, best: str, x: str, pair_counts: dict[str, int]) -> dict[str, int]:
        """Replace pair ``best`` by the new token ``x`` in every word, take the count of each word that loses a
        neighbour pair from ``pair_counts`` (a ``defaultdict(int)`` collects these as negative deltas), and return
        the pairs the merge made (each holds ``x``, so none was in ``pair_counts``) with their counts."""
        new = _merge_words(best, x, self.words, self.freqs, self.index.pop(best, ()), pair_counts)
        if self.long_words.index:
            self.long_words.merge(best, x, self.freqs, pair_counts, new)
        freq_of = self.freqs.__getitem__
        index = self.index
        counts: dict[str, int] = {}
        for q, lst in new.items():
            counts[q] = sum(map(freq_of, lst))
            index[q] = lst
        return counts


def _words_and_freqs(word_counts: Mapping[str, int] | Mapping[bytes, int]) -> tuple[list[str], list[int]]:
    """The pre-tokens that hold a pair (two bytes or more, counted at least once) as latin-1 ``str``, and their
    counts."""
    words: list[str] = []
    freqs: list[int] = []
    for w, c in word_counts.items():
        if isinstance(w, bytes):
            w = w.decode("latin-1")
        if len(w) >= 2 and c > 0:
            words.append(w)
            freqs.append(c)
    return words, freqs


def _pair_index(words: list[str]) -> dict[str, list[int]]:
    """Each adjacent pair -> the words that hold it, once per occurrence.

    A word may be listed twice (harmless: after its first visit the pair is gone from it and the ``in`` check skips
    it), so lists beat sets here.
    """
    index: dict[str, list[int]] = {}
    for wi, w in enumerate(words):
        for p in map(add, w, w[1:]):
            lst = index.get(p)
            if lst is None:
                index[p] = [wi]
            else:
                lst.append(wi)
    return index


class Candidates:
    """The pairs that may be merged next: a heap keyed by the tie rule, plus buckets of rare new pairs. Both the
    one-process loop and the sharded merge's coordinator pick each merge here, so they share one tie rule.

    New pairs counted below ``limit`` wait in ``low``, bucketed by ``count.bit_length()``; ``limit`` halves whenever
    the best count in the heap falls below it, and the bucket just under it joins the heap. So every pair that could
    be the best is always in the heap (a waiting pair's count is below ``limit`` and only ever falls).
    """

    def __init__(self, pair_counts: dict[str, int]) -> None:
        # inv[t]: token t's bytes reversed in order (byte b -> chr(256 - b)) plus a terminator chr(257), so a heap
        # of (-count, inv(left), inv(right)) pops the greatest pair of byte strings among the most frequent.
        self.inv: list[str] = [chr(256 - b) + "\u0101" for b in range(256)]
        inv = self.inv
        self.heap = [(-c, inv[ord(p[0])], inv[ord(p[1])], p) for p, c in pair_counts.items()]
        heapq.heapify(self.heap)
        self.limit = 1 << max(0, (max(pair_counts.values(), default=0) >> 4).bit_length() - 1)
        self.low: dict[int, list[str]] = {}
        self.get = pair_counts.get

    def take(self, tokens: list[bytes]) -> tuple[str, str, int] | None:
        """Pop the best pair and make its token (appended to ``tokens``, its sort key recorded): the pair, the new
        token's character and the pair's count; None when no pair is left."""
        found = self.pop_best()
        if found is None:
            return None
        best, count = found
        a, b = ord(best[0]), ord(best[1])
        tokens.append(tokens[a] + tokens[b])
        self.add_token(a, b)
        return best, chr(len(tokens) - 1), count

    def add_token(self, a: int, b: int) -> None:
        """Record the sort key of the token just made from tokens ``a`` and ``b``."""
        self.inv.append(self.inv[a][:-1] + self.inv[b])

    def pop_best(self) -> tuple[str, int] | None:
        """The best pair whose count is current, with its count; None when no pair is left."""
        heap, get, inv = self.heap, self.get, self.inv
        heappop, heappush = heapq.heappop, heapq.heappush
        while True:
            best = None
            negc = 0
            while heap:
                negc, il, ir, p = heappop(heap)
                c = get(p, 0)
                if c == -negc:
                    best = p
                    break
                if c > 0:
                    heappush(heap, (-c, il, ir, p))
            if (best is not None and -negc >= self.limit) or self.limit == 1:
                return None if best is None else (best, -negc)
            if best is not None:  # a waiting pair may tie or beat it: let the next bucket in first
                heappush(heap, (negc, il, ir, best))
            self.limit >>= 1
            for q in self.low.pop(self.limit.bit_length(), ()):
                c = get(q, 0)
                if c > 0:
                    heappush(heap, (-c, inv[ord(q[0])], inv[ord(q[1])], q))

    def push(self, q: str, c: int) -> None:
        """A new pair ``q`` counted ``c``: into the heap, or to wait in its bucket if rare."""
        if c >= self.limit:
            heapq.heappush(self.heap, (-c, self.inv[ord(q[0])], self.inv[ord(q[1])], q))
        else:
            waiting = self.low.get(c.bit_length())
            if waiting is None:
                self.low[c.bit_length()] = [q]
            else:
                waiting.append(q)


def _merge_words(best: str, x: str, words: list[str], freqs: list[int], listed: Iterable[int],
                 pair_counts: dict[str, int]) -> dict[str, list[int]]:
    """Replace ``best`` by the new token ``x`` in the ``listed`` words (short ones: long words are
    :class:`_LongWords`'), lower their neighbours' pair counts, and return each new pair with the words holding it,
    once per occurrence."""
    new: dict[str, list[int]] = {}
    new_get = new.get
    ca, cb = best[0], best[1]
    ba = cb + ca  # the pair between two adjacent occurrences, as in "abab"
    for wi in listed:
        w = words[wi]
        if best not in w:
            continue  # stale or repeated index entry: the pair is no longer in this word
        f = freqs[wi]
        nw = w.replace(best, x)
        words[wi] = nw
        # One pass over the new token's positions updates both sides: a neighbour L that was (L, a) is now
        # (L, X); a neighbour R that was (b, R) is now (X, R); two occurrences side by side turn (b, a) into
        # (X, X), counted once, as the right side of the first. The index update for the new pair is written
        # out on both sides on purpose: this is the hottest loop of training, and a helper call per occurrence
        # costs more than the repetition.
        last = len(nw) - 1
        j = nw.find(x)
        while j != -1:
            if j > 0:
                left = nw[j - 1]
                if left != x:
                    pair_counts[left + ca] -= f
                    q = left + x
                    lst = new_get(q)
                    if lst is None:
                        new[q] = [wi]
                    else:
                        lst.append(wi)
            if j < last:
                right = nw[j + 1]
                if right == x:
                    pair_counts[ba] -= f
                    q = x + x
                else:
                    pair_counts[cb + right] -= f
                    q = x + right
                lst = new_get(q)
                if lst is None:
                    new[q] = [wi]
                else:
                    lst.append(wi)
            j = nw.find(x, j + 1)
    return new


class _Merge(NamedTuple):
    """One merge as the long-word path needs it: the new token's code and character, the pair's two characters,
    and the reversed pair (a run of the new token makes it)."""

    code: int
    char: str
    left: str
    right: str
    reversed_pair: str


class _LongWords:
    """The long words, each as token codes in an array with ``prev``/``next`` links, and where each pair occurs.

    ``index`` maps a pair (two characters) to keys ``word << 32 | position`` of its left token; the string of a long
    word in ``words`` is emptied, so the string path's ``in`` check skips it without a lookup.
    """

    def __init__(self, words: list[str], min_len: int) -> None:
        self.codes: dict[int, list[int]] = {}
        self.nxt: dict[int, list[int]] = {}
        self.prv: dict[int, list[int]] = {}
        self.index: dict[str, list[int]] = {}
        for wi, w in enumerate(words):
            if len(w) < min_len:
                continue
            n = len(w)
            self.codes[wi] = list(map(ord, w))
            self.nxt[wi] = list(range(1, n + 1))
            self.prv[wi] = list(range(-1, n - 1))
            base = wi << 32
            index = self.index
            for i, p in enumerate(map(add, w, w[1:])):
                lst = index.get(p)
                if lst is None:
                    index[p] = [base | i]
                else:
                    lst.append(base | i)
            words[wi] = ""

    def merge(self, best: str, x: str, freqs: list[int], pair_counts: dict[str, int],
              new: dict[str, list[int]]) -> None:
        """Merge ``best`` into ``x`` in every long word, left to right without overlap as ``str.replace`` does, then
        update the neighbours' pair counts and record the new pairs (``new``: once per occurrence) like the string
        path does on the replaced string."""
        keys = self.index.pop(best, None)
        if not keys:
            return
        keys.sort()  # by word, then position: left to right inside each word
        a, b, xc = ord(best[0]), ord(best[1]), ord(x)
        ca, cb = best[0], best[1]
        merge = _Merge(xc, x, ca, cb, cb + ca)
        mask = (1 << 32) - 1
        word = -1
        merged_at: list[int] = []
        codes: list[int] = []
        nxt: list[int] = []
        prv: list[int] = []
        n = 0
        for key in keys:
            wi, i = key >> 32, key & mask
            if wi != word:
                if merged_at:
                    self._neighbours(word, merged_at, merge, freqs[word], pair_counts, new)
                    merged_at = []
                word = wi
                codes, nxt, prv = self.codes[wi], self.nxt[wi], self.prv[wi]
                n = len(codes)
            if codes[i] != a:
                continue  # stale: this token was merged into another
            j = nxt[i]
            if j >= n or codes[j] != b:
                continue
            codes[i] = xc
            codes[j] = -1
            k = nxt[j]
            nxt[i] = k
            if k < n:
                prv[k] = i
            merged_at.append(i)
        if merged_at:
            self._neighbours(word, merged_at, merge, freqs[word], pair_counts, new)

    def _neighbours(self, wi: int, merged_at: list[int], merge: _Merge, f: int, pair_counts: dict[str, int],
                    new: dict[str, list[int]]) -> None:
        """After merges at ``merged_at`` in word ``wi`` (frequency ``f``): the pairs with the neighbours on each
        side lose ``f`` and the new pairs are recorded, as the string path does."""
        codes, nxt, prv, index = self.codes[wi], self.nxt[wi], self.prv[wi], self.index
        n = len(codes)
        xc, x, ca, cb, ba = merge
        base = wi << 32
        for i in merged_at:
            p = prv[i]
            if p >= 0:
                left = codes[p]
                if left != xc:
                    cl = chr(left)
                    pair_counts[cl + ca] -= f
                    q = cl + x
                    _add(new, q, wi)
                    _add(index, q, base | p)
            k = nxt[i]
            if k < n:
                right = codes[k]
                if right == xc:
                    pair_counts[ba] -= f
                    q = x + x
                else:
                    cr = chr(right)
                    pair_counts[cb + cr] -= f
                    q = x + cr
                _add(new, q, wi)
                _add(index, q, base | i)


def _add(table: dict[str, list[int]], key: str, value: int) -> None:
    lst = table.get(key)
    if lst is None:
        table[key] = [value]
    else:
        lst.append(value)
