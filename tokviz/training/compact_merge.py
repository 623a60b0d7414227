"""The BPE merge loop on compact arrays: the same merges as :mod:`tokviz.training.merge_loop` in about a quarter of
its memory (measured on 1.48 million distinct pre-tokens: 140 to 153 bytes per distinct pre-token at the peak, file
to merges, against 611 to 750; see ``docs/scale.md``), for tables of tens of millions of pre-tokens (needs numpy,
the ``scale`` extra; imported only when this loop runs).

What it holds (N distinct pre-tokens of L bytes on average, P pairs):
- every pre-token's symbols in one array (``uint16`` while the vocabulary fits, else ``int32``: 2L or 4L bytes), in a
  slot of its original length; a merge rewrites the slot shorter and pads its end with ``PAD``;
- the slots' starts (``int64``, 8 B) and the pre-tokens' counts (``int64``, 8 B);
- the pairs in one table sorted by a packed key (:func:`pack`: the newer token, the other token, which side), with
  their counts and where their word list starts (24 B a pair). A merge makes a token newer than every other, so the
  pairs it creates sort after every pair there is: the table only ever grows at its end, and a merge finds the pairs
  whose counts change with one ``searchsorted``;
- for each pair, the words that held it when it appeared (a word only ever loses a pair it had, and a pair with the
  newest token appears only at that token's merge), as gaps between word numbers in LEB128 bytes (1 to 2 bytes an
  entry on text): the byte pairs' lists in one block, then one block per merge, dropped once all its pairs are gone.

A merge gathers the words its pair's list names, merges left to right without overlap (``aaa`` with ``(a, a)`` gives
``Xa``, as ``str.replace``), and takes each changed word's pairs out and its new pairs in, weighted by its count, so
every count stays exact; the best pair comes from a heap keyed by CS336's rule, with rare pairs waiting in buckets as
:class:`tokviz.training.merge_loop` does.

Example:
    >>> result = merge_counts_compact({"low": 5, "lower": 2, "newest": 6, "widest": 3}, n_merges=3)
    >>> [(bytes(l), bytes(r)) for l, r in result.merges]
    [(b's', b't'), (b'e', b'st'), (b'o', b'w')]
"""

from __future__ import annotations

import heapq
import os
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tokviz.training.counts_shards import is_shards, read_manifest
from tokviz.training.counts_table import Counts, header_settings, iter_counts_file
from tokviz.training.merge_loop import CancelCheck, Merge, MergeResult, run_merges

if TYPE_CHECKING:
    import numpy as np
    from numpy import ndarray  # for annotations where a method's local ``np`` (the module, typed Any) shadows it

#: Words read per step while building the byte pairs' lists, and symbols per batch of a merge: what the loop holds
#: on top of its arrays is a few tens of MB whatever the table's size (measured on 1.48 million distinct pre-tokens:
#: 65,536 words and 524,288 symbols peaked 22 MB higher, for 14 per cent less CPU in one run).
CHUNK_WORDS = 1 << 13
BATCH_SYMBOLS = 1 << 17
_LO_MASK = (1 << 31) - 1


def numpy_available() -> bool:
    """Whether the compact loop can run here (numpy installed)."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def pack(left: Any, right: Any) -> Any:
    """The table key of pair (``left``, ``right``): the newer token's id << 32 | the other's << 1 | 1 if the newer one
    is on the right. Works on ints and on numpy arrays.

    >>> pack(300, 7), pack(7, 300), unpack(pack(7, 300))
    (1288490188814, 1288490188815, (7, 300))
    """
    if isinstance(left, int):
        hi, lo = max(left, right), min(left, right)
        return hi << 32 | lo << 1 | int(left < right)
    import numpy as np

    left, right = left.astype(np.int64), right.astype(np.int64)
    return (np.maximum(left, right) << 32) | (np.minimum(left, right) << 1) | (left < right)


def unpack(key: Any) -> Any:
    """The pair (left, right) of a table key; of an array of keys, the array of lefts and the array of rights.

    >>> import numpy as np
    >>> [a.tolist() for a in unpack(np.array([pack(300, 7), pack(7, 300)]))]
    [[300, 7], [7, 300]]
    """
    hi, lo = key >> 32, (key >> 1) & _LO_MASK
    if isinstance(key, int):
        return (lo, hi) if key & 1 else (hi, lo)
    import numpy as np

    newer_right = (key & 1).astype(bool)
    return np.where(newer_right, lo, hi), np.where(newer_right, hi, lo)


def pair_strings(left: ndarray, right: ndarray) -> list[str]:
    """Pairs of token ids as 2-character strings, in one decode (the inverse of
    :func:`tokviz.training.sharded_merge.pack_pairs`).

    >>> import numpy as np
    >>> pair_strings(np.array([97, 300]), np.array([98, 97]))
    ['ab', 'Ĭa']
    """
    import numpy as np

    codes = np.empty(2 * len(left), dtype="<u4")
    codes[0::2], codes[1::2] = left, right
    text = codes.tobytes().decode("utf-32-le", "surrogatepass")
    return [text[i : i + 2] for i in range(0, len(text), 2)]


class WordArrays:
    """Distinct pre-tokens as one byte buffer with lengths and counts, built a pre-token at a time (for a table read
    from files without holding a ``dict`` of it). Pre-tokens of one byte, or counted 0, are left out (no pair).

    >>> w = WordArrays()
    >>> w.add(b"ab", 3); w.add(b"c", 9); len(w)
    1
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.lengths = array("q")
        self.counts = array("q")
        self.distinct = 0  # every pre-token added, kept or not
        self.total = 0  # their counts' sum

    def add(self, word: bytes, count: int) -> None:
        self.distinct += 1
        self.total += count
        if len(word) >= 2 and count > 0:
            self.data += word
            self.lengths.append(len(word))
            self.counts.append(count)

    def __len__(self) -> int:
        return len(self.lengths)

    def to_dict(self) -> dict[bytes, int]:
        """The kept pre-tokens as a ``dict`` (for the other merge loop)."""
        out: dict[bytes, int] = {}
        at = 0
        for n, c in zip(self.lengths, self.counts):
            out[bytes(self.data[at : at + n])] = c
            at += n
        return out

    @classmethod
    def from_mapping(cls, word_counts: Mapping[str, int] | Mapping[bytes, int]) -> WordArrays:
        out = cls()
        for w, c in word_counts.items():
            out.add(w.encode("latin-1") if isinstance(w, str) else w, c)
        return out


@dataclass
class CountsArrays:
    """A counts file (or shards folder) read straight into :class:`WordArrays`, with the pattern and special tokens
    of its header: the input of the compact loop without a ``dict`` of the table in between."""

    words: WordArrays
    pattern: str
    special_tokens: tuple[str, ...]

    def check_same_settings(self, pattern: str, special_tokens: Sequence[str]) -> None:
        """Raise ValueError unless these are the settings the counts were made with."""
        Counts(Counter(), pattern=self.pattern, special_tokens=self.special_tokens).check_same_settings(
            pattern, special_tokens)


def load_counts_arrays(path: str | os.PathLike[str]) -> CountsArrays:
    """A counts TSV, or a shards folder (or its manifest), read a line at a time into compact arrays; the same checks
    as :meth:`tokviz.training.counts_table.Counts.load` and the manifest's, except that a piece repeated within a
    file is not looked for (that takes a table of every piece).

    >>> import pathlib, tempfile
    >>> from tokviz.training.counts_table import count_texts
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     loaded = load_counts_arrays(count_texts(["the cat the"]).save(pathlib.Path(folder) / "c.tsv"))
    >>> len(loaded.words), loaded.words.distinct, loaded.words.total, loaded.pattern
    (3, 3, 3, 'gpt2')
    """
    files: list[tuple[Path, Mapping[str, object] | None]]
    if is_shards(path):
        folder, manifest = read_manifest(path)
        files = [(folder / str(e["path"]), e) for e in cast(list[dict[str, object]], manifest["files"])]
    else:
        files = [(Path(path), None)]
    return read_counts_files(files)


def read_counts_files(files: Sequence[tuple[Path, Mapping[str, object] | None]]) -> CountsArrays:
    """Counts TSVs read a line at a time into one :class:`CountsArrays` (their keys must not overlap, as a shards
    folder's never do), each checked against its manifest entry when it has one (``distinct``, ``total``): what
    :func:`load_counts_arrays` does with a folder's files, for any subset of them (a merge shard's)."""
    words = WordArrays()
    settings: tuple[str, tuple[str, ...]] | None = None
    for file, entry in files:
        header: dict[str, object] = {}
        distinct, total = words.distinct, words.total
        for _, _, key, count in iter_counts_file(file, header):
            words.add(key.encode("latin-1"), count)
        here = header_settings(file, header)
        if settings is None:
            settings = here
        else:
            CountsArrays(words, *settings).check_same_settings(*here)
        if entry is not None and (words.distinct - distinct != entry["distinct"] or
                                  words.total - total != entry["total"]):
            raise ValueError(f"{file}: holds {words.distinct - distinct} pieces and {words.total - total} pre-tokens, "
                             f"the manifest says {entry['distinct']} and {entry['total']}; count again.")
    pattern, specials = settings if settings is not None else ("gpt2", ())
    return CountsArrays(words, pattern, specials)


def merge_counts_compact(
    word_counts: Mapping[str, int] | Mapping[bytes, int] | WordArrays,
    *,
    n_merges: int,
    on_merge: Callable[[Merge], object] | None = None,
    should_stop: CancelCheck | None = None,
) -> MergeResult:
    """Learn up to ``n_merges`` merges as :func:`tokviz.training.merge_loop.merge_counts` does (the same merges, counts
    and messages), holding the table in compact arrays. ``word_counts`` may be a :class:`WordArrays` built from files;
    it is emptied as the arrays are made."""
    if n_merges < 0:
        raise ValueError(f"n_merges must be >= 0, got {n_merges}.")
    words = word_counts if isinstance(word_counts, WordArrays) else WordArrays.from_mapping(word_counts)
    loop = CompactLoop(words, 256 + n_merges)
    def step() -> tuple[bytes, bytes, int] | None:
        found = loop.pop_best()
        if found is None:
            return None
        key, count = found
        a, b = unpack(key)
        left, right = loop.tokens[a], loop.tokens[b]
        loop.merge(key, a, b)
        return left, right, count

    return run_merges(step, n_merges=n_merges, on_merge=on_merge, should_stop=should_stop)


# -- LEB128 gaps: sorted word numbers, each list as its gaps from -1 ----------------------------------------------
def _encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value (>= 1) in LEB128: the bytes, and how many bytes each value took."""
    import numpy as np

    v = values.astype(np.uint64)
    nb = np.ones(len(v), dtype=np.int64)
    for k in range(1, 10):
        big = v >= np.uint64(1 << (7 * k))
        if not big.any():
            break
        nb += big
    ends = np.cumsum(nb)
    starts = ends - nb
    out = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
    for k in range(int(nb.max()) if len(nb) else 0):
        sel = nb > k
        byte = (v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (nb[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[sel] + k] = (byte | more).astype(np.uint8)
    return out, nb


def _decode_words(data: np.ndarray) -> np.ndarray:
    """The word numbers of one list (the inverse of encoding its gaps)."""
    import numpy as np

    if len(data) == 0:
        return np.zeros(0, dtype=np.int64)
    last = data < 0x80
    ends = np.flatnonzero(last)
    starts = np.empty(len(ends), dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    if len(ends) == len(data):  # every gap in one byte, the common case
        return np.cumsum(data.astype(np.int64)) - 1
    vid: np.ndarray = np.cumsum(last) - last  # each byte's value number
    shift = (np.arange(len(data)) - starts[vid]) * 7
    contrib = (data & 0x7F).astype(np.int64) << shift
    return np.cumsum(np.add.reduceat(contrib, starts)) - 1


def _group_gaps(groups: np.ndarray, words: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Gaps of word numbers within runs of equal ``groups`` (sorted by group, then word); the first of a run counts
    from ``before[run]`` (default -1)."""
    import numpy as np

    gaps = np.empty(len(words), dtype=np.int64)
    if len(words) == 0:
        return gaps
    gaps[1:] = words[1:] - words[:-1]
    first = np.empty(len(words), dtype=bool)
    first[0] = True
    first[1:] = groups[1:] != groups[:-1]
    gaps[first] = words[first] + 1 if before is None else words[first] - before[groups[first]]
    return gaps


def _keep_last(last: np.ndarray, groups: np.ndarray, words: np.ndarray) -> None:
    """Record in ``last`` the last word of each run of equal ``groups``."""
    if len(groups):
        end = groups[1:] != groups[:-1]
        last[groups[:-1][end]] = words[:-1][end]
        last[groups[-1]] = words[-1]


class SortedPairs:
    """A pair table held as ``key[:n]`` sorted (:func:`pack`'s keys) beside ``count[:n]``: the compact loop's table
    (:class:`CompactLoop`) and the sharded merge's coordinator (:class:`tokviz.training.sharded_merge.PairCounts`)
    are two; :class:`PairHeap` picks merges from either."""

    np: Any  # the numpy module
    key: ndarray
    count: ndarray
    n: int

    def find(self, keys: ndarray) -> ndarray:
        """The rows of ``keys`` (``searchsorted``: a key not in the table gets the row it would take)."""
        return self.np.searchsorted(self.key[: self.n], keys)

    def count_of(self, key: int) -> int:
        """The count of one pair, 0 if it is not in the table."""
        i = int(self.np.searchsorted(self.key[: self.n], key))
        return int(self.count[i]) if i < self.n and int(self.key[i]) == key else 0

    def as_dict(self) -> dict[str, int]:
        """The pairs counted above 0, as 2-character strings (token ``i`` is ``chr(i)``)."""
        live = self.count[: self.n] > 0
        return dict(zip(pair_strings(*unpack(self.key[: self.n][live])), self.count[: self.n][live].tolist()))


# -- the loop -----------------------------------------------------------------------------------------------------
class CompactLoop(SortedPairs):
    """The compact loop's arrays and merge step (:func:`merge_counts_compact` runs it with its heap; a merge shard,
    :class:`tokviz.training.sharded_merge.CompactShard`, without: ``candidates=False``, the coordinator picks).

    >>> loop = CompactLoop(WordArrays.from_mapping({"abab": 2}), 300, candidates=False)
    >>> keys, sums = loop.merge(pack(97, 98), 97, 98)
    >>> sorted((unpack(k), s) for k, s in zip(keys.tolist(), sums.tolist()))
    [((97, 98), -4), ((98, 97), -2), ((256, 256), 2)]
    """

    def __init__(self, words: WordArrays, vocab: int, *, candidates: bool = True) -> None:
        import numpy as np

        self.np = np
        self.tokens: list[bytes] = [bytes([b]) for b in range(256)]
        self.sym_dtype = np.uint16 if vocab < 0xFFFF else np.int32
        self.pad = 0xFFFF if vocab < 0xFFFF else -1
        lengths = np.frombuffer(words.lengths, dtype=np.int64) if len(words) else np.zeros(0, dtype=np.int64)
        total = int(lengths.sum())
        self.start = np.zeros(len(lengths) + 1, dtype=np.uint32 if total < 1 << 32 else np.int64)
        np.cumsum(lengths, out=self.start[1:])
        counts = np.frombuffer(words.counts, dtype=np.int64) if len(words) else np.zeros(0, dtype=np.int64)
        self.freq = counts.astype(np.uint32 if len(counts) == 0 or int(counts.max()) < 1 << 32 else np.int64)
        del lengths, counts
        view = np.frombuffer(words.data, dtype=np.uint8)
        self.sym = view.astype(self.sym_dtype)
        del view
        words.data, words.lengths, words.counts = bytearray(), array("q"), array("q")
        # The pair table (sorted by key; grows at its end) and the word lists' blocks.
        self.n = 0
        self.key = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)
        self.at = np.zeros(0, dtype=np.int64)  # where each pair's list starts in its block
        self.stop = np.zeros(0, dtype=np.int64)  # and where it ends (both uint32 once the byte pairs' block fits)
        self.blocks: dict[int, np.ndarray] = {}
        self.live: dict[int, int] = {}  # pairs with a count > 0 in each block
        self._build_byte_pairs()
        self.candidates = PairHeap(self) if candidates else None

    # The table ---------------------------------------------------------------------------------------------------
    def _append(self, keys: np.ndarray, counts: np.ndarray, at: np.ndarray, stop: np.ndarray) -> None:
        np = self.np
        need = self.n + len(keys)
        if need > len(self.key):
            cap = max(need, len(self.key) * 3 // 2, 1024)
            for name in ("key", "count", "at", "stop"):
                grown = np.zeros(cap, dtype=getattr(self, name).dtype)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)
        self.key[self.n : need] = keys
        self.count[self.n : need] = counts
        self.at[self.n : need] = at
        self.stop[self.n : need] = stop
        self.n = need

    def _words_of(self, row: int) -> np.ndarray:
        block = self.blocks[max(0, (int(self.key[row]) >> 32) - 255)]
        return _decode_words(block[int(self.at[row]) : int(self.stop[row])])

    def _compact_table(self) -> None:
        """Drop the rows of pairs that are gone (count 0), once they are most of the table."""
        keep = self.count[: self.n] != 0
        kept = int(keep.sum())
        self.key[:kept] = self.key[: self.n][keep]
        self.count[:kept] = self.count[: self.n][keep]
        self.at[:kept] = self.at[: self.n][keep]
        self.stop[:kept] = self.stop[: self.n][keep]
        self.n = kept
        cap = kept + kept // 4 + 1024
        for name in ("key", "count", "at", "stop"):
            setattr(self, name, getattr(self, name)[:cap].copy())

    # Building ----------------------------------------------------------------------------------------------------
    def _chunk_pairs(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Words ``lo`` to ``hi``: each (byte pair, word) once, sorted by pair then word, and the pair weighted by
        the word's count per occurrence."""
        np = self.np
        s, e = int(self.start[lo]), int(self.start[hi])
        seg = self.sym[s:e].astype(np.int64)
        wid = np.repeat(np.arange(lo, hi), np.diff(self.start[lo : hi + 1].astype(np.int64)))
        same = wid[:-1] == wid[1:]
        pid = (seg[:-1] << 8 | seg[1:])[same]
        pw = wid[:-1][same]
        order = np.argsort(pid, kind="stable")
        pid, pw = pid[order], pw[order]
        weight = np.bincount(pid, weights=self.freq[pw].astype(np.float64), minlength=1 << 16)
        first = np.ones(len(pid), dtype=bool)
        first[1:] = (pid[1:] != pid[:-1]) | (pw[1:] != pw[:-1])
        return pid[first], pw[first], weight

    def _build_byte_pairs(self) -> None:
        """The byte pairs' rows and word lists, in two passes over the words (sizes, then bytes) so that only a chunk
        of (pair, word) entries is held at a time."""
        np = self.np
        n_words = len(self.start) - 1
        sizes = np.zeros(1 << 16, dtype=np.int64)
        totals = np.zeros(1 << 16, dtype=np.float64)
        last = np.full(1 << 16, -1, dtype=np.int64)
        for lo in range(0, n_words, CHUNK_WORDS):
            pid, pw, weight = self._chunk_pairs(lo, min(n_words, lo + CHUNK_WORDS))
            totals += weight
            _, nb = _encode(_group_gaps(pid, pw, last))
            sizes += np.bincount(pid, weights=nb, minlength=1 << 16).astype(np.int64)
            _keep_last(last, pid, pw)
        present = np.flatnonzero(totals > 0)
        keys = pack(present >> 8, present & 0xFF)
        order = np.argsort(keys)
        present, keys = present[order], keys[order]
        stops = np.cumsum(sizes[present])
        offsets = stops - sizes[present]
        block = np.zeros(int(sizes.sum()), dtype=np.uint8)
        cursor = np.zeros(1 << 16, dtype=np.int64)
        cursor[present] = offsets
        last[:] = -1
        for lo in range(0, n_words, CHUNK_WORDS):
            pid, pw, _ = self._chunk_pairs(lo, min(n_words, lo + CHUNK_WORDS))
            data, nb = _encode(_group_gaps(pid, pw, last))
            _keep_last(last, pid, pw)
            ends = np.cumsum(nb)
            starts = ends - nb
            group_start = np.zeros(len(pid), dtype=bool)
            if len(pid):
                group_start[0] = True
                group_start[1:] = pid[1:] != pid[:-1]
            first_byte = np.maximum.accumulate(np.where(group_start, starts, 0))  # the group's first byte in data
            dest = cursor[pid] - first_byte + starts  # each value's first byte in the block
            for k in range(int(nb.max()) if len(nb) else 0):
                sel = nb > k
                block[dest[sel] + k] = data[starts[sel] + k]
            if len(pid):
                cursor[pid[group_start]] += np.add.reduceat(nb, np.flatnonzero(group_start))
        self.blocks[0] = block
        self.live[0] = len(present)
        if len(block) < 1 << 31:  # a merge's block is smaller than the byte pairs' (it lists fewer words)
            self.at, self.stop = self.at.astype(np.uint32), self.stop.astype(np.uint32)
        counts = np.rint(totals[present]).astype(np.int64)
        self._append(keys, counts, offsets, stops)

    # Merging -----------------------------------------------------------------------------------------------------
    def pop_best(self) -> tuple[int, int] | None:
        assert self.candidates is not None, "made with candidates=False: the caller picks each merge"
        return self.candidates.pop_best()

    def merge(self, key: int, a: int, b: int) -> tuple[ndarray, ndarray]:
        """Merge pair ``key`` = (a, b) (counted above 0 here) into a new token in every word that holds it, and update
        the table; returns the pairs whose counts changed (keys sorted, each once) and by how much. The words go a
        batch of about :data:`BATCH_SYMBOLS` symbols at a time, so what a merge holds besides the table is bounded;
        the pairs with the new token wait as 8 bytes an occurrence until their lists are written."""
        np = self.np
        x = len(self.tokens)
        self.tokens.append(self.tokens[a] + self.tokens[b])
        if self.candidates is not None:
            self.candidates.add_token(a, b)
        row = int(self.find(np.array([key]))[0])
        words = self._words_of(row)
        ends = np.cumsum(self.start[words + 1].astype(np.int64) - self.start[words])
        cuts = [0, *np.searchsorted(ends, np.arange(BATCH_SYMBOLS, int(ends[-1]) if len(ends) else 0,
                                                    BATCH_SYMBOLS), side="right").tolist(), len(words)]
        del ends
        sums: list[tuple[ndarray, ndarray]] = []
        made: list[tuple[ndarray, ndarray]] = []
        for lo, hi in zip(cuts, cuts[1:]):
            if hi > lo:
                keys, weights, others, holders = self._merge_batch(words[lo:hi], a, b, x)
                sums.append(sum_by_key(keys, weights))
                made.append((others, holders))
        if sums:
            keys, weights = sum_by_key(np.concatenate([k for k, _ in sums]),
                                        np.concatenate([w for _, w in sums]))
            others, holders = np.concatenate([o for o, _ in made]), np.concatenate([h for _, h in made])
        else:
            keys = weights = others = holders = np.zeros(0, dtype=np.int64)
        self._update_counts(x, keys, weights, others, holders, row)
        return keys, weights

    def _merge_batch(self, words: np.ndarray, a: int, b: int, x: int) -> tuple[np.ndarray, ...]:
        """Merge (a, b) into x in ``words`` and write them back; returns the changed pairs' keys with their count
        changes (one entry per occurrence), and for each occurrence of a pair with x its other side
        (``other << 1 | side`` as in :func:`pack`) and the word holding it."""
        np = self.np
        s = self.start[words].astype(np.int64)
        lengths = self.start[words + 1].astype(np.int64) - s
        wid = np.repeat(np.arange(len(words)), lengths)
        pos = np.arange(len(wid)) + np.repeat(s - (np.cumsum(lengths) - lengths), lengths)
        seg = self.sym[pos]
        valid = seg != self.pad
        seg, wid, pos = seg[valid].astype(np.int64), wid[valid], pos[valid]
        same = wid[:-1] == wid[1:]
        hit = same & (seg[:-1] == a) & (seg[1:] == b)
        if a == b:  # in a run of (a, a) matches, only every other one from the run's start merges
            idx = np.arange(len(hit))
            run_start = hit.copy()
            run_start[1:] &= ~hit[:-1]
            offset = idx - np.maximum.accumulate(np.where(run_start, idx, 0))
            hit &= offset % 2 == 0
        j = np.flatnonzero(hit)
        # The pairs that change: those starting just before, at and just after each merged place (before), and
        # just before and at each new token (after); every other pair of these words is as it was.
        old = np.zeros(len(same), dtype=bool)
        old[j] = True
        old[j[j > 0] - 1] = True
        old[j[j + 1 < len(same)] + 1] = True
        old &= same
        keep = np.ones(len(seg), dtype=bool)
        keep[j + 1] = False
        new_seg = seg.copy()
        new_seg[j] = x
        new_seg, new_wid = new_seg[keep], wid[keep]
        new_same = new_wid[:-1] == new_wid[1:]
        nj = j - np.arange(len(j))  # where each new token is once the merged places have shrunk
        new = np.zeros(len(new_same), dtype=bool)
        new[nj[nj < len(new_same)]] = True
        new[nj[nj > 0] - 1] = True
        new &= new_same
        f = self.freq[words].astype(np.int64)
        new_keys = pack(new_seg[:-1][new], new_seg[1:][new])
        new_wids = new_wid[:-1][new]
        keys = np.concatenate([pack(seg[:-1][old], seg[1:][old]), new_keys])
        weights = np.concatenate([-f[wid[:-1][old]], f[new_wids]])
        # Write the words back: shorter, padded at the end of their slots.
        self.sym[pos] = self.pad
        per_word = np.bincount(new_wid, minlength=len(words))
        rank = np.arange(len(new_wid)) - np.repeat(np.cumsum(per_word) - per_word, per_word)
        self.sym[s[new_wid] + rank] = new_seg.astype(self.sym_dtype)
        with_x = (new_keys >> 32) == x
        others = (new_keys[with_x] & 0xFFFFFFFF).astype(np.uint32)
        holders = words[new_wids[with_x]].astype(np.uint32 if len(self.start) <= 1 << 32 else np.int64)
        return keys, weights, others, holders

    def _update_counts(self, x: int, uniq: np.ndarray, sums: np.ndarray, others: np.ndarray, holders: np.ndarray,
                       row: int) -> None:
        """Add ``sums`` to the counts of pairs ``uniq`` (sorted, each once); the pairs with the new token ``x`` get
        their rows, and their word lists from ``others`` and ``holders`` (one entry per occurrence)."""
        np = self.np
        is_new = (uniq >> 32) == x
        old = ~is_new & (sums != 0)
        rows = self.find(uniq[old])
        self.count[rows] += sums[old]
        self.count[row] = 0  # the merged pair: its every occurrence is gone (the sums above already say so)
        changed = np.union1d(rows, [row])
        gone_blocks = (self.key[changed][self.count[changed] == 0] >> 32) - 255
        for block_id in np.maximum(gone_blocks, 0).tolist():
            self.live[block_id] -= 1
            if self.live[block_id] == 0:
                del self.blocks[block_id], self.live[block_id]
        # The new pairs: their counts, and the words that hold them (sorted by key, then word; each once).
        made, made_counts = uniq[is_new], sums[is_new]
        order = np.lexsort((holders, others))
        nk = (np.int64(x) << 32) | others[order].astype(np.int64)
        nw = holders[order].astype(np.int64)
        del order
        if len(nk):
            once = np.ones(len(nk), dtype=bool)
            once[1:] = (nk[1:] != nk[:-1]) | (nw[1:] != nw[:-1])
            nk, nw = nk[once], nw[once]
        group = np.searchsorted(made, nk)
        data, nb = _encode(_group_gaps(group, nw))
        sizes = np.bincount(group, weights=nb, minlength=len(made)).astype(np.int64)
        stop = np.cumsum(sizes)
        if len(made):
            block_id = x - 255
            self.blocks[block_id] = data
            self.live[block_id] = len(made)
            self._append(made, made_counts, stop - sizes, stop)
            if self.candidates is not None:
                self.candidates.push_new(made, made_counts)
        if self.n > 1 << 16 and int((self.count[: self.n] == 0).sum()) * 2 > self.n:
            self._compact_table()


def sum_by_key(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and the sum of the weights of each."""
    import numpy as np

    order = np.argsort(keys)
    keys, weights = keys[order], weights[order]
    if len(keys) == 0:
        return keys, weights
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(first)
    return keys[starts], np.add.reduceat(weights, starts)


class PairHeap:
    """The pairs that may be merged next (:class:`tokviz.training.merge_loop.Candidates`' scheme on table keys): a
    heap of ``(-count, inv(left), inv(right), key)``, and rare new pairs waiting in buckets by
    ``count.bit_length()`` (as ``numpy`` arrays of keys, 8 B a pair) until the best count falls to their level. The
    compact loop and the sharded merge's coordinator pick each merge here, so they share one tie rule.

    >>> from tokviz.training.sharded_merge import PairCounts
    >>> heap = PairHeap(PairCounts({"ab": 3, "ba": 3, "bb": 1}))
    >>> key, count = heap.pop_best()
    >>> unpack(key), count  # ties go to the greatest pair of byte strings
    ((98, 97), 3)
    """

    def __init__(self, loop: SortedPairs) -> None:
        self.loop = loop
        self.inv: list[str] = [chr(256 - b) + "\u0101" for b in range(256)]
        n = loop.n
        keys, counts = loop.key[:n].tolist(), loop.count[:n].tolist()
        self.heap = [(-c, *self._inv(k), k) for k, c in zip(keys, counts) if c > 0]
        heapq.heapify(self.heap)
        top = max(counts, default=0)
        self.limit = 1 << max(0, (top >> 4).bit_length() - 1)
        # One growing array of keys a level: an array per merge and level would cost its header (about 100 B) for
        # a few keys each.
        self.low: dict[int, array[int]] = {}

    def _inv(self, key: int) -> tuple[str, str]:
        a, b = unpack(key)
        return self.inv[a], self.inv[b]

    def add_token(self, a: int, b: int) -> None:
        self.inv.append(self.inv[a][:-1] + self.inv[b])

    def push_new(self, keys: np.ndarray, counts: np.ndarray) -> None:
        np = self.loop.np
        big = counts >= self.limit
        for k, c in zip(keys[big].tolist(), counts[big].tolist()):
            heapq.heappush(self.heap, (-c, *self._inv(k), k))
        rare, rare_counts = keys[~big], counts[~big]
        if len(rare):
            bits = np.frexp(rare_counts.astype(np.float64))[1]
            for level in np.unique(bits).tolist():
                self.low.setdefault(level, array("q")).frombytes(rare[bits == level].astype(np.int64).tobytes())

    def pop_best(self) -> tuple[int, int] | None:
        heap, count_of = self.heap, self.loop.count_of
        heappop, heappush = heapq.heappop, heapq.heappush
        while True:
            best = None
            negc, il, ir = 0, "", ""
            while heap:
                negc, il, ir, k = heappop(heap)
                c = count_of(k)
                if c == -negc:
                    best = k
                    break
                if c > 0:
                    heappush(heap, (-c, il, ir, k))
            if (best is not None and -negc >= self.limit) or self.limit == 1:
                return None if best is None else (best, -negc)
            if best is not None:
                heappush(heap, (negc, il, ir, best))
            self.limit >>= 1
            self._let_in(self.low.pop(self.limit.bit_length(), array("q")))

    def _let_in(self, waiting: array[int]) -> None:
        np = self.loop.np
        if not waiting:
            return
        keys = np.frombuffer(waiting, dtype=np.int64)
        loop = self.loop
        rows = np.minimum(loop.find(keys), max(0, loop.n - 1))
        counts = np.where(loop.key[rows] == keys, loop.count[rows], 0)
        for k, c in zip(keys[counts > 0].tolist(), counts[counts > 0].tolist()):
            heapq.heappush(self.heap, (-c, *self._inv(k), k))
