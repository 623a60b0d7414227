"""encode's tiktoken keywords (allowed_special, disallowed_special) and lone-surrogate repair, against tiktoken."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.core.surrogates import repair_surrogates
from tokviz.pre_tokenizers.patterns import GPT2_PATTERN

tiktoken = pytest.importorskip("tiktoken")

SPECIALS = ["<|endoftext|>", "<|pad|>", "<|endoftext|><|endoftext|>"]


@pytest.fixture(scope="module")
def pair() -> tuple[Tokenizer, object]:
    """A small trained tokenizer and tiktoken's Encoding of the same ranks and specials."""
    tok = train_bpe(["hello world <|pad|> it's 123 héllo 🙃 " * 30], vocab_size=300, special_tokens=SPECIALS)
    specials = tok.special_ids
    ranks = {t: i for i, t in tok.vocab.items() if i not in specials.values()}
    enc = tiktoken.Encoding("t", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens=specials)
    return tok, enc


OPTIONS = [
    {},
    {"allowed_special": "all"},
    {"allowed_special": set()},
    {"allowed_special": {"<|pad|>"}},
    {"allowed_special": {"<|endoftext|>"}, "disallowed_special": ()},
    {"allowed_special": set(), "disallowed_special": ()},
    {"allowed_special": {"<|pad|>"}, "disallowed_special": "all"},
    {"disallowed_special": "all"},
    {"disallowed_special": {"<|pad|>"}},
    {"allowed_special": "all", "disallowed_special": {"<|nope|>"}},
]
# No text holds two overlapping specials ("<|endoftext|><|endoftext|>"): tiktoken picks among overlapping specials in
# the order of a Rust HashMap, which changes from one process to the next (see the test after this one).
TEXTS = ["a<|endoftext|>b", "x<|pad|>y<|endoftext|> <|endoftext|>z", "<|pad|>", "plain text", "<|pad", "<|nope|>",
         "a\udc80b<|pad|>", "\ud83d\ude43\ud800"]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("text", TEXTS)
def test_special_options_behave_as_tiktoken(pair, options: dict, text: str) -> None:
    tok, enc = pair
    # Ours has tiktoken's keywords and tiktoken's defaults (every special refused unless allowed): the same call.
    try:
        expected = enc.encode(text, **options)  # type: ignore[attr-defined]
    except ValueError:
        with pytest.raises(ValueError, match="disallowed special token"):
            tok.encode(text, **options)
        return
    assert tok.encode(text, **options) == expected


def test_overlapping_specials_longest_allowed_one_wins(pair) -> None:
    tok, _ = pair
    eot, double = tok.special_ids["<|endoftext|>"], tok.special_ids["<|endoftext|><|endoftext|>"]
    assert encode_as_shown(tok, "<|endoftext|><|endoftext|>") == [double]
    allowed = tok.encode("<|endoftext|><|endoftext|>", allowed_special={"<|endoftext|>"}, disallowed_special=())
    assert allowed == [eot, eot]


def test_default_refuses_a_special_token_as_tiktoken_does(pair) -> None:
    tok, enc = pair
    text = "a<|endoftext|><|endoftext|><|pad|><|endoftext|>"
    with pytest.raises(ValueError, match="disallowed special token"):
        enc.encode(text)
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode(text)
    assert tok.encode("plain text") == enc.encode("plain text")
    # What the views draw: every special token its id (tiktoken's allowed_special="all").
    assert (encode_as_shown(tok, text) == tok.encode(text, allowed_special="all")
            == enc.encode(text, allowed_special="all"))
    assert tok.encode_ordinary(text) == enc.encode_ordinary(text)


def test_disallowed_message_says_how_to_allow(pair) -> None:
    tok, _ = pair
    with pytest.raises(ValueError, match=r"allowed_special=\{'<\|pad\|>'\}.*disallowed_special=\(\)"):
        tok.encode("x <|pad|>", allowed_special=set(), disallowed_special="all")


@pytest.mark.parametrize("bad", ["<|pad|>", 5, [1]])
def test_bad_keyword_values_are_value_errors(pair, bad: object) -> None:
    tok, _ = pair
    with pytest.raises(ValueError, match="allowed_special"):
        tok.encode("x", allowed_special=bad)  # type: ignore[arg-type]


SURROGATE_TEXT = st.text(st.one_of(st.characters(), st.sampled_from(["\ud83d", "\ude43", "\udc80", "\ud800"])),
                         max_size=60)


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None)
@given(text=SURROGATE_TEXT, cut=st.integers(0, 60))
def test_lone_surrogates_are_repaired_as_tiktoken_does(pair, text: str, cut: int) -> None:
    tok, enc = pair
    expected = enc.encode(text, allowed_special="all")  # type: ignore[attr-defined]
    assert tok.encode(text) == expected
    assert list(tok.encode_iterable([text[:cut], text[cut:]], chunk_chars=4)) == expected
    offsets = tok.encode_with_offsets(text)
    assert offsets.ids == expected
    # spans index the user's string: every character of it is covered, in order, and the last span ends at its end
    if text:
        assert offsets.char_spans[0][0] == 0 and offsets.char_spans[-1][1] == len(text)
        spans = offsets.char_spans
        assert all(a[1] <= b[0] or a == b or a[0] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    repaired = repair_surrogates(text)
    assert tok.decode(expected) == repaired
    for (start, end), piece in zip([(p.start, p.end) for p in offsets.pieces], offsets.pieces, strict=True):
        assert repair_surrogates(text[start:end]) == piece.text


def test_a_surrogate_pair_spans_two_characters_of_the_user_string(pair) -> None:
    tok, _ = pair
    text = "a\ud83d\ude43b"
    enc = tok.encode_with_offsets(text)
    assert enc.ids == tok.encode("a\U0001f643b")
    assert enc.char_spans[-1] == (3, 4) and {s for s in enc.char_spans[1:-1]} == {(1, 3)}
