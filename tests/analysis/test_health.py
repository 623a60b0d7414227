"""Vocabulary health: each check against its definition computed the slow, obvious way."""

from __future__ import annotations

import pytest

from tokviz import Tokenizer, load_tokenizer
from tokviz.analysis.health import round_trip_ids, vocab_health
from tokviz.core.protocol import encode_as_shown
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

BYTES = {i: bytes([i]) for i in range(256)}
CORPUS = "The cat sat on the mat. THE END. 2024-01-01: the cats, the hats and the mats; naïve café 日本 🌍\n" * 5


def _regular(tok: Tokenizer) -> list[int]:
    return [i for i in tok.vocab if i not in tok.special_ids.values()]


@pytest.mark.slow  # 1.4 s measured: the full run has it, the quick loop does not
def test_checks_match_their_definitions_on_gpt2(gpt2_tokenizer: Tokenizer) -> None:
    h = vocab_health(gpt2_tokenizer, corpus=CORPUS)
    regular = _regular(gpt2_tokenizer)
    assert h.n_regular == len(regular) == 50256
    # Round trip: the definition literally, one encode call per token.
    slow = {i for i in regular if gpt2_tokenizer.encode(gpt2_tokenizer.decode([i])) != [i]}
    assert set(h.not_round_trip.ids) == slow and slow
    not_utf8 = set()
    for i in regular:
        try:
            gpt2_tokenizer.vocab[i].decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.add(i)
    assert set(h.not_utf8.ids) == not_utf8 and not_utf8
    produced = set(gpt2_tokenizer.encode(CORPUS))
    assert h.never_produced is not None and set(h.never_produced.ids) == set(regular) - produced
    assert h.corpus_tokens == len(gpt2_tokenizer.encode(CORPUS))
    lengths = [len(gpt2_tokenizer.vocab[i]) for i in h.longest.ids]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == max(len(gpt2_tokenizer.vocab[i]) for i in regular)
    assert list(h.longest.values) == [float(n) for n in lengths]


def test_near_duplicates_on_gpt2(gpt2_tokenizer: Tokenizer) -> None:
    h = vocab_health(gpt2_tokenizer)
    assert h.never_produced is None and h.mostly_part is None and h.corpus_tokens is None
    the = {gpt2_tokenizer.token_to_id(t) for t in (b"The", b" The", b"the", b" the", b"THE", b" THE")}
    group = next(g for g in h.near_duplicates.groups if the & set(g))
    assert the <= set(group)
    for g in h.near_duplicates.groups[:200]:
        keys = {gpt2_tokenizer.decode([i]).removeprefix(" ").casefold() for i in g}
        assert len(keys) == 1 and len(g) >= 2
        assert all(len(gpt2_tokenizer.vocab[i]) >= 2 for i in g)


def test_mostly_a_part_by_hand() -> None:
    # merges: (a, b) -> 256 "ab", (ab, c) -> 257 "abc". The corpus is one pre-token, "abcabcabcabcab", cut into
    # abc abc abc abc ab: produced 257 x4, 256 x1. Down the merge trees: 257's 4 pass to 256 and c (99): 4 each;
    # 256 now totals 1 + 4 = 5 and passes 5 to a and b. Shares (part / (part + own)): a 5/5, b 5/5, c 4/4,
    # ab 4/5 = 0.8, abc 0/4. With share >= 0.8 and at least 5 sightings: a, b (1.0, 5 each), ab (0.8); c has 4.
    tok = Tokenizer(BYTES | {256: b"ab", 257: b"abc"}, [(b"a", b"b"), (b"ab", b"c")])
    corpus = "abcabcabcabcab"
    assert tok.encode(corpus) == [257] * 4 + [256]
    h = vocab_health(tok, corpus=corpus, part_share=0.8, part_min_count=5)
    assert h.mostly_part is not None
    assert h.mostly_part.ids == (97, 98, 256) and h.mostly_part.values == (1.0, 1.0, 0.8)
    h = vocab_health(tok, corpus=corpus, part_share=0.9, part_min_count=4)
    assert h.mostly_part is not None and h.mostly_part.ids == (97, 98, 99)


@pytest.mark.slow
def test_rank_files_and_o200k_sized_vocabularies() -> None:
    tok = load_tokenizer("cl100k_base")
    h = vocab_health(tok, corpus=CORPUS)
    assert h.n_regular == 100256 and h.mostly_part is not None and any("rank file" in n for n in h.notes)
    # Spot-check the fast round-trip path against encode on every flagged token and on the first 3,000 others.
    flagged = set(h.not_round_trip.ids)
    for i in list(flagged) + [i for i in range(3000) if i not in flagged]:
        assert (tok.encode(tok.decode([i])) != [i]) == (i in flagged), i


def test_round_trip_ids_equals_encode_on_every_kind_of_text(gpt2_tokenizer: Tokenizer) -> None:
    texts = ["hello", " world", "a<|endoftext|>b", "<|endoftext|>", "  x", "\ufffd", "日本語", "", "a b c"]
    assert [list(x) for x in round_trip_ids(gpt2_tokenizer, texts)] == [
        encode_as_shown(gpt2_tokenizer, t) for t in texts]
    prefixed = PrefixSpaceTokenizer(gpt2_tokenizer.vocab, gpt2_tokenizer.merges, ["<|endoftext|>"])
    assert [list(x) for x in round_trip_ids(prefixed, texts)] == [encode_as_shown(prefixed, t) for t in texts]


def test_a_tokenizer_without_a_vocabulary_list() -> None:
    for tok in (ByteTokenizer(), CharacterTokenizer()):
        with pytest.raises(ValueError, match="has no vocabulary list"):
            vocab_health(tok)


def test_checks_are_listed_with_definitions() -> None:
    tok = Tokenizer(BYTES | {256: b" a"}, [(b" ", b"a")])
    h = vocab_health(tok, corpus="a a")
    assert [c.key for c in h.checks] == ["not_round_trip", "not_utf8", "never_produced", "mostly_part", "longest",
                                         "near_duplicates"]
    assert all(c.definition and c.title for c in h.checks)
    assert h.near_duplicates.count == 0  # " a" has no partner of 2 bytes or more; single bytes are left out
