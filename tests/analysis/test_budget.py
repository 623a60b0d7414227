"""Token budgets: the chunks give the text back, and each fits the budget when encoded on its own."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, train_bpe
from tokviz.analysis.budget import PARAGRAPH_END, SENTENCE_END, chunk_by_tokens
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

PARTS = st.sampled_from([
    "Hello", " world", ".", " ", "  ", "   ", "\n", "\n\n", "!", "?", " 123", "4567", "日本語", "。", "🌍", "👍🏽",
    " naïve", "don't", "\t", "…", '"', "x" * 30, " " * 20,
])
TEXT = st.lists(PARTS, max_size=60).map("".join) | st.text(st.characters(codec="utf-8"), max_size=120)
BUDGET = st.integers(min_value=4, max_value=40)
MODE = st.sampled_from(["token", "sentence", "paragraph"])


@pytest.fixture(scope="module")
def trained() -> Tokenizer:
    return train_bpe(["Hello world. Hello there! " * 30 + "   spaces   and\n\nlines " * 10], vocab_size=320)


def _check(tok: object, text: str, n: int, mode: str) -> None:
    chunks = chunk_by_tokens(tok, text, max_tokens=n, boundary=mode)  # type: ignore[arg-type]
    assert "".join(c.text for c in chunks) == text
    pos = 0
    for k, c in enumerate(chunks):
        assert c.index == k and c.start == pos and c.end == pos + len(c.text) and c.text
        assert c.n_tokens == len(tok.encode(c.text)) <= n  # type: ignore[attr-defined]
        pos = c.end
        if c.cut == "sentence":
            assert any(m.end() == c.end for m in SENTENCE_END.finditer(text)) or \
                any(m.end() == c.end for m in PARAGRAPH_END.finditer(text))
        if c.cut == "paragraph":
            assert any(m.end() == c.end for m in PARAGRAPH_END.finditer(text))
    assert not chunks or chunks[-1].cut == "end"


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, n=BUDGET, mode=MODE)
def test_chunks_rejoin_and_fit_on_gpt2(gpt2_tokenizer: Tokenizer, text: str, n: int, mode: str) -> None:
    _check(gpt2_tokenizer, text, n, mode)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, n=BUDGET, mode=MODE)
def test_chunks_rejoin_and_fit_on_a_trained_tokenizer(trained: Tokenizer, text: str, n: int, mode: str) -> None:
    _check(trained, text, n, mode)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, n=st.integers(min_value=5, max_value=30), mode=MODE)
def test_chunks_fit_when_re_encoding_adds_a_prefix_space(gpt2_tokenizer: Tokenizer, text: str, n: int,
                                                         mode: str) -> None:
    # A prefix-space tokenizer gives a chunk one more token on its own than its slice had in the whole text (the
    # space it adds), the case the re-encoding check exists for.
    tok = PrefixSpaceTokenizer(gpt2_tokenizer.vocab, gpt2_tokenizer.merges, ["<|endoftext|>"])
    _check(tok, text, n, mode)


def test_a_chunk_alone_can_count_differently_than_its_slice(gpt2_tokenizer: Tokenizer) -> None:
    # In "\n\ning" GPT-2's pattern cuts the line breaks as "\n" + "\n" (the run's last whitespace character goes
    # with what follows), but "\n\n" alone is one token: the chunk's own count is what is reported and bounded.
    text = "\n\ning"
    assert len(gpt2_tokenizer.encode(text)) == 3 and len(gpt2_tokenizer.encode("\n\n")) == 1
    chunks = chunk_by_tokens(gpt2_tokenizer, text, max_tokens=2)
    assert [(c.text, c.n_tokens) for c in chunks] == [("\n\n", 1), ("ing", 1)]
    _check(gpt2_tokenizer, text * 7, 3, "token")


def test_sentence_and_paragraph_cuts_by_hand() -> None:
    text = "One two. Three four! Five six?\n\nSeven."
    # Characters are tokens: "One two. " is 9, "Three four! " 12, "Five six?\n\n" 11, "Seven." 6.
    chunks = chunk_by_tokens(CharacterTokenizer(), text, max_tokens=22, boundary="sentence")
    assert [c.text for c in chunks] == ["One two. Three four! ", "Five six?\n\nSeven."]
    assert [c.cut for c in chunks] == ["sentence", "end"]
    chunks = chunk_by_tokens(CharacterTokenizer(), text, max_tokens=33, boundary="paragraph")
    assert [c.text for c in chunks] == ["One two. Three four! Five six?\n\n", "Seven."]
    # A sentence longer than the budget falls back to the token boundary.
    chunks = chunk_by_tokens(CharacterTokenizer(), text, max_tokens=5, boundary="sentence")
    assert [c.text for c in chunks][:3] == ["One t", "wo. ", "Three"]
    assert [c.cut for c in chunks][:2] == ["token", "sentence"]


def test_a_character_is_never_cut(gpt2_tokenizer: Tokenizer) -> None:
    # "🌍" (4 UTF-8 bytes) is more than 2 byte-level tokens in GPT-2; a budget of 2 cannot hold it, so the error
    # says to raise the budget, while 4 fits any character.
    n = len(gpt2_tokenizer.encode("🌍"))
    assert n > 2
    with pytest.raises(ValueError, match="alone needs .* tokens.*raise max_tokens"):
        chunk_by_tokens(gpt2_tokenizer, "a🌍", max_tokens=2)
    assert [c.text for c in chunk_by_tokens(gpt2_tokenizer, "🌍🌍", max_tokens=4)] == ["🌍", "🌍"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_tokens must be"):
        chunk_by_tokens(ByteTokenizer(), "x", max_tokens=0)
    with pytest.raises(ValueError, match="boundary must be one of token, sentence, paragraph"):
        chunk_by_tokens(ByteTokenizer(), "x", max_tokens=3, boundary="word")  # type: ignore[arg-type]
    assert chunk_by_tokens(ByteTokenizer(), "", max_tokens=3) == []
