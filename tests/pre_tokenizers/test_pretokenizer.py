"""Pre-tokenizers: named patterns, the ASCII fast path, custom regexes, special tokens, safe chunking."""

from __future__ import annotations

import dataclasses
import functools

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS, resolve_pattern
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.stream_cuts import chunk_text, is_context_free

ASCII_ALPHABET = "".join(chr(c) for c in range(128))
# Characters that stress the patterns: letters, digits, apostrophes, every ASCII whitespace incl. \x1c-\x1f.
TRICKY = "ab Z9'sllvetdmre\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f  .,!?/-_\"0123"


@pytest.mark.slow  # 1.2 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", list(NAMED_PATTERNS))
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list(TRICKY)), max_size=60) | st.text(alphabet=ASCII_ALPHABET))
def test_ascii_twin_equals_regex(name: str, text: str) -> None:
    pt = PreTokenizer.create(name)
    assert pt.ascii_twin.findall(text) == regex.findall(NAMED_PATTERNS[name], text)


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
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


@pytest.mark.slow  # 1.8 s measured: the full run has it, the quick loop does not
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


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NAMED_PATTERNS))
@settings(max_examples=300, deadline=None)
@given(text=MIXED, padding=st.integers(0, 200))
def test_mixed_ascii_windows_equal_regex(name: str, text: str, padding: int) -> None:
    # Mostly-ASCII text takes the windowed path; it must equal `regex` over the whole text.
    text = "word " * padding + text + " tail" * (padding // 3)
    assert PreTokenizer.create(name).findall(text) == regex.findall(NAMED_PATTERNS[name], text)


# Patterns whose matches read context: lookahead (near and far), lookbehind, anchors, word boundaries, a
# backreference. Streaming may cut their text only at special tokens.
CONTEXT_PATTERNS = [
    r"\w+(?=\s)|\w|\s|.",
    r"a(?=[^z]*z)|.|\n",
    r"(?<=a)b+|\w|\s|.",
    r"(?<!x)a+|\w|\s|.",
    r"^\w+|\w|\s|.",
    r"(?m)^a|\w|\s|.",
    r"\w+$|\w|\s|.",
    r"\w+\Z|\w|\s|.",
    r"\Aab|.|\n",
    r"\b\w\w|\w|\s|.",
    r"\B\w+|\w|\s|.",
    r"(\w)\1|\w|\s|.",
]
# Context-free patterns, including ones whose attempts read ahead and fall back (a+b|a on a long run of a).
CONTEXT_FREE_PATTERNS = [r"a+b|a", r"ab|a", r"a|ab", r"[a-z]+", r"\w+|\s+|[^\w\s]+", r"(?:ab)+|b|\s", r"(?i)A+|\s",
                         r"x{2,3}|a|b", r"(?>a+)b|.", r"\S+ ?|\s"]
STREAM_TEXT = st.lists(st.sampled_from(["a", "b", "x", "z", " ", "  ", "\n", "ab", "aaaa", "é", "<s>", "<s"]),
                       max_size=40).map("".join)


@functools.cache
def _pretokenizer(pattern: str, specials: tuple[str, ...]) -> PreTokenizer:
    return PreTokenizer.create(pattern, special_tokens=list(specials))  # vetting a custom regex takes a while


@functools.cache
def _stream_tokenizer(pattern: str) -> Tokenizer:
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"<s>", 257: b"ab", 258: b"aa", 259: b" a"}
    return Tokenizer(vocab, [(b"a", b"b"), (b"a", b"a"), (b" ", b"a")], ["<s>"], pattern)


def _parts(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({min(c, len(text)) for c in cuts})
    return [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)])]


@pytest.mark.slow
@pytest.mark.parametrize("pattern", CONTEXT_PATTERNS + CONTEXT_FREE_PATTERNS)
@pytest.mark.parametrize("specials", [(), ("<s>",)])
@settings(max_examples=120, deadline=None)
@given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 120), max_size=6), target=st.integers(1, 12))
def test_chunking_equals_one_pass_for_any_pattern(pattern: str, specials: tuple[str, ...], text: str,
                                                 cuts: list[int], target: int) -> None:
    pt = _pretokenizer(pattern, specials)
    chunks = list(chunk_text(_parts(text, cuts), pt, target=target))
    assert "".join(chunks) == text
    assert [p for c in chunks for p in pt.iter_pieces(c)] == list(pt.iter_pieces(text))


@pytest.mark.slow
@pytest.mark.parametrize("pattern", CONTEXT_PATTERNS + CONTEXT_FREE_PATTERNS)
@settings(max_examples=80, deadline=None)
@given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 120), max_size=6), chunk_chars=st.integers(1, 12))
def test_encode_iterable_equals_encode_for_any_pattern(pattern: str, text: str, cuts: list[int],
                                                      chunk_chars: int) -> None:
    tok = _stream_tokenizer(pattern)
    want = tok.encode(text, allowed_special="all")  # encode_iterable reads every special token as its id
    assert list(tok.encode_iterable(_parts(text, cuts), chunk_chars=chunk_chars)) == want


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_the_lookahead_example_streams_exactly() -> None:
    tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab"}, [(b"a", b"b")], pattern=r"\w+(?=\s)|\w|\s|.")
    s = "xab xab xab xab"
    assert list(tok.encode_iterable([s], chunk_chars=5)) == tok.encode(s) == [120, 256, 32] * 3 + [120, 97, 98]


def test_an_attempt_that_reads_far_ahead_is_not_cut() -> None:
    # `a+b|a` gives single a's on a run of a's, unless a b ends the run: no cut is final before that b arrives.
    pt = PreTokenizer.create(r"a+b|a")
    text = "a" * 50 + "b"
    assert [p for c in chunk_text([text[i : i + 5] for i in range(0, 51, 5)], pt, target=5)
            for p in pt.iter_pieces(c)] == [(text, False)]


@pytest.mark.parametrize(("pattern", "free"), [
    *[(p, False) for p in CONTEXT_PATTERNS],
    *[(p, True) for p in CONTEXT_FREE_PATTERNS],
    (r"(*SKIP)a|b", False), (r"(?r)a|b", False), (r"(?x)a # c", False), (r"a{e<=1}|b", False), (r"\X|a", False),
    (r"(?P<n>a)(?P=n)|a", False), (r"(?(1)a|b)", False), (r"[[:alpha:]]+|.", False), (r"\Ka", False),
    (r"(?P<n>\p{L}+)|\pN|[\x00-\x1f]|\u00e9|\N{BULLET}|\.", True), (r"[\]\\-]+|a", True), (r"\Ga|b", False),
])
def test_context_free_patterns_are_told_apart(pattern: str, free: bool) -> None:
    assert is_context_free(pattern) is free


@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
def test_streaming_still_cuts_context_free_patterns_and_only_specials_otherwise() -> None:
    text = ("some words here\n" * 200 + "<s>") * 3
    free = PreTokenizer.create(r"\w+|\s+|[^\w\s]+", special_tokens=["<s>"])
    context = PreTokenizer.create(r"\w+(?=\s)|\w|\s|.", special_tokens=["<s>"])
    free_chunks = list(chunk_text([text], free, target=100))
    context_chunks = list(chunk_text([text], context, target=100))
    assert max(map(len, free_chunks)) < 200 and len(free_chunks) > 50
    # Cut at special tokens only (here at the last one the buffer holds when a cut is looked for).
    assert len(context_chunks) > 1 and all(c.startswith("<s>") for c in context_chunks[1:])
    assert list(chunk_text([text.replace("<s>", "")], context, target=100)) == [text.replace("<s>", "")]
