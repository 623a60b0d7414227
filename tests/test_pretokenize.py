"""Pre-tokenizers: named patterns, the ASCII fast path, custom regexes, special tokens, safe chunking."""

from __future__ import annotations

import dataclasses

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.pretokenize import NAMED_PATTERNS, PreTokenizer, chunk_text, resolve_pattern

ASCII_ALPHABET = "".join(chr(c) for c in range(128))
# Characters that stress the patterns: letters, digits, apostrophes, every ASCII whitespace incl. \x1c-\x1f.
TRICKY = "ab Z9'sllvetdmre\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f  .,!?/-_\"0123"


@pytest.mark.parametrize("name", list(NAMED_PATTERNS))
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list(TRICKY)), max_size=60) | st.text(alphabet=ASCII_ALPHABET))
def test_ascii_twin_equals_regex(name: str, text: str) -> None:
    pt = PreTokenizer.create(name)
    assert pt._ascii.findall(text) == regex.findall(NAMED_PATTERNS[name], text)


@pytest.mark.parametrize("name", list(NAMED_PATTERNS))
@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_pieces_cover_text(name: str, text: str) -> None:
    pieces = PreTokenizer.create(name).split(text)
    assert "".join(p.text for p in pieces) == text
    pos = 0
    for p in pieces:
        assert (p.start, p.end) == (pos, pos + len(p.text))
        pos = p.end


def test_named_patterns_behave_as_in_the_lecture() -> None:
    assert PreTokenizer.create("gpt2").findall("hello world 1234567890") == ["hello", " world", " 1234567890"]
    assert PreTokenizer.create("gpt4").findall("hello world 1234567890") == ["hello", " world", " ", "123", "456",
                                                                              "789", "0"]
    assert PreTokenizer.create("o200k").findall("HelloWorld") == ["Hello", "World"]
    assert resolve_pattern("cl100k_base")[1] == "gpt4"


def test_longest_special_token_wins() -> None:
    pt = PreTokenizer.create("gpt2", special_tokens=["<|endoftext|>", "<|endoftext|><|endoftext|>"])
    segs = pt.segments("a<|endoftext|><|endoftext|>b<|endoftext|>")
    assert segs == [("a", False), ("<|endoftext|><|endoftext|>", True), ("b", False), ("<|endoftext|>", True)]


def test_custom_regex_keeps_gaps() -> None:
    pt = PreTokenizer.create(r"[a-z]+")
    assert pt.findall("ab, cd!") == ["ab", ", ", "cd", "!"]
    assert pt.label == "custom"


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [("(", "does not compile"), ("a*", "empty string"), ("", "empty"), (r"(a+)+$", "catastrophic")],
)
def test_bad_custom_regex_is_a_clear_value_error(pattern: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        PreTokenizer.create(pattern, timeout=0.2)


def test_catastrophic_regex_times_out_on_real_text() -> None:
    # Passes the probes (no long run of 'x' there) but backtracks exponentially on one in the text. The probes run
    # with the default budget (a short one could run out on a busy machine); the text gets a short one.
    pt = dataclasses.replace(PreTokenizer.create(r"(x|x)+y|."), timeout=0.2)
    with pytest.raises(ValueError, match="catastrophic"):
        pt.findall("x" * 40)


def test_empty_special_token_is_refused() -> None:
    with pytest.raises(ValueError, match="empty string"):
        PreTokenizer.create("gpt2", special_tokens=[""])


TEXT_STRATEGY = st.lists(
    st.sampled_from(list("ab 9.'\n\t") + ["<|eot|>", "é", "🙃", "  ", "\r\n", "<|eo"]), max_size=40
).map("".join)


@pytest.mark.parametrize("name", [*NAMED_PATTERNS, r"\w+|\s+|[^\w\s]+"])
@settings(max_examples=150, deadline=None)
@given(text=TEXT_STRATEGY, cuts=st.lists(st.integers(0, 120), max_size=6), target=st.integers(1, 30))
def test_chunking_equals_one_pass(name: str, text: str, cuts: list[int], target: int) -> None:
    """Re-cut pieces equal one pass, whatever the input boundaries (inside whitespace runs, inside specials)."""
    pt = PreTokenizer.create(name, special_tokens=["<|eot|>"])
    bounds = sorted({min(c, len(text)) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)])]
    chunks = list(chunk_text(parts, pt, target=target))
    assert "".join(chunks) == text
    assert [p for c in chunks for p in pt.iter_pieces(c)] == list(pt.iter_pieces(text))


MIXED = st.lists(
    st.sampled_from(["a", "b", " ", "  ", "\n", "\t", "'s", "9", ".", "é", "🙃", "\u00a0", "\u3000", "你好", "\x1c"]),
    max_size=50,
).map("".join)


@pytest.mark.parametrize("name", list(NAMED_PATTERNS))
@settings(max_examples=300, deadline=None)
@given(text=MIXED, padding=st.integers(0, 200))
def test_mixed_ascii_windows_equal_regex(name: str, text: str, padding: int) -> None:
    # Mostly-ASCII text takes the windowed path; it must equal `regex` over the whole text.
    text = "word " * padding + text + " tail" * (padding // 3)
    assert PreTokenizer.create(name).findall(text) == regex.findall(NAMED_PATTERNS[name], text)
