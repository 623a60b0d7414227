"""Each measure on a tiny example worked by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from tokviz import Tokenizer
from tokviz.analysis.measures import (
    MEASURES,
    measure_text,
    renyi_efficiency,
    renyi_entropy,
    split_share,
    tokens_per_word,
    vocabulary_share,
    word_spans,
    zipf,
)
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer

# 256 bytes + "ab" (256) + " ab" (257): the gpt2 pattern cuts "ab ab abc" into "ab", " ab", " abc"; BPE turns
# " abc" into " ab" + "c". Tokens: [256, 257, 257, 99].
TOK = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b" ab"}, [(b"a", b"b"), (b" ", b"ab")])
TEXT = "ab ab abc"


def test_the_example_tokenizer_cuts_as_the_comments_say() -> None:
    assert TOK.encode(TEXT) == [256, 257, 257, 99]


def test_compression_by_hand() -> None:
    # 9 bytes (all ASCII) / 4 tokens = 2.25.
    assert measure_text(TOK, TEXT).bytes_per_token == 2.25
    # "héllo": 6 bytes; one byte per token gives 6 tokens: 1.0. Characters: 6 bytes / 5 tokens = 1.2.
    assert measure_text(ByteTokenizer(), "héllo").bytes_per_token == 1.0
    assert measure_text(CharacterTokenizer(), "héllo").bytes_per_token == 1.2


def test_fertility_and_split_share_by_hand() -> None:
    m = measure_text(TOK, TEXT)
    # words: "ab", "ab", "abc" -> 3; 4 tokens / 3 words = 1.333...
    assert m.n_words == 3 and m.fertility == pytest.approx(4 / 3)
    # "ab" <- [256]; "ab" <- [" ab"] (its space is outside the word, the token still overlaps it); "abc" <- [" ab",
    # "c"]: one word of three has >= 2 tokens -> 1/3.
    assert m.split_share == pytest.approx(1 / 3)
    # Characters: "hi yo!" -> words "hi" (2 tokens), "yo!" (3 tokens); 6 tokens / 2 words = 3.0; both split: 1.0.
    c = measure_text(CharacterTokenizer(), "hi yo!")
    assert (c.fertility, c.split_share) == (3.0, 1.0)


def test_tokens_per_word_by_hand() -> None:
    # words (0,2) and (3,5); token spans (0,1) (1,3) (3,5): the first word overlaps (0,1) and (1,3) -> 2; the second
    # overlaps (1,3)? no: (1,3) ends at 3, the word starts at 3 -> only (3,5) -> 1. An empty span (3,3) counts 0.
    assert tokens_per_word([(0, 1), (1, 3), (3, 3), (3, 5)], [(0, 2), (3, 5)]) == [2, 1]
    assert word_spans("a  bb\tc") == [(0, 1), (3, 5), (6, 7)]
    assert split_share([]) == 0.0


def test_renyi_efficiency_by_hand() -> None:
    # Uniform over 4 of 16 tokens: H_a = log(4 * (1/4)^a) / (1 - a) = log((1/4)^(a-1)) / (1 - a) = log 4 for any a;
    # efficiency = log 4 / log 16 = 2 / 4 = 0.5.
    assert renyi_efficiency([3, 3, 3, 3], 16) == pytest.approx(0.5)
    # counts [2, 1, 1]: p = (1/2, 1/4, 1/4); sum p^2.5 = 2^-2.5 + 2 * 4^-2.5 = 0.1767767 + 2 * 0.03125 = 0.2392767;
    # H = log(0.2392767) / (1 - 2.5) = -1.4301347 / -1.5 = 0.9534231; over log 4 = 1.3862944 -> 0.6877494.
    assert renyi_entropy([2, 1, 1]) == pytest.approx(0.9534231, abs=1e-7)
    assert renyi_efficiency([2, 1, 1], 4) == pytest.approx(0.6877494, abs=1e-7)
    # The example text: counts {256: 1, 257: 2, 99: 1}, the same distribution, over |V| = 258:
    # 0.9534231 / log 258 = 0.9534231 / 5.5529596 = 0.1716964.
    assert measure_text(TOK, TEXT).renyi_efficiency == pytest.approx(0.1716964, abs=1e-6)
    # alpha = 1 is Shannon: -(1/2 log 1/2 + 2 * 1/4 log 1/4) = 0.5 log 2 + log 2 = 1.5 * 0.6931472 = 1.0397208.
    assert renyi_entropy([2, 1, 1], alpha=1) == pytest.approx(1.0397208, abs=1e-7)
    assert renyi_efficiency([], 10) == 0.0 and renyi_efficiency([1], 1) == 0.0
    with pytest.raises(ValueError, match="alpha must be > 0"):
        renyi_entropy([1, 2], alpha=0)


def test_vocabulary_share_by_hand() -> None:
    # 3 distinct ids (256, 257, 99) of 258 tokens.
    m = measure_text(TOK, TEXT)
    assert m.n_distinct == 3 and m.vocab_share == pytest.approx(3 / 258)
    assert vocabulary_share([], 5) == 0.0


def test_zipf_by_hand() -> None:
    # 257 twice, then 99 and 256 once each (ties by id): ranks 1..3.
    z = zipf(TOK.encode(TEXT))
    assert (z.ranks, z.frequencies, z.ids) == ([1, 2, 3], [2, 1, 1], [257, 99, 256])
    assert len(zipf([])) == 0


def test_every_measure_has_help_text() -> None:
    assert set(MEASURES) == {"bytes_per_token", "fertility", "split_share", "renyi_efficiency", "vocab_share", "zipf"}
    for m in MEASURES.values():
        assert m.definition.endswith(".") and m.formula and m.name
        assert m.formula in m.help
    assert "Cognetta" in MEASURES["renyi_efficiency"].caveat
    assert math.isclose(measure_text(TOK, "").bytes_per_token, 0.0)
