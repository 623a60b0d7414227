"""stream_parts: the parts join to the text, each later part starts at a space after a printable ASCII character, a
refused position is never cut, and a long text is cut into bounded parts however it is chunked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.pipelines.space_cuts import stream_parts

PIECES = ["a ", " ", "  ", "x", "é ", ". ", "\n", "你 ", "<t>", "ab cd "]
TEXT = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def _chunked(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({min(c, len(text)) for c in cuts})
    return [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None)
@given(text=TEXT, cuts=st.lists(st.integers(0, 400), max_size=6), target=st.integers(1, 20),
       margin=st.integers(3, 6))
def test_parts_join_to_the_text_and_start_at_spaces(text: str, cuts: list[int], target: int, margin: int) -> None:
    def allowed(buf: str, p: int) -> bool:  # never next to a "<t>" (reads 3 characters past p: margin >= 3)
        return "<t>" not in buf[max(0, p - 4):p + 4]

    parts = list(stream_parts(_chunked(text, cuts), target=target, margin=margin, allowed=allowed))
    assert "".join(p for p, _ in parts) == text
    assert [f for _, f in parts] == [True] + [False] * (len(parts) - 1)
    seen = 0
    for part, first in parts:
        if not first:
            assert part.startswith(" ") and "!" <= text[seen - 1] <= "~"
            assert "<t>" not in text[max(0, seen - 4):seen + 4]
        seen += len(part)


def test_a_long_text_in_one_chunk_or_many_is_cut_into_bounded_parts() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 2000
    for chunks in ([text], [text[i:i + 37] for i in range(0, len(text), 37)], list(text)):
        parts = [p for p, _ in stream_parts(chunks, target=1000, margin=5)]
        assert "".join(parts) == text
        assert len(parts) >= 80 and max(map(len, parts)) <= 1100, (len(parts), max(map(len, parts)))


def test_a_text_without_a_cut_is_one_part() -> None:
    assert list(stream_parts(["你好" * 50, "世界" * 50], target=10)) == [("你好" * 50 + "世界" * 50, True)]
    assert list(stream_parts([], target=10)) == [("", True)]
