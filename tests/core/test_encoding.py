"""Encoding: text of whole tokens, no text for partial ones, and grouping of tokens that share a character."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.core.encoding import Encoding, EncodingBuilder
from tokviz.formats.pretrained import load_encoding

_CL100K = load_encoding("cl100k_base")


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



@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@given(st.text(max_size=80))
@settings(max_examples=150, deadline=None)
def test_byte_level_fast_path_gives_the_builders_encoding(text: str) -> None:
    # Byte-level BPE builds its Encoding in one pass of its own (the hot path of encode_with_offsets); it must be
    # the Encoding the EncodingBuilder of every pipeline makes from the same tokens, each marked cut when it holds
    # fewer bytes than the characters it spans.
    fast = _CL100K.encode_with_offsets(text)
    built = EncodingBuilder()
    for i, t, (s, e), special in zip(fast.ids, fast.tokens, fast.char_spans, fast.special):
        built.add(i, t, (s, e), cut=len(t) < len(text[s:e].encode("utf-8")), special=special)
    for piece in fast.pieces:
        built.add_piece(piece)
    assert built.build() == fast


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=12))
def test_spans_read_as_the_list_of_their_tuples(pairs: list[tuple[int, int]]) -> None:
    import pickle

    from tokviz.core.encoding import Spans

    spans = Spans([a for a, _ in pairs], [b for _, b in pairs])
    assert spans == pairs and pairs == spans and list(spans) == pairs and len(spans) == len(pairs)
    assert spans[1:-1] == pairs[1:-1] and spans[::2] == pairs[::2]
    assert all(spans[i] == pairs[i] for i in range(-len(pairs), len(pairs)))
    assert pickle.loads(pickle.dumps(spans)) == pairs and type(pickle.loads(pickle.dumps(spans))) is list
    assert repr(spans) == repr(pairs)
    assert spans != [*pairs, (0, 0)] and spans != [(p[0], p[1] + 1) for p in pairs] or not pairs


def test_spans_refuse_columns_of_different_lengths_and_are_not_hashable() -> None:
    from tokviz.core.encoding import Spans

    with pytest.raises(ValueError, match="as many starts as ends"):
        Spans([0, 1], [1])
    with pytest.raises(TypeError):
        hash(Spans([0], [1]))
    assert Spans([0], [1]) != ((0, 1),)  # a tuple is not the list an Encoding's field stands for


@given(st.lists(st.integers(0, 3), max_size=10))
def test_token_bytes_read_each_ids_bytes(ids: list[int]) -> None:
    import pickle

    from tokviz.core.encoding import TokenBytes

    vocab = {0: b"a", 1: b"\xc3", 2: b"\xa9", 3: b"<|x|>"}
    expected = [vocab[i] for i in ids]
    tokens = TokenBytes(ids, vocab)
    assert tokens == expected and expected == tokens and list(tokens) == expected and tokens[1:] == expected[1:]
    assert all(tokens[i] == expected[i] for i in range(-len(ids), len(ids)))
    assert pickle.loads(pickle.dumps(tokens)) == expected and repr(tokens) == repr(expected)
    assert tokens != [*expected, b"a"] and (not ids or tokens != [b"z", *expected[1:]])
