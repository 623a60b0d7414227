"""The app's diff: ties recognisable as ties, baselines refused with a reason, and marks on exactly the tokens of the
stretches two tokenizers cut differently."""

from __future__ import annotations

import pytest

from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.training.trainer import train_bpe
from tokviz.viewmodels.compare import (
    DIFF_SAMPLE,
    baseline_kind,
    compare,
    default_pair,
    departure_rows,
    departure_summary,
    differing_token_indices,
    pair_label,
    segment_rows,
    vocab_examples,
)
from tokviz.viewmodels.defaults import GPT2_NAME

BASE = {i: bytes([i]) for i in range(256)}
AB = Tokenizer(BASE | {256: b"ab"}, [(b"a", b"b")], name="ab")
CD = Tokenizer(BASE | {256: b"cd"}, [(b"c", b"d")], name="cd")


def test_default_pair():
    assert default_pair(["byte", "bpe-gpt2-8k", GPT2_NAME, "bpe-gpt4-8k"]) == ("bpe-gpt2-8k", GPT2_NAME)
    assert default_pair(["bpe-gpt4-8k", "bpe-gpt2-8k", "byte"]) == ("bpe-gpt2-8k", "bpe-gpt4-8k")
    assert default_pair(["x", "y", "z"]) == ("x", "y")
    assert default_pair(["only"]) == ("only", "only")
    with pytest.raises(ValueError):
        default_pair([])


def test_tie_broken_differently():
    c = compare(AB, CD, name_a="mine", name_b="theirs", corpus="ab cd", text="ab cd")
    assert c.diff is not None and c.refusal is None
    assert (c.diff.name_a, c.diff.name_b) == ("mine", "theirs")  # the names the user knows, not tok.name
    summary = departure_summary(c.diff)
    assert "differ from the very first merge" in summary and "Same count (1 each): a tie broken differently" in summary
    rows = departure_rows(c.diff)
    assert [(r["side"], r["tokenizer"], r["pair"], r["count on corpus"]) for r in rows] == [
        ("A", "mine", "a + b", "1"), ("B", "theirs", "c + d", "1")]


def test_different_counts_are_not_a_tie():
    c = compare(AB, CD, name_a="a", name_b="b", corpus="ab ab ab cd", text="ab")
    summary = departure_summary(c.diff)
    assert "Different counts (A's pair 3, B's pair 1): not a tie" in summary and "A's pair is the more" in summary


def test_no_corpus_and_absent_pairs_say_so():
    assert "Choose a corpus" in departure_summary(compare(AB, CD, name_a="a", name_b="b").diff)
    assert "Neither pair occurs" in departure_summary(compare(AB, CD, name_a="a", name_b="b", corpus="xyz").diff)


def test_patterns_that_differ_explain_the_counts():
    a = Tokenizer(BASE | {256: b"ab"}, [(b"a", b"b")], pattern="gpt2")
    b = Tokenizer(BASE | {256: b"cd"}, [(b"c", b"d")], pattern="gpt4")
    summary = departure_summary(compare(a, b, name_a="a", name_b="b", corpus="ab ab cd").diff)
    assert "not a tie" in summary and "pre-tokenizer patterns differ" in summary


def test_identical_and_prefix():
    tok = train_bpe(["low lower lowest newer " * 20], vocab_size=270)
    assert departure_summary(compare(tok, tok, name_a="a", name_b="b").diff) == (
        f"The merge lists are identical: all {len(tok.merges):,} merges match.")
    summary = departure_summary(compare(tok.prefix(262), tok, name_a="a", name_b="b", corpus="lowest").diff)
    assert summary.startswith("A's 6 merges are B's first 6: A is B stopped earlier")
    assert departure_rows(compare(tok, tok, name_a="a", name_b="b").diff) == []


@pytest.mark.parametrize("baseline", [ByteTokenizer(), CharacterTokenizer(), WordTokenizer.from_corpus(["ab cd"])])
def test_baselines_are_refused_with_a_reason_but_the_text_is_compared(baseline):
    c = compare(AB, baseline, name_a="ab", name_b="base", corpus="ab", text="ab cd ab")
    assert c.diff is None
    assert c.refusal is not None and f"B is a baseline ({baseline_kind(baseline)})" in c.refusal
    assert c.text_diff is not None and c.text_diff.segments
    both = compare(ByteTokenizer(), CharacterTokenizer(), name_a="x", name_b="y", text="é")
    assert "A is a baseline (one token per byte) and B is a baseline (one token per character)" in (both.refusal or "")


def test_marks_cover_exactly_the_differing_stretches():
    a = train_bpe(["hello world, hello there " * 30], vocab_size=300)
    b = train_bpe(["the world says hello " * 30], vocab_size=300, pattern="gpt4")
    text = "hello world 1234567 🌍 there"
    c = compare(a, b, name_a="a", name_b="b", text=text)
    ea, eb = a.encode_with_offsets(text), b.encode_with_offsets(text)
    assert c.marked_a and c.marked_b and c.marked_a < set(range(len(ea)))
    # Unmarked tokens are the same tokens at the same places on both sides; marked ones are not all shared.
    same_a = [(ea.byte_spans[i], ea.tokens[i]) for i in range(len(ea)) if i not in c.marked_a]
    same_b = [(eb.byte_spans[i], eb.tokens[i]) for i in range(len(eb)) if i not in c.marked_b]
    assert same_a == same_b
    assert {(ea.byte_spans[i], ea.tokens[i]) for i in c.marked_a} != {(eb.byte_spans[i], eb.tokens[i]) for i in
                                                                      c.marked_b}
    assert (c.marked_a, c.marked_b) == differing_token_indices(c.text_diff)
    rows = segment_rows(c.text_diff)
    assert len(rows) == len(c.text_diff.differing) and all("\ufffd" not in str(r) for r in rows)


def test_identical_tokenizers_mark_nothing():
    c = compare(ByteTokenizer(), ByteTokenizer(), name_a="x", name_b="y", text=DIFF_SAMPLE)
    assert c.marked_a == c.marked_b == frozenset() and c.text_diff is not None and not c.text_diff.differing
    assert compare(AB, CD, name_a="a", name_b="b", text="").text_diff is None


def test_readable_labels():
    assert pair_label((b" ", b"\n")) == "· + ↵"
    assert pair_label((b"\xf0\x9f", b"\x8c\x8d")) == "⟨f0 9f⟩ + ⟨8c 8d⟩"
    c = compare(AB, CD, name_a="a", name_b="b")
    assert vocab_examples(c.diff.vocab) == [{"only in A": "ab", "only in B": "cd"}]
    assert len(vocab_examples(c.diff.vocab, limit=0)) == 0


# -- across families --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def families(tmp_path_factory):
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer

    d = tmp_path_factory.mktemp("families")
    return {f: load_tokenizer(train_family_json(d / f"{f}.json", f)) for f in ("wordpiece", "unigram", "bpe-sp")}


def test_families_are_compared_as_plain_text_not_refused(families):
    from tokviz.analysis.diff import mapped_overlap

    bpe = train_bpe(["hello world, the world says hello. " * 30], vocab_size=300)
    c = compare(families["wordpiece"], bpe, name_a="wp", name_b="bpe", text="Hello world")
    assert c.diff is None and c.mapped == mapped_overlap(families["wordpiece"], bpe)
    assert c.refusal is not None and c.refusal.startswith(
        "A is WordPiece and B is byte-level BPE, so merges are not compared: WordPiece has no merges")
    assert "▁ read as a space, ## dropped" in c.refusal and "baseline" not in c.refusal
    c = compare(families["unigram"], families["bpe-sp"], name_a="u", name_b="s", text="Hello world")
    assert c.refusal is not None and "Unigram has no merges" in c.refusal
    assert "merges characters, not bytes" in c.refusal
    assert c.mapped is not None and c.mapped.shared > 0
    rows = vocab_examples(c.mapped)
    assert rows and not any("▁" in r["only in A"] or "▁" in r["only in B"] for r in rows)


def test_a_family_beside_a_baseline_names_only_the_baseline(families):
    c = compare(families["bpe-sp"], ByteTokenizer(), name_a="s", name_b="byte", text="hi")
    assert c.mapped is None and c.refusal is not None and c.refusal.startswith("B is a baseline (one token per byte)")
    assert "A is a baseline" not in c.refusal


def test_marks_across_families_follow_the_plain_text(families):
    text = "hello world 龘"
    c = compare(families["bpe-sp"], families["bpe-sp"], name_a="a", name_b="b", text=text)
    assert not c.marked_a and not c.marked_b
    c = compare(families["wordpiece"], families["bpe-sp"], name_a="a", name_b="b", text=text)
    assert c.text_diff is not None
    wp = families["wordpiece"].encode_with_offsets(text)
    # '龘' is [UNK] for WordPiece and three byte pieces for SentencePiece BPE: both sides marked there.
    unk = wp.ids.index(families["wordpiece"].unk_id)
    assert unk in c.marked_a
    assert len(c.marked_b) >= 3
