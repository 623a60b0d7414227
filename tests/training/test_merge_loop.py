"""The merge loop against a plain, obviously-correct BPE on random corpora, plus its stop conditions."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.training.merge_loop import Merge, merge_counts


def naive_bpe(word_counts: dict[bytes, int], n_merges: int) -> list[tuple[bytes, bytes]]:
    """CS336's definition, recounting every pair each step: max over (count, (left, right))."""
    words = {tuple(bytes([b]) for b in w): c for w, c in word_counts.items()}
    merges = []
    for _ in range(n_merges):
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for w, c in words.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        new_words: dict[tuple[bytes, ...], int] = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges


WORDS = st.dictionaries(
    st.binary(min_size=1, max_size=8).map(lambda b: bytes(x % 4 + 97 for x in b)) | st.binary(min_size=1, max_size=5),
    st.integers(1, 20),
    max_size=25,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(words=WORDS, n=st.integers(0, 40))
def test_incremental_merges_equal_naive_recount(words: dict[bytes, int], n: int) -> None:
    result = merge_counts(words, n_merges=n)
    assert result.merges == naive_bpe(words, n)


# Frequencies over four orders of magnitude: the heap's waiting buckets for rare new pairs fill and are let in over
# several halvings of the threshold, and the counts of ties stay exact.
WIDE = st.dictionaries(
    st.binary(min_size=1, max_size=10).map(lambda b: bytes(x % 5 + 97 for x in b)),
    st.integers(1, 5000) | st.integers(1, 3),
    max_size=30,
)


@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(words=WIDE, n=st.integers(0, 60))
def test_merges_and_counts_equal_naive_recount_over_wide_frequency_ranges(words: dict[bytes, int], n: int) -> None:
    result = merge_counts(words, n_merges=n)
    expected = naive_bpe(words, n)
    assert result.merges == expected
    # Each merge's count is its pair's count when chosen: recount it on the corpus merged up to that point.
    assert result.counts == [naive_pair_count(words, expected[:k], pair) for k, pair in enumerate(expected)]


def naive_pair_count(
    word_counts: dict[bytes, int], merges: list[tuple[bytes, bytes]], pair: tuple[bytes, bytes]
) -> int:
    """How often ``pair`` occurs side by side after applying ``merges`` to every word, weighted by frequency."""
    total = 0
    for w, c in word_counts.items():
        toks = [bytes([b]) for b in w]
        for m in merges:
            out, i = [], 0
            while i < len(toks):
                if i + 1 < len(toks) and (toks[i], toks[i + 1]) == m:
                    out.append(toks[i] + toks[i + 1])
                    i += 2
                else:
                    out.append(toks[i])
                    i += 1
            toks = out
        total += c * sum(1 for p in zip(toks, toks[1:]) if p == pair)
    return total


def test_runs_of_one_byte_merge_left_to_right() -> None:
    # "aaaa" -> (aa)(aa) -> (aaaa); "aaa" keeps a trailing a.
    # Pair counts include overlapping pairs (aaaa holds three (a, a)): 3 * 3 + 2 * 1 = 11.
    result = merge_counts({b"aaaa": 3, b"aaa": 1}, n_merges=4)
    assert result.merges == [(b"a", b"a"), (b"aa", b"aa"), (b"aa", b"a")]
    assert result.counts == [11, 3, 1]
    assert result.stopped_early and "no pair" in result.message


def test_callback_sees_every_merge_and_cancel_keeps_what_was_learned() -> None:
    seen: list[Merge] = []
    result = merge_counts({b"abcdefgh": 2}, n_merges=5, on_merge=seen.append, should_stop=lambda: len(seen) >= 2)
    assert [m.rank for m in seen] == [0, 1]
    assert [(m.left, m.right) for m in seen] == result.merges
    assert result.stopped_early and "Cancelled after 2" in result.message


def test_negative_merge_count_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        merge_counts({b"ab": 1}, n_merges=-1)


def test_cycle_collector_state_is_restored_even_when_a_callback_raises() -> None:
    import gc

    def boom(m: Merge) -> None:
        raise RuntimeError("stop")

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        merge_counts({b"abab": 3}, n_merges=2, on_merge=boom)
    assert gc.isenabled()
    gc.disable()
    try:
        merge_counts({b"abab": 3}, n_merges=2)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


LONG = st.dictionaries(
    st.binary(min_size=1, max_size=40).map(lambda b: bytes(x % 3 + 97 for x in b))
    | st.tuples(st.sampled_from([b"a", b"ab", b"\x00", b"aab"]), st.integers(1, 40)).map(lambda t: t[0] * t[1]),
    st.integers(1, 50),
    max_size=12,
)


@pytest.mark.slow
@pytest.mark.parametrize("long_word", [1, 3, 12])
@settings(max_examples=150, deadline=None)
@given(words=LONG, n=st.integers(0, 50))
def test_long_word_path_equals_naive_recount(long_word: int, words: dict[bytes, int], n: int) -> None:
    # LONG_WORD lowered so that every word (1), most words (3) or some words (12) take the linked-list path, mixed
    # with words on the string path in one corpus: merges and counts must be exactly the naive ones.
    from unittest import mock

    with mock.patch("tokviz.training.merge_loop.LONG_WORD", long_word):
        result = merge_counts(words, n_merges=n)
    expected = naive_bpe(words, n)
    assert result.merges == expected
    assert result.counts == [naive_pair_count(words, expected[:k], pair) for k, pair in enumerate(expected)]


@pytest.mark.parametrize("word", [b"\x00" * 5000, bytes(97 + (i * 7919) % 26 for i in range(3000)), b"ab" * 2500])
def test_one_long_word_equals_the_string_path(word: bytes) -> None:
    from unittest import mock

    long_path = merge_counts({word: 2, b"abc": 3}, n_merges=300)
    with mock.patch("tokviz.training.merge_loop.LONG_WORD", 1 << 30):
        string_path = merge_counts({word: 2, b"abc": 3}, n_merges=300)
    assert long_path == string_path and len(word) >= 512
