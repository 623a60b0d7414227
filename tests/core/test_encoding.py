"""Encoding: text of whole tokens, no text for partial ones, and grouping of tokens that share a character."""

from __future__ import annotations

from tokviz.core.encoding import Encoding


def make() -> Encoding:
    # "a" then "🌍" cut into three byte tokens, then "!"
    return Encoding(
        ids=[1, 2, 3, 4, 5],
        tokens=[b"a", b"\xf0\x9f", b"\x8c", b"\x8d", b"!"],
        byte_spans=[(0, 1), (1, 3), (3, 4), (4, 5), (5, 6)],
        char_spans=[(0, 1), (1, 2), (1, 2), (1, 2), (2, 3)],
        partial=[False, True, True, True, False],
    )


def test_text_of_never_prints_a_replacement_character() -> None:
    enc = make()
    assert [enc.text_of(i) for i in range(len(enc))] == ["a", None, None, None, "!"]
    assert enc.n_bytes == 6


def test_groups_put_a_split_character_together() -> None:
    assert make().groups() == [[0], [1, 2, 3], [4]]


def test_two_split_characters_side_by_side_are_two_groups() -> None:
    enc = Encoding([1, 2, 3, 4], [b"\xc3", b"\xa9", b"\xc3", b"\xa9"], [(0, 1), (1, 2), (2, 3), (3, 4)],
                   [(0, 1), (0, 1), (1, 2), (1, 2)], [True, True, True, True])
    assert enc.groups() == [[0, 1], [2, 3]]


def test_empty_encoding() -> None:
    enc = Encoding([], [], [], [], [])
    assert len(enc) == 0 and enc.n_bytes == 0 and enc.groups() == []
