"""The merge over shards (coordinator + shards, all in this process) learns exactly the one-process loop's merges and
counts: CS336's reference, a corpus where ties decide most merges, hypothesis-drawn tables with runs and long words,
each cut into 1, 2 and 3 shards by the counts shards' own hash. The coordinator's packed pair counts equal a plain
``dict`` of them updated as the one-process loop updates its own, at every merge, and its heap picks what the
one-process loop's heap picks. Shards in the compact loop's arrays answer as the shards of Python words do, and learn
the same merges. The Dask actors run the same code (tests/scale/test_dask_merge.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import read_reference_merges
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.training.compact_merge import PairHeap, pack, unpack
from tokviz.training.counts_shards import split_counts
from tokviz.training.counts_table import count_files, count_texts
from tokviz.training.merge_loop import LONG_WORD, Candidates, Merge, merge_counts
from tokviz.training.sharded_merge import (
    CompactShard,
    PairCounts,
    WordShard,
    merge_in_shards,
    merge_shards,
    pack_pairs,
    sum_pair_counts,
)

pytest.importorskip("numpy")

EOT = "<|endoftext|>"
TIES = " ".join(a + b for a in "abcdefgh" for b in "ijklmnop") * 3 + " ab ba" * 7


def _as_str(words: dict[bytes, int]) -> dict[str, int]:
    return {w.decode("latin-1"): c for w, c in words.items()}


@pytest.mark.slow  # 1.1 s measured: the full run has it, the quick loop does not
def test_cs336_reference_merges_in_1_2_and_3_shards(cs336_dir: Path) -> None:
    counts = count_files([cs336_dir / "corpus.en"], special_tokens=[EOT]).counts
    reference = read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    one = merge_counts(counts, n_merges=500 - 257)
    assert one.merges == reference
    for n in (1, 2, 3):
        parts = split_counts(counts, n)
        assert all(parts) and sum(map(len, parts)) == len(counts)
        assert merge_in_shards(parts, n_merges=500 - 257) == one


def test_a_corpus_where_ties_decide_most_merges() -> None:
    counts = count_texts([TIES]).counts
    one = merge_counts(counts, n_merges=60)
    assert Counter(one.counts).most_common(1)[0][1] >= 20  # the tie rule orders many merges of one count
    for n in (1, 2, 3):
        assert merge_in_shards(split_counts(counts, n), n_merges=60) == one
    # A cut that puts the tied words of one pair in different shards: each shard alone would rank the pairs
    # otherwise, so only the summed counts give the one-process order.
    words = sorted(counts)
    assert merge_in_shards([{w: counts[w]} for w in words], n_merges=60) == one


WORDS = st.dictionaries(
    st.binary(min_size=1, max_size=10).map(lambda b: bytes(x % 4 + 97 for x in b)) | st.binary(min_size=1, max_size=6)
    | st.tuples(st.sampled_from([b"a", b"ab", b"aab", b"\xff"]), st.integers(1, 40)).map(lambda t: t[0] * t[1]),
    st.integers(1, 5000) | st.integers(1, 3),
    max_size=30,
)


@pytest.mark.slow  # 2.5 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(words=WORDS, n=st.integers(0, 60), n_shards=st.integers(1, 3))
def test_equals_the_one_process_loop_on_drawn_tables(words: dict[bytes, int], n: int, n_shards: int) -> None:
    table = _as_str(words)
    assert merge_in_shards(split_counts(table, n_shards), n_merges=n) == merge_counts(table, n_merges=n)


def test_long_words_take_the_linked_list_path_in_a_shard() -> None:
    table = {"ab" * LONG_WORD: 3, "ba" * (LONG_WORD // 2 + 1): 2, "abc": 7, "a" * (LONG_WORD + 5): 1}
    one = merge_counts(table, n_merges=40)
    for n in (1, 2, 3):
        assert merge_in_shards(split_counts(table, n), n_merges=40) == one


def test_a_shard_answers_with_its_deltas() -> None:
    shard = WordShard({"abab": 2, "xab": 1})
    assert shard.pair_counts() == {"ab": 5, "ba": 2, "xa": 1}
    fallen, made = shard.merge("ab", chr(256))
    assert fallen == {"ba": -2, "xa": -1}  # each neighbour pair of a merged "ab" loses its word's count
    assert made == {chr(256) * 2: 2, "x" + chr(256): 1}  # the new pairs, with their counts
    assert shard.merge("zz", chr(257)) == ({}, {})  # a pair this shard does not hold


def test_callback_cancel_and_empty_input() -> None:
    seen: list[Merge] = []
    parts = split_counts({"abcdefgh": 2, "abd": 1}, 2)
    result = merge_in_shards(parts, n_merges=5, on_merge=seen.append, should_stop=lambda: len(seen) >= 2)
    assert [(m.left, m.right) for m in seen] == result.merges and len(seen) == 2
    assert result.stopped_early and "Cancelled after 2" in result.message
    assert merge_in_shards([{}, {}], n_merges=3) == merge_counts({}, n_merges=3)
    assert merge_in_shards([{"a": 5}, {"bc": 0}], n_merges=3) == merge_counts({"a": 5, "bc": 0}, n_merges=3)
    with pytest.raises(ValueError, match=">= 0"):
        merge_shards(sum_pair_counts([]), lambda p, x: [], n_merges=-1)


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(words=WORDS, n=st.integers(0, 60), n_shards=st.integers(1, 3), compact_from=st.sampled_from([0, 1 << 16]))
def test_packed_counts_equal_a_dict_of_them_at_every_merge(words: dict[bytes, int], n: int, n_shards: int,
                                                          compact_from: int) -> None:
    # The reference is the coordinator as it was before the counts were packed: a dict of 2-character pairs and
    # the one-process loop's Candidates heap, updated from the same shards' answers.
    shards = [WordShard(t) for t in split_counts(_as_str(words), n_shards)]
    ref = sum_pair_counts(s.pair_counts() for s in shards)
    packed = PairCounts(ref, compact_from=compact_from)  # 0: rows whose count is 0 are dropped as soon as they can
    heap, candidates = PairHeap(packed), Candidates(ref)
    tokens = [bytes([b]) for b in range(256)]
    for _ in range(n):
        taken, found = candidates.take(tokens), heap.pop_best()
        assert (taken is None) == (found is None)
        if taken is None or found is None:
            break
        best, x, count = taken
        assert found == (packed.key_of(best), count) and unpack(found[0]) == (ord(best[0]), ord(best[1]))
        heap.add_token(*unpack(found[0]))
        answers = [s.merge(best, x) for s in shards]
        made: dict[str, int] = {}
        for fallen, new in answers:
            for q, d in fallen.items():
                ref[q] += d
            for q, c in new.items():
                made[q] = made.get(q, 0) + c
        ref.pop(best)
        for q, c in made.items():
            ref[q] = c
            candidates.push(q, c)
        keys, counts = packed.apply(found[0], ord(x), answers)
        heap.push_new(keys, counts)
        assert dict(zip(keys.tolist(), counts.tolist())) == {packed.key_of(q): c for q, c in made.items()}
        assert packed.as_dict() == {q: c for q, c in ref.items() if c}
        assert list(packed.key[: packed.n]) == sorted(packed.key[: packed.n])


def test_pairs_pack_past_16_bits_and_through_surrogate_code_points() -> None:
    pairs = ["ab", chr(0xD800) + chr(0xDFFF), chr(70000) + "a", "a" + chr(70000)]
    expected = [pack(97, 98), pack(0xD800, 0xDFFF), pack(70000, 97), pack(97, 70000)]
    assert pack_pairs(pairs).tolist() == expected
    assert pack_pairs([]).tolist() == []
    with pytest.raises(ValueError, match="two token characters"):
        pack_pairs(["abc", "d"])
    with pytest.raises(ValueError, match="two token characters"):
        PairCounts({"a": 1})


def test_answers_the_coordinator_cannot_have_are_refused() -> None:
    table = PairCounts({"ab": 3, "bc": 1})
    with pytest.raises(ValueError, match="never counted"):
        table.apply(table.key_of("ab"), 256, [({"zz": -1}, {})])
    with pytest.raises(ValueError, match="never counted"):
        table.apply(table.key_of("ab"), 256, [({}, {"ca": 1})])  # a made pair must hold the new token
    with pytest.raises(ValueError, match="newer than 256"):
        table.apply(table.key_of("ab"), 256, [({}, {"a" + chr(257): 1})])


def _answers_agree(table: dict[str, int], n: int, vocab: int) -> None:
    """A CompactShard answers each of the one-process loop's merges as a WordShard of the same table does (without
    the merged pair's own fall, which the coordinator drops)."""
    merges = merge_counts(table, n_merges=n).merges
    word, compact = WordShard(table), CompactShard(table, vocab=vocab)
    assert compact.pair_counts() == word.pair_counts()
    ids = {bytes([b]): b for b in range(256)}
    for k, (left, right) in enumerate(merges):
        best, x = chr(ids[left]) + chr(ids[right]), chr(256 + k)
        ids[left + right] = 256 + k
        fallen, made = word.merge(best, x)
        fallen.pop(best, None)
        assert compact.merge(best, x) == (fallen, made)


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@settings(max_examples=100, deadline=None)
@given(words=WORDS, n=st.integers(0, 40))
def test_a_compact_shard_answers_as_a_word_shard_does(words: dict[bytes, int], n: int) -> None:
    _answers_agree(_as_str(words), n, 256 + n)


def test_a_compact_shard_with_32_bit_symbols_and_long_words() -> None:
    table = {"ab" * LONG_WORD: 3, "abc": 7, "a" * (LONG_WORD + 5): 1, "xyzzy": 2}
    _answers_agree(table, 30, 70_000)


def test_a_compact_shard_refuses_a_merge_out_of_order_and_skips_a_pair_it_lacks() -> None:
    shard = CompactShard({"abab": 2})
    assert shard.merge("zz", chr(256)) == ({}, {})  # no word here holds it; its token is made all the same
    with pytest.raises(ValueError, match="next token is 257, not 300"):
        shard.merge("ab", chr(300))
    assert shard.merge("ab", chr(257)) == ({"ba": -2}, {chr(257) * 2: 2})


def test_compact_shards_of_empty_and_one_byte_tables() -> None:
    assert CompactShard({}).pair_counts() == {} and CompactShard({}).merge("ab", chr(256)) == ({}, {})
    assert merge_in_shards([{}, {}], n_merges=3, compact=True) == merge_counts({}, n_merges=3)
    assert merge_in_shards([{"a": 5}, {"bc": 0}], n_merges=3, compact=True) == merge_counts({"a": 5, "bc": 0},
                                                                                            n_merges=3)
    assert merge_in_shards([{}, {"abc": 2}], n_merges=5, compact=True) == merge_counts({"abc": 2}, n_merges=5)


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
def test_compact_shards_learn_the_cs336_reference_in_1_2_and_3_shards(cs336_dir: Path) -> None:
    counts = count_files([cs336_dir / "corpus.en"], special_tokens=[EOT]).counts
    one = merge_counts(counts, n_merges=500 - 257)
    assert one.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    for n in (1, 2, 3):
        assert merge_in_shards(split_counts(counts, n), n_merges=500 - 257, compact=True) == one


@pytest.mark.slow  # 0.25 s measured: the full run has it, the quick loop does not
def test_compact_shards_where_ties_decide_and_one_word_a_shard() -> None:
    counts = count_texts([TIES]).counts
    one = merge_counts(counts, n_merges=60)
    for n in (1, 2, 3):
        assert merge_in_shards(split_counts(counts, n), n_merges=60, compact=True) == one
    assert merge_in_shards([{w: counts[w]} for w in sorted(counts)], n_merges=60, compact=True) == one


@pytest.mark.slow  # 1.5 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(words=WORDS, n=st.integers(0, 60), n_shards=st.integers(1, 3))
def test_compact_shards_equal_the_one_process_loop_on_drawn_tables(words: dict[bytes, int], n: int,
                                                                   n_shards: int) -> None:
    table = _as_str(words)
    assert merge_in_shards(split_counts(table, n_shards), n_merges=n, compact=True) == merge_counts(table, n_merges=n)
