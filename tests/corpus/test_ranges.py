"""Range cutting: ranges cover the input in order, every cut is safe, and counting range by range equals one pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.corpus.ranges import file_ranges, text_ranges
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.counting import count_text

SPECIALS = ["<|endoftext|>", "<|endoftext|><|endoftext|>", "<s p>"]
# Text made of the hard cases: runs of spaces and other whitespace, specials (one holding a space), digits, letters
# with and without accents, emoji, and the \x1c-\x1f characters that `regex` and `str` disagree about.
ALPHABET = st.sampled_from(
    [" ", "  ", "\n", "\t", "\r\n", "\x1c", "\u00a0", "a", "b", "Z", "é", "ü", "🙃", "中", "1", "234", "'s", ".", ",",
     "!", "<|endoftext|>", "<s p>", "<s", "p>"]
)
TEXTS = st.lists(ALPHABET, max_size=300).map("".join)


def assert_covers(ranges: list[tuple[int, int]], n: int) -> None:
    assert [a for a, _ in ranges[1:]] == [b for _, b in ranges[:-1]]  # no gaps, no overlaps, in order
    assert (ranges[0][0], ranges[-1][1]) == (0, n) if n else ranges == []
    assert all(a < b for a, b in ranges)


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None)
@given(text=TEXTS, target=st.integers(1, 40), pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]))
def test_counting_range_by_range_equals_one_pass(text: str, target: int, pattern: str) -> None:
    ranges = text_ranges(text, target=target, special_tokens=SPECIALS)
    assert_covers(ranges, len(text))
    pt = PreTokenizer.create(pattern, special_tokens=SPECIALS)
    total = count_text("", pt)
    for a, b in ranges:
        total.update(count_text(text[a:b], pt))
    assert total == count_text(text, pt)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(text=TEXTS, target=st.integers(1, 40))
def test_file_ranges_decode_alone_and_match_the_text_cuts(tmp_path_factory: pytest.TempPathFactory, text: str,
                                                          target: int) -> None:
    path = tmp_path_factory.mktemp("r") / "t.txt"
    data = text.encode("utf-8")
    path.write_bytes(data)
    ranges = file_ranges(path, target=target, special_tokens=SPECIALS)
    assert_covers(ranges, len(data))
    pieces = [data[a:b].decode("utf-8") for a, b in ranges]  # each range is whole characters
    assert "".join(pieces) == text
    for a, _ in ranges[1:]:
        assert data[a : a + 1] == b" " and 0x21 <= data[a - 1] <= 0x7E


def test_no_cut_inside_a_special_token_that_holds_a_space() -> None:
    text = "x <s p> y" * 50
    starts = [k for k in range(len(text)) if text.startswith("<s p>", k)]
    cuts = [a for a, _ in text_ranges(text, target=3, special_tokens=["<s p>"])[1:]]
    assert len(cuts) > 40
    assert not [a for a in cuts for k in starts if k < a < k + len("<s p>")]


def test_text_without_safe_spaces_is_one_range(tmp_path: Path) -> None:
    text = "a\n b\t c" + "x" * 1000
    assert text_ranges(text, target=10) == [(0, len(text))]
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    assert file_ranges(path, target=10) == [(0, len(text.encode()))]


def test_empty_input_has_no_ranges(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert file_ranges(path, target=10) == [] and text_ranges("", target=10) == []


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        text_ranges("a b", target=0)
