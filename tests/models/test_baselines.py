"""The lecture's baselines: character, byte and word tokenizers with the BPE tokenizer's interface."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.core.ratios import compression_ratio
from tokviz.models.baselines import UNK, ByteTokenizer, CharacterTokenizer, WordTokenizer

CORPUS = ["the cat sat on the mat.", "the dog sat on the log!\n"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(codec="utf-8")))
def test_character_and_byte_roundtrip_any_text(text: str) -> None:
    for tok in (CharacterTokenizer(), ByteTokenizer()):
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        assert list(tok.encode_iterable([text[: len(text) // 2], text[len(text) // 2 :]])) == ids
        enc = tok.encode_with_offsets(text)
        assert enc.ids == ids and b"".join(enc.tokens) == text.encode("utf-8")


WORD = WordTokenizer.from_corpus(CORPUS)


ALNUM = [w for w in WORD.words[1:] if w.isalnum()]


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(ALNUM), max_size=30), end=st.sampled_from(["", ".", "!\n"]))
def test_word_roundtrip_on_known_words(words: list[str], end: str) -> None:
    # Known words joined by a known separator split back into exactly those words: no unknowns, exact decode.
    text = " ".join(words) + end
    ids = WORD.encode(text)
    assert 0 not in ids
    assert WORD.decode(ids) == text


def test_ids_and_vocab_sizes() -> None:
    assert CharacterTokenizer().encode("hé🌍") == [104, 233, 127757]
    assert ByteTokenizer().encode("é") == [0xC3, 0xA9]
    assert (CharacterTokenizer().vocab_size, ByteTokenizer().vocab_size) == (0x110000, 256)
    assert WORD.words[0] == UNK and WORD.unk_id == 0
    assert WORD.encode("the cat") == [WORD.words.index("the"), WORD.words.index(" "), WORD.words.index("cat")]


def test_unknown_words_get_unk_and_are_lost_on_decode() -> None:
    ids = WORD.encode("the zebra sat")
    assert ids[2] == 0
    assert WORD.decode(ids) == "the <unk> sat"
    assert WORD.unknown_rate("the zebra sat") == pytest.approx(1 / 5)
    assert WORD.unknown_rate("") == 0.0


def test_word_offsets_keep_unknown_text_visible() -> None:
    enc = WORD.encode_with_offsets("the zebra")
    assert enc.ids[-1] == 0
    assert enc.tokens[-1] == b"zebra" and enc.char_spans[-1] == (4, 9)


def test_word_vocabulary_is_ranked_and_can_be_capped() -> None:
    capped = WordTokenizer.from_corpus(CORPUS, max_size=3)
    assert capped.vocab_size == 3 and capped.words[1:] == [" ", "the"]  # most frequent first
    with pytest.raises(ValueError, match="at least 1"):
        WordTokenizer.from_corpus(CORPUS, max_size=0)


def test_byte_tokenizer_compresses_exactly_one_byte_per_token() -> None:
    assert compression_ratio("héllo 🌍", ByteTokenizer()) == 1.0
    assert compression_ratio("héllo", CharacterTokenizer()) == pytest.approx(6 / 5)


@pytest.mark.parametrize(
    ("tok", "ids"),
    [(ByteTokenizer(), [256]), (CharacterTokenizer(), [0x110000]), (WORD, [10**6])],
)
def test_decoding_an_impossible_id_is_a_value_error(tok, ids: list[int]) -> None:
    with pytest.raises(ValueError):
        tok.decode(ids)
