"""PrefixSpaceTokenizer: the space goes where `tokenizers` puts it, streaming agrees, offsets stay in the input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.formats import load_tokenizer, save
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

TEXT = "Once upon a time<s>there was<s> a cat.\n\nThe end 🌍 你好"


@pytest.fixture(scope="module")
def pair() -> tuple[Tokenizer, PrefixSpaceTokenizer]:
    plain = train_bpe([TEXT * 30], vocab_size=330, special_tokens=["<s>"])
    return plain, PrefixSpaceTokenizer(plain.vocab, plain.merges, plain.special_tokens, plain.pattern)


def test_space_before_each_stretch_that_lacks_one(pair: tuple[Tokenizer, PrefixSpaceTokenizer]) -> None:
    plain, tok = pair
    # stretches: "Once upon a time" (gets one), "there was" (gets one), " a cat..." (has one already)
    shown = encode_as_shown
    expected = (shown(plain, " Once upon a time") + shown(plain, "<s>") + shown(plain, " there was")
                + shown(plain, "<s> a cat.\n\nThe end 🌍 你好"))
    assert shown(tok, TEXT) == expected
    assert tok.decode(shown(tok, TEXT)) == " Once upon a time<s> there was<s> a cat.\n\nThe end 🌍 你好"
    assert tok.encode("") == [] and shown(tok, "<s>") == shown(plain, "<s>")


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(TEXT)), max_size=6))
def test_streaming_equals_encode(pair: tuple[Tokenizer, PrefixSpaceTokenizer], cuts: list[int]) -> None:
    _, tok = pair
    bounds = sorted({0, len(TEXT), *cuts})
    chunks = [TEXT[a:b] for a, b in zip(bounds, bounds[1:])]
    assert list(tok.encode_iterable(chunks, chunk_chars=5)) == encode_as_shown(tok, TEXT)


def test_offsets_point_into_the_original_text(pair: tuple[Tokenizer, PrefixSpaceTokenizer]) -> None:
    _, tok = pair
    enc = tok.encode_with_offsets(TEXT)
    assert enc.ids == encode_as_shown(tok, TEXT)
    raw = TEXT.encode("utf-8")
    rebuilt = b""
    for token, (s, e) in zip(enc.tokens, enc.byte_spans):
        if e == s:  # an inserted space: no bytes of the input
            assert token == b" "
        else:
            assert raw[s:e] == token.lstrip(b" ") or raw[s:e] == token
            rebuilt = rebuilt[:s] + raw[s:e]
    assert rebuilt == raw
    assert enc.char_spans[-1][1] == len(TEXT) and all(0 <= s <= e <= len(TEXT) for s, e in enc.char_spans)
    assert all(0 <= p.start <= p.end <= len(TEXT) for p in enc.pieces)


def test_prefix_and_round_trip_keep_the_flag(pair: tuple[Tokenizer, PrefixSpaceTokenizer], tmp_path) -> None:
    _, tok = pair
    small = tok.prefix(300)
    assert isinstance(small, PrefixSpaceTokenizer) and small.encode("Once")[0] == small.encode(" Once")[0]
    save(tok, tmp_path / "t.json", format="tokviz")
    back = load_tokenizer(tmp_path / "t.json")
    assert isinstance(back, PrefixSpaceTokenizer) and encode_as_shown(back, TEXT) == encode_as_shown(tok, TEXT)


def test_special_keywords_as_in_tokenizer(pair: tuple[Tokenizer, PrefixSpaceTokenizer]) -> None:
    plain, tok = pair
    # "<s>" as ordinary text: one stretch, so only the start of the text gets the space.
    assert tok.encode_ordinary(TEXT) == plain.encode_ordinary(" " + TEXT)
    assert tok.encode(TEXT, allowed_special={"<s>"}) == tok.encode(TEXT, allowed_special="all")
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode(TEXT, allowed_special=set(), disallowed_special="all")


@settings(max_examples=60, deadline=None)
@given(text=st.lists(st.sampled_from(["a", " ", "<s>", "\ud83d", "\ude43", "\udc80", "é", "🌍"]), max_size=12)
       .map("".join))
def test_lone_surrogates_are_repaired_everywhere(pair: tuple[Tokenizer, PrefixSpaceTokenizer], text: str) -> None:
    from tokviz.core.surrogates import repair_surrogates

    _, tok = pair
    ids = encode_as_shown(tok, text)
    assert ids == encode_as_shown(tok, repair_surrogates(text))
    enc = tok.encode_with_offsets(text)
    assert enc.ids == ids and all(0 <= s <= e <= len(text) for s, e in enc.char_spans)
    assert list(tok.encode_iterable([text[:3], text[3:]], chunk_chars=2)) == ids
