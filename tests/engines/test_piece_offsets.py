"""Encodings built from ``tokenizers``' offsets (tokviz.engines.piece_offsets) on small hand-made files, one rule at a
time: the inserted mark, a space's own mark, the character that becomes a space and more, byte pieces, the unknown
token's text, added tokens; each case equals the pure pipeline's Encoding or is declined (None), never differs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.engines import tokenizers_engine as hf
from tokviz.engines.piece_offsets import OffsetTables
from tokviz.formats.hf_families import family_from_dict

tokenizers = pytest.importorskip("tokenizers")



@pytest.fixture(autouse=True, params=["numpy", "python"])
def sums(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every rule both ways: with numpy's masks (tokviz.engines.piece_arrays, long texts) and token by token."""
    import tokviz.core.id_offsets as id_offsets

    if request.param == "numpy":
        pytest.importorskip("numpy")
    monkeypatch.setattr(id_offsets, "ARRAY_AT", 0 if request.param == "numpy" else 1 << 62)
    return str(request.param)


_FILES: dict[str, Any] = {}
METASPACE = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}


def _unigram(pieces: list[str], *, normalizer: Any = None, added: list[dict[str, Any]] | None = None,
             byte_fallback: bool = False) -> dict[str, Any]:
    vocab = [["<unk>", 0.0]] + [[p, -1.0 - len(p) / 10] for p in pieces]
    return {"version": "1.0", "added_tokens": added or [], "normalizer": normalizer, "pre_tokenizer": METASPACE,
            "model": {"type": "Unigram", "unk_id": 0, "vocab": vocab, "byte_fallback": byte_fallback}}


def _both(data: dict[str, Any]) -> tuple[Any, OffsetTables, Any]:
    tok = family_from_dict(data, source="t/tokenizer.json")
    assert tok is not None
    tok.engine = None
    native = tokenizers.Tokenizer.from_str(json.dumps(data))
    return tok, OffsetTables.of(tok), native


def _enc(tables: OffsetTables, native: Any, text: str) -> Any:
    return tables.encoding(text, native.encode(text, add_special_tokens=False))


def test_an_inserted_mark_has_no_characters_and_a_space_keeps_its_own() -> None:
    tok, tables, native = _both(_unigram(["▁", "a", "b", "▁b"]))
    for text in ("a", "a b", " a", "  a", "b  a", "ab a"):
        enc = _enc(tables, native, text)
        assert enc is not None and enc == tok.pure_encoding(text), text
    assert _enc(tables, native, "a").char_spans == [(0, 0), (0, 1)]
    assert _enc(tables, native, "b a").char_spans == [(0, 1), (1, 2), (2, 3)]


def test_a_character_that_becomes_a_space_and_more_is_declined() -> None:
    # NFKC makes U+00A8 a space and a combining diaeresis: under a lone ▁ it may be inserted or its own.
    tok, tables, native = _both(_unigram(["▁", "x", "\u0308"], normalizer={"type": "NFKC"}))
    assert _enc(tables, native, "x\u00a8") is None
    assert _enc(tables, native, "x x") == tok.pure_encoding("x x")


def test_byte_pieces_are_partial_and_spelled_byte_pieces_are_declined() -> None:
    pieces = ["▁", "a", "<", ">", "0", "x", "E", "3", "<0xE3>"] + [f"<0x{b:02X}>" for b in range(256) if b != 0xE3]
    tok, tables, native = _both(_unigram(pieces, byte_fallback=True))
    enc = _enc(tables, native, "a\u3042")  # あ: three byte pieces
    assert enc is not None and enc == tok.pure_encoding("a\u3042") and enc.partial[-3:] == [True] * 3
    assert native.encode("a<0xE3>").tokens[-1] == "<0xE3>"  # the piece's own six characters, cut whole
    assert _enc(tables, native, "a<0xE3>") is None


def test_the_unknown_token_shows_its_normalized_text() -> None:
    tok, tables, native = _both(_unigram(["▁", "a"], normalizer={"type": "Lowercase"}))
    enc = _enc(tables, native, "a QZ a")
    assert enc is not None and enc == tok.pure_encoding("a QZ a") and b"qz" in enc.tokens


def test_added_tokens_are_special_where_the_pipeline_cuts_them() -> None:
    added = [{"id": 3, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": True, "normalized": False,
              "special": True}, {"id": 4, "content": "ab", "single_word": True, "lstrip": False, "rstrip": False,
                                 "normalized": False, "special": False}]
    tok, tables, native = _both(_unigram(["▁", "a", "b"], added=added))
    for text in ("<s>  ab", "ab<s>a", "xab ab", "<s>"):
        enc = _enc(tables, native, text)
        assert enc is not None and enc == tok.pure_encoding(text), text
    assert _enc(tables, native, "<s>  ab").special == [True, False]  # the spaces are the special token's


def test_normalized_added_tokens_keep_the_pure_offsets() -> None:
    added = [{"id": 3, "content": "hi", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True,
              "special": False}]
    data = _unigram(["▁", "h", "i"], added=added)
    tok = family_from_dict(data, source="t/tokenizer.json")
    assert tok is not None
    with pytest.raises(ValueError, match="normalized text"):
        OffsetTables.of(tok)
    hf.attach(tok, data, start_at=0)
    engine = tok.engine._engine
    assert engine.tables is None and "normalized text" in engine.offsets_note
    assert tok.encode_with_offsets("hi hi") == tok.pure_encoding("hi hi") and tok.encode("hi") == tok.pure_ids("hi")


def test_a_failed_offsets_check_leaves_the_ids_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _unigram(["▁", "a", "b"])
    tok = family_from_dict(data, source="t/tokenizer.json")
    assert tok is not None
    real = tok.pure_encoding
    monkeypatch.setattr(tok, "pure_encoding", lambda text: real(text + "a"))  # as if the two read spans otherwise
    hf.attach(tok, data, start_at=0)
    engine = tok.engine._engine
    assert engine.tables is None and "spans differ" in engine.offsets_note
    assert tok.engine.name == "tokenizers" and engine.encode("ab") == tok.pure_ids("ab")
    assert engine.encode_with_offsets("ab") is None


def test_characters_that_compose_are_declined_under_a_normalization_form() -> None:
    # tokenizers gives NFC's é (from e and U+0301) the span of the e, the pure pipeline both characters.
    tok, tables, native = _both(_unigram(["▁", "a", "\u00e9", "\uac00"], normalizer={"type": "NFC"}))
    for text in ("a e\u0301", "a \u1100\u1161", "x\u0301\u0302"):
        assert not tables.takes(text) and _enc(tables, native, text) is None, text
    for text in ("a \u00e9", "a \uac00 a"):
        enc = _enc(tables, native, text)
        assert tables.takes(text) and enc is not None and enc == tok.pure_encoding(text), text
    _, plain, _ = _both(_unigram(["▁", "a"]))
    assert plain.takes("a e\u0301")  # no normalization form: nothing composes


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", " ", "  ", "QZ", "Q", "▁", "\u00a8", "ab", "\u3042", "<0xE3>", "x"]),
                max_size=14).map("".join))
def test_the_masks_give_the_token_by_token_encoding(sums: str, text: str) -> None:
    # Lone marks beside unknown tokens and byte pieces: an unknown token reads the span of the mark before it as
    # settled and the one after it as it was; the masks must give the same Encoding, or decline the same texts.
    pytest.importorskip("numpy")
    import tokviz.core.id_offsets as id_offsets
    from tokviz.engines.piece_arrays import encoding_from_arrays

    pieces = ["▁", "a", "b", "x", "▁a", "ab"] + [f"<0x{b:02X}>" for b in range(256)]
    tok, tables, native = _FILES.setdefault("masks", _both(_unigram(pieces, normalizer={"type": "Lowercase"},
                                                                      byte_fallback=True)))
    if not tables.takes(text):
        return
    enc = native.encode(text, add_special_tokens=False)
    masks = encoding_from_arrays(tables, text, enc)
    limit, id_offsets.ARRAY_AT = id_offsets.ARRAY_AT, 1 << 62
    try:
        by_token = tables.encoding(text, enc)
    finally:
        id_offsets.ARRAY_AT = limit
    assert masks == by_token
    assert by_token is None or by_token == tok.pure_encoding(text)
