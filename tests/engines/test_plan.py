"""The check that routes a byte-level BPE to a rank engine: refused where the rank rule would give other ids, and the
rank rule equal to the merge rule on every tokenizer it accepts (trained ones, GPT-2's merges; hypothesis text)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.engines.plan import rank_plan

BYTES = {i: bytes([i]) for i in range(256)}
TEXT = st.text(alphabet=st.sampled_from(list("abcab  \n'sé🌍1")), max_size=60) | st.text(max_size=40)


def test_a_merge_list_the_rank_rule_reads_otherwise_is_refused() -> None:
    # "abc" is built from (a, bc), but the merge rule makes "ab" first and then has no (ab, c) merge.
    vocab = BYTES | {256: b"ab", 257: b"bc", 258: b"abc"}
    merges = [(b"a", b"b"), (b"b", b"c"), (b"a", b"bc")]
    by_merges, by_ranks = Tokenizer(vocab, merges), Tokenizer(vocab, merges, rule="ranks")
    assert by_merges.encode("abcx") != by_ranks.encode("abcx")  # the refusal matters
    plan = rank_plan(by_merges)
    assert not plan.ok and "does not build" in plan.reason
    assert rank_plan(by_ranks).ok  # the rank rule is its own rule


@pytest.mark.parametrize(("vocab", "merges", "words"), [
    (BYTES | {256: b"bc", 257: b"ab"}, [(b"a", b"b"), (b"b", b"c")], "not larger than"),  # ids out of merge order
    (BYTES | {256: b"ab", 257: b"zz"}, [(b"a", b"b")], "no merge's result"),  # a token no merge makes
])
def test_other_refusals(vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]], words: str) -> None:
    plan = rank_plan(Tokenizer(vocab, merges))
    assert not plan.ok and words in plan.reason


def test_custom_pattern_is_refused_named_alias_is_not() -> None:
    assert "custom pattern" in rank_plan(Tokenizer(BYTES, [], pattern=r"\w+|\W")).reason
    assert rank_plan(Tokenizer(BYTES, [], pattern="cl100k_base")).ok


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_gpt2_merges_and_builtin_rank_files_are_accepted(gpt2_tokenizer: Tokenizer) -> None:
    assert rank_plan(gpt2_tokenizer).ok
    for name in ("r50k_base", "p50k_base", "cl100k_base", "o200k_base"):
        plan = rank_plan(load_tokenizer(name))
        assert plan.ok, (name, plan.reason)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=st.lists(st.text(alphabet=st.sampled_from(list("aabbc d'sé\n")), max_size=30), min_size=1, max_size=8),
       size=st.integers(257, 330), pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]), text=TEXT)
def test_trained_tokenizers_rank_rule_equals_merge_rule(corpus: list[str], size: int, pattern: str, text: str) -> None:
    tok = train_bpe(corpus, vocab_size=size, pattern=pattern, workers=1)
    assert rank_plan(tok).ok, rank_plan(tok).reason
    as_ranks = Tokenizer(tok.vocab, tok.merges, pattern=pattern, rule="ranks")
    for t in [text, *corpus, "".join(corpus)]:
        assert as_ranks.encode(t) == tok.encode(t)
