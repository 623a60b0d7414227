"""diff: vocabulary overlap, the first merge departure with its counts, and aligned segments on a text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.analysis.diff import (
    align,
    diff_tokenizers,
    first_departure,
    pair_counts_after,
    vocab_overlap,
)
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

CORPUS = (
    "Once upon a time there was a little girl who loved her red ball. She played with it every day in the sunny "
    "park, and her friend Tom played too. \"It's mine!\" said Tom. They shared it, and they were happy.\n"
) * 6 + "The lazy dog sleeps; the quick fox runs. 1234 5678\n" * 5
OTHER = "Bright stars shine over quiet hills while rivers run to the sea. " * 12
SAMPLE = "Once upon a time 🌍, the fox said: \"It's mine!\" 你好"
BASE = {i: bytes([i]) for i in range(256)}


@pytest.fixture(scope="module")
def ours() -> Tokenizer:
    return train_bpe([CORPUS], vocab_size=330)


def test_identical_tokenizers_have_no_departure(ours: Tokenizer) -> None:
    d = diff_tokenizers(ours, ours, corpus=[CORPUS], text=SAMPLE)
    assert d.departure is None and d.shared_merges == len(ours.merges)
    assert d.vocab.jaccard == 1.0 and d.vocab.same_id == ours.vocab_size
    assert d.text_diff is not None and d.text_diff.differing == []
    assert d.same_pattern and d.same_specials and d.notes == []


def test_pair_counts_reproduce_the_trainers_counts(ours: Tokenizer) -> None:
    # Counting a merge's pair after the merges before it must give the count the trainer chose it with.
    from tokviz.analysis.diff import _corpus_word_counts

    words = _corpus_word_counts(ours, [CORPUS])
    assert ours.training is not None
    for k in (0, 1, 5, 20, 50, len(ours.merges) - 1):
        assert pair_counts_after(ours.merges[:k], [ours.merges[k]], words) == [ours.training.merge_counts[k]]


def test_tie_broken_differently_by_hugging_face(ours: Tokenizer, tmp_path: Path) -> None:
    # `tokenizers` and tokviz (CS336: the greatest pair wins a tie) break ties differently; on the same data the
    # first departure must be a tie.
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=330, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    hf.train_from_iterator([CORPUS], trainer=trainer)
    hf.save(str(tmp_path / "tokenizer.json"))
    theirs = load_tokenizer(tmp_path / "tokenizer.json")
    d = diff_tokenizers(ours, theirs, corpus=[CORPUS])
    dep = d.departure
    assert dep is not None and dep.pair_a != dep.pair_b
    assert ours.merges[: dep.index] == theirs.merges[: dep.index]
    assert dep.count_a == dep.count_b and dep.verdict == "tie broken differently"
    assert dep.pair_a > dep.pair_b  # ours took the lexicographically greater pair


def test_swapped_tie_and_different_data(ours: Tokenizer) -> None:
    assert ours.training is not None
    counts = ours.training.merge_counts
    k = next(i for i in range(len(counts) - 1) if counts[i] == counts[i + 1]
             and not set(ours.merges[i]) & set(ours.merges[i + 1]))  # a tie between unrelated pairs
    merges = list(ours.merges)
    merges[k], merges[k + 1] = merges[k + 1], merges[k]
    swapped = Tokenizer(ours.vocab, merges, pattern=ours.pattern)
    dep = first_departure(ours, swapped, corpus=[CORPUS])
    assert dep is not None and dep.index == k and dep.count_a == dep.count_b == counts[k]
    assert dep.verdict == "tie broken differently"
    other = train_bpe([OTHER], vocab_size=330)
    dep2 = first_departure(ours, other, corpus=[CORPUS])
    assert dep2 is not None and dep2.count_a != dep2.count_b and dep2.verdict.startswith("different counts")
    assert first_departure(ours, other).verdict.startswith("give a corpus")  # type: ignore[union-attr]


def test_one_list_ending_first(ours: Tokenizer) -> None:
    small = ours.prefix(300)
    dep = first_departure(small, ours)
    k = 300 - 256  # merges kept by prefix(300): the size less the 256 bytes
    assert dep is not None and dep.index == k and dep.pair_a is None and dep.pair_b == ours.merges[k]
    assert "A's merge list ends" in dep.verdict


def test_vocab_overlap_counts() -> None:
    a = Tokenizer(BASE | {256: b"ab", 257: b"abc"}, [(b"a", b"b"), (b"ab", b"c")])
    b = Tokenizer(BASE | {256: b"ab", 257: b"xy"}, [(b"a", b"b"), (b"x", b"y")], ["<s>"])
    v = vocab_overlap(a, b)
    assert (v.size_a, v.size_b, v.shared, v.only_a, v.only_b, v.same_id) == (258, 259, 257, [b"abc"], [b"xy", b"<s>"],
                                                                            257)
    assert v.jaccard == pytest.approx(257 / 260)


def test_aligned_segments_cover_the_text(ours: Tokenizer) -> None:
    other = train_bpe([OTHER], vocab_size=330, pattern="gpt4")
    prefixed = PrefixSpaceTokenizer(ours.vocab, ours.merges, pattern=ours.pattern)
    raw = SAMPLE.encode("utf-8")
    for b in (other, prefixed):
        t = align(ours, b, SAMPLE)
        assert t.differing, "different tokenizers differ somewhere on this text"
        assert t.segments[0].byte_start == 0 and t.segments[-1].byte_end == len(raw)
        for s, nxt in zip(t.segments, t.segments[1:]):
            assert s.byte_end == nxt.byte_start
        for s in t.segments:
            assert b"".join(s.a_tokens) == raw[s.byte_start : s.byte_end]
            # the prefix space is an inserted token: B's side may hold one more " " than the text
            assert b"".join(s.b_tokens) in (raw[s.byte_start : s.byte_end], b" " + raw[s.byte_start : s.byte_end])
            assert s.same == (s.a_tokens == s.b_tokens)
        assert sum(len(s.a_ids) for s in t.segments) == t.n_tokens_a == len(ours.encode(SAMPLE))
        assert sum(len(s.b_ids) for s in t.segments) == t.n_tokens_b == len(b.encode(SAMPLE))
    t = align(ours, other, SAMPLE)
    emoji = [s for s in t.segments if "🌍" in s.text]
    assert emoji and all(s.char_end - s.char_start >= 1 for s in emoji)


def test_notes_for_different_patterns(ours: Tokenizer) -> None:
    other = train_bpe([CORPUS], vocab_size=330, pattern="gpt4")
    d = diff_tokenizers(ours, other, corpus=[CORPUS])
    assert not d.same_pattern and any("patterns differ" in n for n in d.notes)
    assert any("A's pattern" in n for n in d.notes)


# -- across families: vocabularies and texts compared as plain text -------------------------------------------------
def test_plain_token_maps_each_familys_marks() -> None:
    from tokviz.analysis.diff import plain_token

    assert plain_token("▁hello", family="bpe-sp") == b" hello"
    assert plain_token("▁", family="unigram") == b" "
    assert plain_token("a▁b", family="unigram") == b"a b"
    assert plain_token("##llo", family="wordpiece") == b"llo"
    assert plain_token("##", family="wordpiece") == b"##"  # the prefix alone is a piece, not a mark
    assert plain_token("hello", family="wordpiece") == b"hello"
    assert plain_token("<0xF0>", family="bpe-sp") == b"\xf0"
    assert plain_token("<0xZZ>", family="bpe-sp") == b"<0xZZ>"
    assert plain_token("<s>", family="unigram") == b"<s>"


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer

    d = tmp_path_factory.mktemp("families")
    return {f: load_tokenizer(train_family_json(d / f"{f}.json", f)) for f in ("wordpiece", "unigram", "bpe-sp")}


def test_mapped_overlap_counts_the_texts_both_hold(families) -> None:
    from tokviz.analysis.diff import mapped_overlap, plain_token, plain_vocab

    bpe = train_bpe(["hello world, the world says hello. " * 30], vocab_size=300)
    for name, tok in families.items():
        plain = plain_vocab(tok)
        assert set(plain) == set(tok.vocab)
        assert all(plain[i] == plain_token(tok.piece(i), family=name) for i in tok.vocab)
        for other in (bpe, *families.values()):
            o = mapped_overlap(tok, other)
            mine, theirs = set(plain.values()), set(plain_vocab(other).values())
            assert o.shared == len(mine & theirs)
            assert set(o.only_a) == mine - theirs and set(o.only_b) == theirs - mine
    # The marks really were mapped: SentencePiece's '▁he'-like pieces meet the byte-level BPE's ' he'-like tokens.
    sp = families["bpe-sp"]
    spaced = {tok for tok in plain_vocab(sp).values() if tok.startswith(b" ") and len(tok) > 1}
    assert spaced & set(bpe.vocab.values())
    assert not any(b"\xe2\x96\x81" in t for t in plain_vocab(sp).values())
    assert not any(t.startswith(b"##") and len(t) > 2 for t in plain_vocab(families["wordpiece"]).values())


def test_align_across_families_covers_the_text_with_plain_tokens(families) -> None:
    from tokviz.analysis.diff import align, plain_token

    text = "Hello  world, 龘 hello!"
    bpe = train_bpe(["hello world, the world says hello. " * 30], vocab_size=300)
    for a in families.values():
        for b in (bpe, *families.values()):
            td = align(a, b, text)
            assert sum(len(s.a_ids) for s in td.segments) == len(a.encode(text))
            assert sum(len(s.b_ids) for s in td.segments) == len(b.encode(text))
            assert [s.char_start for s in td.segments[1:]] == [s.char_end for s in td.segments[:-1]]
            assert td.segments[0].char_start == 0 and td.segments[-1].char_end == len(text)
            for s in td.segments:
                assert s.text == text[s.char_start:s.char_end]
                assert s.a_tokens == [plain_token(a.piece(i), family=a.family) for i in s.a_ids]
    same = align(families["bpe-sp"], families["bpe-sp"], text)
    assert not same.differing  # a tokenizer against itself cuts every stretch alike
