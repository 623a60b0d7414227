"""Tokenizer: GPT-2 ids equal tiktoken's, streaming, round trips, offsets, files, and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, save_tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown, id_batches
from tokviz.formats.gpt2 import load_gpt2
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer

SAMPLES = ["", "s", "🙃", "Héllò hôw are ü? 🙃", "Héllò hôw <|endoftext|> are ü? <|endoftext|>🙃"]
FIXTURE_FILES = ["address.txt", "german.txt", "tinystories_sample.txt"]
SPECIAL_TEXT = "Hello <|endoftext|><|endoftext|> world <|endoftext|> 🙃 it's 1234567\n\n  x"


@pytest.fixture(scope="module")
def small_tok() -> Tokenizer:
    text = "the quick brown fox jumps over the lazy dog; héllo wörld 🙃 12345 it's\n" * 40
    return train_bpe([text], vocab_size=330, special_tokens=["<|endoftext|>", "<|endoftext|><|endoftext|>"])


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("text", SAMPLES)
def test_gpt2_ids_equal_tiktoken_on_samples(text: str, gpt2_tokenizer: Tokenizer, tiktoken_gpt2) -> None:
    ids = gpt2_tokenizer.encode(text, allowed_special="all")
    assert ids == tiktoken_gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert gpt2_tokenizer.decode(ids) == text


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_gpt2_ids_equal_tiktoken_on_files(name: str, cs336_dir: Path, gpt2_tokenizer: Tokenizer,
                                          tiktoken_gpt2) -> None:
    text = (cs336_dir / name).read_text(encoding="utf-8")
    expected = tiktoken_gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert gpt2_tokenizer.encode(text, allowed_special="all") == expected
    with open(cs336_dir / name, encoding="utf-8") as f:
        assert list(gpt2_tokenizer.encode_iterable(f)) == expected
    assert gpt2_tokenizer.decode(expected) == text


@pytest.mark.parametrize(
    ("name", "expected"),
    [("special_token_trailing_newlines.txt", [50256, 628]),
     ("special_token_double_newlines_non_whitespace.txt", [50256, 198, 198, 33407, 0])],
)
def test_gpt2_special_token_fixtures(name: str, expected: list[int], cs336_dir: Path, gpt2_tokenizer: Tokenizer,
                                     tiktoken_gpt2) -> None:
    text = (cs336_dir / name).read_text(encoding="utf-8")
    ours = gpt2_tokenizer.encode(text, allowed_special="all")
    assert ours == expected == tiktoken_gpt2.encode(text, allowed_special="all")


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_gpt2_without_specials_splits_the_marker(cs336_dir: Path, tiktoken_gpt2) -> None:
    tok = load_gpt2(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt", special_tokens=[], pattern="gpt2")
    assert tok.encode("<|endoftext|>") == tiktoken_gpt2.encode_ordinary("<|endoftext|>")


def test_longest_special_token_wins(small_tok: Tokenizer) -> None:
    double = small_tok.special_ids["<|endoftext|><|endoftext|>"]
    single = small_tok.special_ids["<|endoftext|>"]
    ids = encode_as_shown(small_tok, "a<|endoftext|><|endoftext|><|endoftext|>b")
    assert ids[1:3] == [double, single]
    assert small_tok.decode(ids) == "a<|endoftext|><|endoftext|><|endoftext|>b"


ALL_TEXT = st.text(st.characters(codec="utf-8")) | st.lists(
    st.sampled_from(["<|endoftext|>", "hé", " ", "\n", "🙃", "12", "it's", "x"]), max_size=30
).map("".join)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(text=ALL_TEXT)
def test_roundtrip_every_tokenizer(text: str, small_tok: Tokenizer, gpt2_tokenizer: Tokenizer) -> None:
    for tok in (small_tok, gpt2_tokenizer, ByteTokenizer(), CharacterTokenizer()):
        assert tok.decode(encode_as_shown(tok, text)) == text


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(text=ALL_TEXT, cuts=st.lists(st.integers(0, 60), max_size=5))
def test_encode_iterable_ignores_chunk_boundaries(text: str, cuts: list[int], small_tok: Tokenizer) -> None:
    bounds = sorted({min(c, len(text)) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)])]
    assert list(small_tok.encode_iterable(parts, chunk_chars=8)) == encode_as_shown(small_tok, text)


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="ab \n1é🌍", max_size=200), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_encode_batches_are_encode_iterable_in_lists(text: str, cuts: list[int], small_tok: Tokenizer) -> None:
    # The bulk consumers (a corpus written to disk, a file's count) read these lists instead of one id at a time.
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    parts = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    batches = list(small_tok.encode_batches(parts, chunk_chars=8))
    assert [i for b in batches for i in b] == list(small_tok.encode_iterable(parts, chunk_chars=8))
    assert all(isinstance(b, list) for b in batches)
    assert [i for b in id_batches(ByteTokenizer(), parts, size=3) for i in b] == list(text.encode())


def test_encode_iterable_streams_a_file_object(small_tok: Tokenizer) -> None:
    text = SPECIAL_TEXT * 500
    assert list(small_tok.encode_iterable(io.StringIO(text), chunk_chars=256)) == encode_as_shown(small_tok, text)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(text=ALL_TEXT)
def test_offsets_cover_the_text(text: str, small_tok: Tokenizer) -> None:
    enc = small_tok.encode_with_offsets(text)
    assert enc.ids == encode_as_shown(small_tok, text)
    assert b"".join(enc.tokens) == text.encode("utf-8")
    pos = 0
    for (bs, be), t in zip(enc.byte_spans, enc.tokens):
        assert (bs, be) == (pos, pos + len(t))
        pos = be
    # char spans: in order, no gaps; tokens holding part of a character share that character's span
    covered = 0
    for i, (cs, ce) in enumerate(enc.char_spans):
        assert cs <= covered <= ce or cs == covered
        assert cs < ce
        if not enc.partial[i]:
            assert text[cs:ce].encode("utf-8") == enc.tokens[i]
            assert cs == covered
        covered = max(covered, ce)
    assert covered == len(text)


def test_partial_tokens_share_their_characters_span(gpt2_tokenizer: Tokenizer) -> None:
    enc = gpt2_tokenizer.encode_with_offsets("a🙃")
    assert enc.tokens == [b"a", b"\xf0\x9f", b"\x99", b"\x83"]
    assert enc.char_spans == [(0, 1), (1, 2), (1, 2), (1, 2)]
    assert enc.partial == [False, True, True, True]
    assert enc.groups() == [[0], [1, 2, 3]]
    assert [enc.text_of(i) for i in range(4)] == ["a", None, None, None]


def test_decode_never_raises_on_split_characters(gpt2_tokenizer: Tokenizer) -> None:
    ids = gpt2_tokenizer.encode("🙃")
    assert gpt2_tokenizer.decode(ids[:1]) == "\ufffd"
    assert gpt2_tokenizer.decode_bytes(ids[:1]) == "🙃".encode()[: len(gpt2_tokenizer.vocab[ids[0]])]


def test_decode_unknown_id_is_a_value_error(small_tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="not in the vocabulary"):
        small_tok.decode([10**9])


def test_save_load_roundtrip(small_tok: Tokenizer, tmp_path: Path) -> None:
    path = tmp_path / "tok.json"
    save_tokenizer(small_tok, path)
    loaded = load_ours_tokenizer(path)
    assert loaded.vocab == small_tok.vocab and loaded.merges == small_tok.merges
    assert loaded.special_tokens == small_tok.special_tokens and loaded.pattern == small_tok.pattern
    assert encode_as_shown(loaded, SPECIAL_TEXT) == encode_as_shown(small_tok, SPECIAL_TEXT)


def test_save_load_keeps_any_bytes(tmp_path: Path) -> None:
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"\xff\x00", 257: b"\xff\x00\xc3"}
    tok = Tokenizer(vocab, [(b"\xff", b"\x00"), (b"\xff\x00", b"\xc3")], pattern="gpt4")
    save_tokenizer(tok, tmp_path / "t.json")
    assert load_ours_tokenizer(tmp_path / "t.json").vocab == vocab


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"format": "other"}', "not a tokviz tokenizer"),
        ('{"format": "tokviz", "version": 99}', "version"),
        ('{"format": "tokviz", "version": 1, "vocab": [[0, "!!"]], "merges": []}', "malformed"),
        ('{"format": "tokviz", "version": 1, "vocab": [[0, "AA=="]], "merges": []}', "256 single bytes"),
    ],
)
def test_malformed_files_raise_value_error(content: str, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=fragment):
        load_ours_tokenizer(path)


def test_merges_must_use_known_tokens() -> None:
    vocab = {i: bytes([i]) for i in range(256)}
    with pytest.raises(ValueError, match="merge 1"):
        Tokenizer(vocab, [(b"a", b"b")])


def test_bad_gpt2_files_name_file_and_line(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.json"
    merges = tmp_path / "merges.txt"
    vocab.write_text(json.dumps({"a": 0}), encoding="utf-8")
    merges.write_text("#version: 0.2\na b\nonlyone\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"merges.txt, line 3"):
        load_gpt2(vocab, merges, pattern="gpt2")
    vocab.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="vocab.json"):
        load_gpt2(vocab, merges, pattern="gpt2")


def test_prefix_keeps_ids_and_first_merges(small_tok: Tokenizer) -> None:
    p = small_tok.prefix(270)
    assert p.vocab_size == 270 and p.merges == small_tok.merges[:12]
    assert all(small_tok.vocab[i] == t for i, t in p.vocab.items())
    with pytest.raises(ValueError, match=">= 258"):
        small_tok.prefix(100)


def test_encode_rejects_bytes(small_tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="expects str"):
        small_tok.encode(b"abc")  # type: ignore[arg-type]


def test_deferred_merges_are_made_once_when_first_read_and_survive_pickling() -> None:
    import pickle

    from tokviz.models.bpe import DeferredMerges

    made: list[int] = []

    def make() -> list[tuple[bytes, bytes]]:
        made.append(1)
        return [(b"a", b"b"), (b"ab", b"c")]

    vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
    tok = Tokenizer(vocab, DeferredMerges(make), rule="ranks")  # type: ignore[arg-type]
    assert tok.encode("abcab") == [257, 256] and made == []  # encoding reads ranks, never the merge list
    clone = pickle.loads(pickle.dumps(tok))
    assert made == [1] and clone.merges == [(b"a", b"b"), (b"ab", b"c")]
    assert tok.merges == clone.merges and tok.merge_path(b"abc") == ([257], [0, 1]) and made == [1, 1]
    assert tok == clone and tok.unbuildable_ids == []
    with pytest.raises(ValueError, match="rule='ranks'"):
        Tokenizer(vocab, DeferredMerges(make))  # type: ignore[arg-type]


def test_rank_file_loads_without_deriving_its_merges(tmp_path: Path) -> None:
    import base64

    from tokviz.formats import tiktoken_file

    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257}
    path = tmp_path / "tiny.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    tiktoken_file._MERGES_CACHE.clear()
    tok = tiktoken_file.load_tiktoken(path, pattern="gpt2")
    assert tok.encode("abc") == [257] and not tiktoken_file._MERGES_CACHE
    assert tok.merges == [(b"a", b"b"), (b"ab", b"c")] and len(tiktoken_file._MERGES_CACHE) == 1


@pytest.mark.parametrize("vocab", [
    {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"ab"},  # a token given twice: the first id wins
    {i: bytes([i]) for i in range(256)} | {256: bytearray(b"ab")},  # a bytearray token
    {i: bytes([i]) for i in range(256)} | {True: b"\x01"},  # type: ignore[dict-item]
])
def test_encoder_keeps_the_first_id_of_a_repeated_token(vocab: dict[int, bytes]) -> None:
    from tokviz.models.bpe import _encoder_of

    slow: dict[bytes, int] = {}
    for i, t in vocab.items():
        slow.setdefault(bytes(t), i)
    assert _encoder_of(vocab) == slow and list(_encoder_of(vocab)) == list(slow)


def test_encoder_refuses_an_entry_that_is_not_int_to_bytes() -> None:
    from tokviz.models.bpe import _encoder_of

    with pytest.raises(ValueError, match="vocab must map int ids to bytes; got 256: str"):
        _encoder_of({i: bytes([i]) for i in range(256)} | {256: "ab"})  # type: ignore[dict-item]


def test_a_tokenizer_nobody_holds_is_freed_at_once_and_pickles_without_its_cache() -> None:
    import gc
    import pickle
    import weakref

    tok = train_bpe(["the cat sat on the mat " * 20], vocab_size=270)
    ids = tok.encode("the zebra sat")  # fills the piece cache with " zebra", which is no token of the vocabulary
    gone = weakref.ref(tok)
    data = pickle.dumps(tok)
    assert b"zebra" not in data  # the cache is not shipped with a tokenizer
    clone = pickle.loads(data)
    assert clone.encode("the zebra sat") == ids and clone == tok
    was_enabled = gc.isenabled()
    gc.disable()  # freed by reference counting alone: no cycle waits for the collector
    try:
        del tok
        assert gone() is None
    finally:
        if was_enabled:
            gc.enable()
