"""Offsets summed with numpy equal the pure sums field by field, and their spans read as the list of tuples."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

np = pytest.importorskip("numpy")

from tokviz.core.array_offsets import ArraySpans, ArrayTables, encoding_from_id_array  # noqa: E402
from tokviz.core.encoding import Piece, Spans  # noqa: E402
from tokviz.core.id_offsets import ByteTables, _encoding_from_ids, encoding_from_ids  # noqa: E402

# Whole characters, pieces of characters (leads and continuation bytes) and an empty token.
VOCAB = {0: b"a", 1: b" the", 2: b"\xc3", 3: b"\xa9", 4: b"\xf0\x9f", 5: b"\x8c\x8d", 6: b"\xe4\xb8\xad", 7: b"",
         8: b"\x8d!", 9: b"\xe4", 10: b"\xb8\xad\xe4\xb8"}
TABLES = ByteTables.of(VOCAB)


@given(st.lists(st.integers(0, len(VOCAB) - 1), max_size=40), st.booleans())
def test_the_array_sums_give_the_pure_encoding(ids: list[int], ascii_text: bool) -> None:
    special = [i % 3 == 0 for i in range(len(ids))]
    pieces = [Piece("a", 0, 1)]
    got = encoding_from_id_array(ids, VOCAB, ArrayTables.of(TABLES), ascii_text=ascii_text, special=special,
                                 pieces=pieces)
    want = _encoding_from_ids(ids, VOCAB, TABLES, ascii_text=ascii_text, special=special, pieces=pieces)
    for f in ("ids", "tokens", "byte_spans", "char_spans", "partial", "special", "pieces"):
        assert getattr(got, f) == getattr(want, f), f
    assert isinstance(got.char_spans, ArraySpans) and type(got.partial) is list
    assert all(type(x) is int for span in got.char_spans for x in span)
    assert got == want and want == got


def test_long_encodings_take_the_array_sums_and_short_ones_the_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokviz.core.id_offsets as id_offsets

    ids = [0, 2, 3, 4, 5] * 4
    short = encoding_from_ids(ids, VOCAB, ByteTables.of(VOCAB), ascii_text=False, special=[False] * 20, pieces=[])
    monkeypatch.setattr(id_offsets, "ARRAY_AT", 20)
    long = encoding_from_ids(ids, VOCAB, ByteTables.of(VOCAB), ascii_text=False, special=[False] * 20, pieces=[])
    assert isinstance(short.char_spans, Spans) and isinstance(long.char_spans, ArraySpans) and short == long
    # Without numpy the tables have no arrays and the pure sums run at any length.
    monkeypatch.setattr(id_offsets, "_array_offsets", lambda: None)
    pure = encoding_from_ids(ids, VOCAB, ByteTables.of(VOCAB), ascii_text=False, special=[False] * 20, pieces=[])
    assert isinstance(pure.char_spans, Spans) and pure == long


def test_an_id_outside_the_tables_is_an_index_error_as_in_the_pure_sums() -> None:
    with pytest.raises(IndexError, match="id 99 is not in the vocabulary's tables"):
        encoding_from_id_array([0, 99], VOCAB, ArrayTables.of(TABLES), ascii_text=True, special=[False] * 2,
                               pieces=[])
    with pytest.raises(IndexError):
        _encoding_from_ids([0, 99], VOCAB, TABLES, ascii_text=True, special=[False] * 2, pieces=[])


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=12))
def test_array_spans_read_as_the_list_of_their_tuples(pairs: list[tuple[int, int]]) -> None:
    spans = ArraySpans(np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64))
    assert spans == pairs and pairs == spans and list(spans) == pairs and len(spans) == len(pairs)
    assert spans == Spans([a for a, _ in pairs], [b for _, b in pairs]) == spans
    assert spans[1:-1] == pairs[1:-1] and spans[::2] == pairs[::2]
    assert all(spans[i] == pairs[i] for i in range(-len(pairs), len(pairs)))
    assert pickle.loads(pickle.dumps(spans)) == pairs and type(pickle.loads(pickle.dumps(spans))) is list
    assert repr(spans) == repr(pairs)
    assert spans != [*pairs, (0, 0)] and (not pairs or spans != [(p[0], p[1] + 1) for p in pairs])
    assert not pairs or spans != ArraySpans(spans.starts, spans.ends + 1)


def test_array_spans_refuse_columns_of_different_lengths_and_are_not_hashable() -> None:
    with pytest.raises(ValueError, match="as many starts as ends"):
        ArraySpans(np.array([0, 1]), np.array([1]))
    with pytest.raises(TypeError):
        hash(ArraySpans(np.array([0]), np.array([1])))
