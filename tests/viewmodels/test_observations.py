"""The lecture's observations: verdicts must follow from each tokenizer's own output, for BPE and baselines alike."""

from __future__ import annotations

import dataclasses

import pytest

from tokviz import train_bpe
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.viewmodels.observations import (
    OBSERVATIONS,
    DigitResult,
    FallbackResult,
    SpaceResult,
    byte_fallback,
    digit_chunking,
    leading_space,
    pattern_chunks,
    repetition,
)

ENGLISH = "hello world. the world says hello to the world, hello hello world! " * 40


@pytest.fixture(scope="module")
def bpe_gpt2():
    return train_bpe([ENGLISH + " 1885 1234567890 2024 " * 5], vocab_size=330, pattern="gpt2", name="bpe2")


@pytest.fixture(scope="module")
def bpe_gpt4():
    return train_bpe([ENGLISH + " 1885 1234567890 2024 " * 5], vocab_size=330, pattern="gpt4", name="bpe4")


@pytest.fixture(scope="module")
def bpe_spaces_apart():
    # A custom pattern that never joins a space to a word: the space must come out as a token of its own.
    return train_bpe([ENGLISH], vocab_size=300, pattern=r"\w+|\s+|[^\w\s]+", name="apart")


@pytest.fixture(scope="module")
def bpe_emoji():
    return train_bpe(["🌍 globe 🌍 " * 50], vocab_size=270, pattern="gpt2", name="emoji")


# -- leading space ---------------------------------------------------------------------------------------------------
def test_leading_space_attached_when_the_tokenizer_has_the_token(bpe_gpt2):
    r = leading_space(bpe_gpt2, "hello world")
    spaced = bpe_gpt2.encode(" world")
    assert len(spaced) == 1  # the corpus makes " world" a token
    assert r.result is SpaceResult.ATTACHED and r.mark == "yes"
    assert [t.id for t in r.word_tokens] == spaced
    assert r.with_space_ids == tuple(spaced)
    assert r.alone_ids == tuple(bpe_gpt2.encode("world"))
    assert f"(id {spaced[0]})" in r.verdict and r.verdict.startswith("' world' is one token with its leading space")
    assert [t.id for t in r.tokens] == bpe_gpt2.encode("hello world")


def test_leading_space_separate_when_the_pattern_splits_spaces(bpe_spaces_apart):
    r = leading_space(bpe_spaces_apart, "hello world")
    assert r.result is SpaceResult.SEPARATE and r.mark == "no"
    assert f"(id {bpe_spaces_apart.encode('world')[0]})" in r.verdict
    assert "space is a token of its own" in r.verdict


@pytest.mark.parametrize("tok", [ByteTokenizer(), CharacterTokenizer()], ids=["byte", "character"])
def test_leading_space_split_for_baselines(tok):
    r = leading_space(tok, "hello world")
    assert r.result is SpaceResult.SPLIT
    assert len(r.word_tokens) == len(" world")
    assert "cut into 6 tokens, one per character" in r.verdict


def test_leading_space_word_tokenizer():
    w = WordTokenizer.from_corpus([ENGLISH])
    r = leading_space(w, "hello world")
    assert r.result is SpaceResult.SEPARATE
    assert f"(id {w.encode('world')[0]})" in r.verdict


def test_leading_space_picks_the_last_word_after_a_space_or_the_given_one(bpe_gpt2):
    assert leading_space(bpe_gpt2, "say hello world!").word == "world"
    assert leading_space(bpe_gpt2, "say hello world!", word="hello").word == "hello"


def test_leading_space_with_gpt2(gpt2_tokenizer):
    r = leading_space(gpt2_tokenizer, "hello world")
    (spaced,) = gpt2_tokenizer.encode(" world")
    (alone,) = gpt2_tokenizer.encode("world")
    assert spaced != alone
    assert r.verdict == (f"' world' is one token with its leading space (id {spaced}); "
                         f"'world' alone is a different token (id {alone}).")


@pytest.mark.parametrize("text,word,msg", [
    ("", None, "empty"), ("helloworld", None, "word after a space"), ("hello world", "moon", "does not contain"),
])
def test_leading_space_bad_examples(text, word, msg):
    with pytest.raises(ValueError, match=msg):
        leading_space(ByteTokenizer(), text, word=word)


# -- repetition --------------------------------------------------------------------------------------------------------
def test_repetition_differs_when_the_second_carries_its_space(bpe_gpt2):
    r = repetition(bpe_gpt2, "hello hello")
    first, second = r.occurrences
    assert first.ids == tuple(bpe_gpt2.encode("hello"))
    assert second.ids == tuple(bpe_gpt2.encode(" hello"))
    assert not r.same and r.mark == "yes"
    assert "carries the space before the word" in r.verdict
    assert all(str(i) in r.verdict for i in first.ids + second.ids)


@pytest.mark.parametrize("tok", [ByteTokenizer(), CharacterTokenizer(), WordTokenizer.from_corpus([ENGLISH])],
                         ids=["byte", "character", "word"])
def test_repetition_same_for_baselines(tok):
    r = repetition(tok, "hello hello")
    assert r.same and r.mark == "no"
    assert r.occurrences[0].ids == r.occurrences[1].ids == tuple(tok.encode("hello"))
    assert r.verdict.startswith("Both occurrences of 'hello' get the same")


def test_repetition_three_times_and_given_word(bpe_gpt2):
    r = repetition(bpe_gpt2, "world, world and world", word="world")
    assert len(r.occurrences) == 3
    assert [o.start for o in r.occurrences] == [0, 7, 17]


@pytest.mark.parametrize("text,word,msg", [
    ("", None, "empty"), ("hello world", None, "appears twice"), ("hello hello", "world", "fewer than two"),
])
def test_repetition_bad_examples(text, word, msg):
    with pytest.raises(ValueError, match=msg):
        repetition(ByteTokenizer(), text, word=word)


# -- digits ----------------------------------------------------------------------------------------------------------
def test_pattern_chunks_contrast_gpt2_and_gpt4():
    chunks = dict(pattern_chunks("1234567890 1885"))
    assert chunks["gpt2"] == tuple(PreTokenizer.create("gpt2").findall("1234567890 1885"))
    assert "1234567890" in chunks["gpt2"]
    assert all(len(c.strip()) <= 3 for c in chunks["gpt4"])
    assert "".join(chunks["gpt4"]) == "1234567890 1885"


def test_digits_gpt4_tokens_never_cross_three_digit_chunks(bpe_gpt4, bpe_gpt2):
    r4 = digit_chunking(bpe_gpt4, "1234567890 1885")
    assert [n.number for n in r4.numbers] == ["1234567890", "1885"]
    for n in r4.numbers:
        assert "".join(t.label for t in n.tokens).replace("·", " ").strip() == n.number
        assert all(len(t.label.strip("·")) <= 3 for t in n.tokens)
    assert "gpt4 pattern pre-splits '1234567890' into 123 | 456 | 789 | 0" in r4.verdict
    r2 = digit_chunking(bpe_gpt2, "1234567890 1885")
    assert "gpt2 pattern keeps a run of digits in one piece" in r2.verdict
    assert r2.pattern_chunks == r4.pattern_chunks


def test_digits_verdict_counts_the_tokens():
    r = digit_chunking(ByteTokenizer(), "year 1885")
    assert r.result is DigitResult.CHUNKED and r.mark == "yes"
    assert "'1885' → 1 | 8 | 8 | 5 (4 tokens, one per character)" in r.verdict
    w = WordTokenizer.from_corpus(["1885"])
    rw = digit_chunking(w, "1885")
    assert rw.result is DigitResult.WHOLE and rw.mark == "no"
    assert "(1 token)" in rw.verdict


def test_one_number_cut_and_another_whole_is_not_called_chunked(bpe_gpt2):
    # The case: our 8k GPT-2-pattern BPE keeps '1234567890' whole and cuts only '1885'.
    from tokviz import Tokenizer

    vocab = {i: bytes([i]) for i in range(256)}
    merges = [(b"1", b"2"), (b"12", b"3"), (b"123", b"4"), (b"1234", b"5"), (b"12345", b"6"), (b"123456", b"7"),
              (b"1234567", b"8"), (b"12345678", b"9"), (b"123456789", b"0"), (b"8", b"5")]
    for a, b in merges:
        vocab[len(vocab)] = a + b
    tok = Tokenizer(vocab, merges, pattern="gpt2")
    r = digit_chunking(tok, "1234567890 1885")
    assert [len(n.tokens) for n in r.numbers] == [1, 3]
    assert r.result is DigitResult.MIXED and r.mark == "partly"
    assert r.verdict.startswith("Only some numbers are cut: '1234567890' stays one token.")
    assert "'1234567890' → 1234567890 (1 token)" in r.verdict


def test_digits_need_a_number():
    with pytest.raises(ValueError, match="no number"):
        digit_chunking(ByteTokenizer(), "no digits")


# -- byte fallback ---------------------------------------------------------------------------------------------------
def test_byte_fallback_bytes_for_byte_tokenizer():
    r = byte_fallback(ByteTokenizer(), "🌍 龘")
    assert r.result is FallbackResult.BYTES and r.mark == "yes"
    assert [c.char for c in r.chars] == ["🌍", "龘"]
    for c in r.chars:
        assert [t.id for t in c.tokens] == list(c.char.encode())
        assert c.result is FallbackResult.BYTES
    assert "'🌍' (U+1F30D) → 4 tokens, one per byte: f0 | 9f | 8c | 8d" in r.verdict


def test_byte_fallback_whole_for_characters_and_for_a_bpe_that_learned_it(bpe_emoji):
    r = byte_fallback(CharacterTokenizer(), "🌍")
    assert r.result is FallbackResult.WHOLE and r.chars[0].tokens[0].id == ord("🌍")
    rb = byte_fallback(bpe_emoji, "🌍")
    (tid,) = bpe_emoji.encode("🌍")
    assert rb.result is FallbackResult.WHOLE and f"id {tid}" in rb.verdict


def test_byte_fallback_lost_for_word_tokenizer():
    w = WordTokenizer.from_corpus(["plain words"])
    r = byte_fallback(w, "a 🌍 b")
    assert r.result is FallbackResult.LOST and r.mark == "lost"
    assert "'<unk>'" in r.verdict and "lost" in r.verdict


def test_byte_fallback_gpt2_groups_bytes(gpt2_tokenizer):
    r = byte_fallback(gpt2_tokenizer, "🌍")
    ids = gpt2_tokenizer.encode("🌍")
    assert [t.id for t in r.chars[0].tokens] == ids
    assert r.result is FallbackResult.BYTES
    assert f"→ {len(ids)} tokens" in r.verdict


def test_byte_fallback_needs_non_ascii():
    with pytest.raises(ValueError, match="non-ASCII"):
        byte_fallback(ByteTokenizer(), "plain ascii")


# -- common ------------------------------------------------------------------------------------------------------------
def test_results_are_frozen_and_named(bpe_gpt2):
    r = leading_space(bpe_gpt2, "hello world")
    assert r.tokenizer == "bpe2"
    assert leading_space(bpe_gpt2, "hello world", name="other").tokenizer == "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.verdict = "x"  # type: ignore[misc]


@pytest.mark.parametrize("obs", OBSERVATIONS, ids=[o.key for o in OBSERVATIONS])
def test_every_observation_runs_on_every_kind_of_tokenizer(obs, bpe_gpt2):
    for tok in (bpe_gpt2, ByteTokenizer(), CharacterTokenizer(), WordTokenizer.from_corpus([ENGLISH])):
        r = obs.run(tok, obs.default_example)
        assert r.verdict and r.mark in ("yes", "no", "partly", "lost")
        assert [t.id for t in r.tokens] == tok.encode(obs.default_example)


def test_verdicts_change_with_the_tokenizer(bpe_gpt2):
    # Same example, different tokenizers, different output: the verdicts must differ too (nothing is canned).
    for obs in OBSERVATIONS:
        verdicts = {obs.run(t, obs.default_example).verdict for t in (bpe_gpt2, ByteTokenizer(), CharacterTokenizer())}
        assert len(verdicts) >= 2, obs.key


def test_token_views_mark_the_pieces_of_each_split_character():
    r = byte_fallback(ByteTokenizer(), "🌍🌍 é")
    # Two emoji side by side stay two groups (by position); the space is no piece of anything.
    assert [t.part_of for t in r.tokens] == [(0, "🌍")] * 4 + [(1, "🌍")] * 4 + [None] + [(3, "é")] * 2
    whole = byte_fallback(CharacterTokenizer(), "🌍")
    assert [t.part_of for t in whole.tokens] == [None]  # a whole character is not a piece


# -- the other families: what WordPiece, Unigram and SentencePiece BPE do on each observation ------------------------
@pytest.fixture(scope="module")
def families(tmp_path_factory):
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer

    d = tmp_path_factory.mktemp("families")
    return {f: load_tokenizer(train_family_json(d / f"{f}.json", f)) for f in ("wordpiece", "unigram", "bpe-sp")}


def test_wordpiece_does_not_keep_the_space(families):
    tok = families["wordpiece"]
    r = leading_space(tok, "hello world")
    assert r.result is SpaceResult.DROPPED and r.mark == "no"
    cut = " | ".join(tok.piece(i) for i in tok.encode("world"))
    assert [t.id for t in r.word_tokens] == tok.encode("world")  # the same tokens as the word alone
    assert f"' world' is cut as 'world' alone would be ({cut})" in r.verdict
    assert "WordPiece's pre-tokenizer drops spaces" in r.verdict


@pytest.mark.parametrize("family", ["unigram", "bpe-sp"])
def test_sentencepiece_families_write_the_space_as_a_mark(families, family):
    tok = families[family]
    r = leading_space(tok, "hello world")
    first = tok.piece(r.word_tokens[0].id)
    assert first.startswith("▁")  # the trained vocabularies put the space's ▁ in the word's first piece
    assert r.result is (SpaceResult.ATTACHED if len(r.word_tokens) == 1 else SpaceResult.SPLIT)
    assert f"writes the space as the ▁ of the first piece ({first!r})" in r.verdict


def test_attached_sentencepiece_space_says_a_first_word_gets_one_too(tmp_path):
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer

    tok = load_tokenizer(train_family_json(tmp_path / "t.json", "bpe-sp", texts=["hello world " * 200]))
    r = leading_space(tok, "hello world")
    assert [tok.piece(t.id) for t in r.word_tokens] == ["▁world"] and r.result is SpaceResult.ATTACHED
    assert r.alone_ids == (r.word_tokens[0].id,)  # Metaspace puts the ▁ before 'world' alone as well
    assert "writes the space as ▁ inside the token ('▁world'), and puts a ▁ before a first word too." in r.verdict


def test_repetition_in_the_families(families):
    wp = repetition(families["wordpiece"], "hello hello")
    assert wp.same and "WordPiece drops the spaces" in wp.verdict
    sp = repetition(families["bpe-sp"], "hello hello")
    first = families["bpe-sp"].piece(sp.occurrences[0].ids[0])
    assert sp.same and first.startswith("▁") and f"every occurrence starts with {first!r}" in sp.verdict
    uni = repetition(families["unigram"], "hello hello")
    assert uni.same and uni.verdict.startswith(f"Both occurrences of 'hello' get the same {_ids_text(uni)}")


def _ids_text(r) -> str:
    ids = r.occurrences[0].ids
    return f"id {ids[0]}" if len(ids) == 1 else "ids " + ", ".join(map(str, ids))


def test_digits_in_the_families(families):
    for family, rule in (("wordpiece", "takes the longest vocabulary piece first"),
                         ("unigram", "takes the cut whose pieces' scores sum highest"),
                         ("bpe-sp", "merges characters in rank order")):
        tok = families[family]
        r = digit_chunking(tok, "1234567890 1885")
        assert rule in r.verdict
        every_digit = all(len(n.tokens) == len(n.number) for n in r.numbers)
        assert ("every digit is a token of its own" in r.verdict) == every_digit
        cut = any(len(n.tokens) > 1 for n in r.numbers)
        kept = any(len(n.tokens) == 1 and len(n.number) > 1 for n in r.numbers)
        assert r.result is (DigitResult.WHOLE if not cut else DigitResult.MIXED if kept else DigitResult.CHUNKED)


def test_emoji_through_byte_fallback_or_unknown(families):
    sp = byte_fallback(families["bpe-sp"], "龘")
    pieces = [families["bpe-sp"].piece(t.id) for t in sp.tokens if t.part_of]
    assert pieces == ["<0xE9>", "<0xBE>", "<0x98>"] and sp.result is FallbackResult.BYTES
    assert "(byte fallback: <0xE9> <0xBE> <0x98> spell its UTF-8" in sp.verdict
    wp = byte_fallback(families["wordpiece"], "龘")
    assert wp.result is FallbackResult.LOST and wp.mark == "lost"
    assert "decodes to '[UNK]'" in wp.verdict and "and so is its whole word" in wp.verdict
    uni = byte_fallback(families["unigram"], "龘")
    assert uni.result is FallbackResult.LOST and "decodes to '<unk>'" in uni.verdict


@pytest.mark.parametrize("obs", OBSERVATIONS, ids=[o.key for o in OBSERVATIONS])
def test_every_observation_runs_on_every_family(obs, families):
    for tok in families.values():
        r = obs.run(tok, obs.default_example)
        assert r.verdict and r.mark in ("yes", "no", "partly", "lost")
        assert [t.id for t in r.tokens] == tok.encode(obs.default_example)
