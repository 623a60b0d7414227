"""``Tokenizer.prefix(k)`` equals training at size k directly: same merges, same vocabulary, same ids, same encodings.

This is what lets one training run stand for every smaller vocabulary size.
"""

from __future__ import annotations

import pydoc_data.topics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, save_tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.training.holdout import split_holdout

SPECIAL = "<|endoftext|>"


@pytest.fixture(scope="module")
def pydoc_text() -> str:
    # ~465 KB of Python documentation, always installed; a slice keeps each training run well under a second.
    topics = pydoc_data.topics.topics
    return "\n".join(topics[k] for k in sorted(topics))[:80_000]


def assert_same_tokenizer(prefix: Tokenizer, direct: Tokenizer, probe: str) -> None:
    assert prefix.merges == direct.merges
    assert prefix.vocab == direct.vocab
    assert prefix.special_tokens == direct.special_tokens
    assert prefix.vocab_size == direct.vocab_size
    assert encode_as_shown(prefix, probe) == encode_as_shown(direct, probe)


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", ["gpt2", "gpt4"])
def test_prefix_equals_direct_training_at_several_sizes(pydoc_text: str, pattern: str) -> None:
    train, heldout = split_holdout(pydoc_text)
    big = train_bpe([train], vocab_size=1500, pattern=pattern)
    assert not big.training.stopped_early
    for size in (256, 257, 300, 511, 1000, 1499, 1500):
        direct = train_bpe([train], vocab_size=size, pattern=pattern)
        prefix = big.prefix(size)
        assert_same_tokenizer(prefix, direct, heldout[:5000])
        # the counts the trainer saw for the shared merges agree too: the runs are the same up to size k
        assert big.training.merge_counts[: size - 256] == direct.training.merge_counts


@pytest.mark.parametrize("pattern", ["gpt2", "o200k"])
def test_prefix_with_special_tokens_keeps_ids(pydoc_text: str, pattern: str) -> None:
    corpus = pydoc_text[:60_000].replace("\n\n", f"\n{SPECIAL}\n")
    big = train_bpe([corpus], vocab_size=900, pattern=pattern, special_tokens=[SPECIAL])
    probe = f"def f(x):\n    return x{SPECIAL}Ünïcödé 🌍"
    for size in (257, 400, 777):
        direct = train_bpe([corpus], vocab_size=size, pattern=pattern, special_tokens=[SPECIAL])
        prefix = big.prefix(size)
        assert_same_tokenizer(prefix, direct, probe)
        assert prefix.special_ids == big.special_ids
        # every id the prefix uses means the same token in the big tokenizer
        assert all(big.vocab[i] == b for i, b in prefix.vocab.items())


def test_prefix_on_cs336_corpus(cs336_dir) -> None:
    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")
    big = train_bpe([text], vocab_size=2000, special_tokens=[SPECIAL], pattern="gpt4")
    for size in (500, 1234):
        direct = train_bpe([text], vocab_size=size, special_tokens=[SPECIAL], pattern="gpt4")
        assert_same_tokenizer(big.prefix(size), direct, text[-3000:])


def test_prefix_survives_save_and_load(pydoc_text: str, tmp_path) -> None:
    big = train_bpe([pydoc_text[:30_000]], vocab_size=600)
    path = tmp_path / "big.json"
    save_tokenizer(big, path)
    loaded = load_ours_tokenizer(path)
    assert_same_tokenizer(loaded.prefix(420), big.prefix(420), pydoc_text[-2000:])


def test_prefix_bounds(pydoc_text: str) -> None:
    big = train_bpe([pydoc_text[:20_000]], vocab_size=400, special_tokens=[SPECIAL])
    with pytest.raises(ValueError, match="257"):
        big.prefix(256)  # smaller than 256 bytes + 1 special token
    with pytest.raises(ValueError):
        big.prefix(300.0)  # type: ignore[arg-type]
    # asking for more than was trained gives the whole tokenizer
    assert big.prefix(10_000).merges == big.merges


@settings(max_examples=25, deadline=None)
@given(
    corpus=st.text(alphabet="ab c\nd'é1", min_size=1, max_size=300),
    size=st.integers(min_value=256, max_value=290),
    pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]),
)
def test_prefix_equals_direct_training_on_random_corpora(corpus: str, size: int, pattern: str) -> None:
    big = train_bpe([corpus], vocab_size=300, pattern=pattern)
    direct = train_bpe([corpus], vocab_size=size, pattern=pattern)
    # a small corpus can run out of pairs; both runs then stop at the same merge
    assert_same_tokenizer(big.prefix(size), direct, corpus)
