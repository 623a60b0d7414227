"""SentencePiece .model files: models the tests train with `sentencepiece` itself (BPE and Unigram, byte fallback),
loaded by content, with sentencepiece's own ids, offsets over the text, decoding and the round trip where lossless.

`sentencepiece` is optional: without it these tests skip, saying so (under CI=true, where requirements.txt installs
it, they fail instead).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import load_tokenizer
from tokviz.analysis.anatomy import bpe_model
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.detect import detect_format
from tokviz.formats.sentencepiece_model import SentencePieceTokenizer, load_sentencepiece, read_options

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI", "").lower() == "true"
try:
    import sentencepiece as spm
except ImportError:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip("sentencepiece is not installed (pip install sentencepiece)", allow_module_level=True)

FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
SAMPLES = ["", " ", "Hello  world", "  leading and trailing  ", "naïve café ÉCOLE ﬁne", "你好，世界！日本語",
           "emoji 🌍🚀 👍🏽 ☃", "tabs\tand\nnewlines\r\n", "1234567890 3.14159", "x" * 300]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
EXTRA = "你好世界，我们在学习。日本語もあります。Ünïcödé ÉCOLE\n" * 5 + "emoji 🌍🚀👍🏽 again\n" * 5


def _train(d: Path, cs336: Path, model_type: str, *, identity: bool = False, vocab: int = 500) -> Path:
    corpus = d / "train.txt"
    if not corpus.exists():
        corpus.write_text("".join((cs336 / f).read_text(encoding="utf-8") for f in FIXTURES) + EXTRA,
                          encoding="utf-8")
    prefix = d / f"{model_type}{'-identity' if identity else ''}"
    options = dict(normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
                   split_by_whitespace=True) if identity else {}
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(prefix), vocab_size=vocab,
                                   model_type=model_type, byte_fallback=True, minloglevel=2, **options)
    return prefix.with_suffix(".model")


CONFIGS = ["bpe", "unigram", "bpe-identity", "unigram-identity"]


@pytest.fixture(scope="module")
def models(cs336_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("spm")
    return {c: _train(d, cs336_dir, c.split("-")[0], identity=c.endswith("identity")) for c in CONFIGS}


def _texts(cs336: Path) -> list[str]:
    return [(cs336 / f).read_text(encoding="utf-8") for f in FIXTURES] + SAMPLES


@pytest.mark.parametrize("config", CONFIGS)
def test_ids_equal_sentencepiece(models: dict[str, Path], cs336_dir: Path, config: str) -> None:
    path = models[config]
    ref = spm.SentencePieceProcessor(model_file=str(path))
    tok = load_tokenizer(path)
    assert isinstance(tok, SentencePieceTokenizer) and isinstance(tok, TokenizerLike)
    assert tok.family == ("bpe-sp" if config.startswith("bpe") else "unigram")
    assert tok.vocab_size == ref.get_piece_size() and tok.unk_id == ref.unk_id()
    for text in _texts(cs336_dir):
        assert tok.encode(text) == ref.encode(text), text[:60]
        assert tok.decode(tok.encode(text)) == ref.decode(ref.encode(text))

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(TEXT)
    def check(text: str) -> None:
        assert tok.encode(text) == ref.encode(text)

    check()


@pytest.mark.parametrize("config", CONFIGS)
def test_offsets_cover_the_original_text(models: dict[str, Path], cs336_dir: Path, config: str) -> None:
    tok = load_sentencepiece(models[config])

    def check_one(text: str) -> None:
        enc = tok.encode_with_offsets(text)
        assert enc.ids == tok.encode(text)
        ends = 0
        for i, (s, e) in enumerate(enc.char_spans):
            assert 0 <= s <= e <= len(text) and s >= min(ends, s)
            piece = tok.piece(enc.ids[i])
            if piece.startswith("<0x") and enc.partial[i]:
                assert len(text[s:e].encode("utf-8")) > 1, (piece, text)
                if config.endswith("identity"):
                    assert e - s == 1, (piece, text)
            elif e > s and config.endswith("identity") and enc.ids[i] != tok.unk_id:
                shown = enc.tokens[i].decode("utf-8").replace("▁", " ")
                assert text[s:e] == shown, (piece, text[s:e])  # nothing normalized
            ends = e
        for g in enc.groups():  # byte pieces of one character: one group, the character's bytes in order
            if len(g) > 1 and config.endswith("identity"):
                s, e = enc.char_spans[g[0]]
                assert b"".join(enc.tokens[i] for i in g) == text[s:e].encode("utf-8")

    for text in _texts(cs336_dir):
        check_one(text)

    @settings(max_examples=40, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        check_one(text)

    check()


def test_byte_fallback_pieces_are_grouped(models: dict[str, Path]) -> None:
    tok = load_sentencepiece(models["bpe"])
    text = "a ☃ b"
    enc = tok.encode_with_offsets(text)
    snow = [i for i, (s, e) in enumerate(enc.char_spans) if text[s:e] == "☃"]
    assert [tok.piece(enc.ids[i]) for i in snow] == ["<0xE2>", "<0x98>", "<0x83>"]
    assert all(enc.partial[i] for i in snow) and snow in enc.groups()
    assert [enc.tokens[i] for i in snow] == [b"\xe2", b"\x98", b"\x83"]


@pytest.mark.parametrize("config", ["bpe-identity", "unigram-identity"])
def test_round_trip_where_lossless(models: dict[str, Path], cs336_dir: Path, config: str) -> None:
    tok = load_sentencepiece(models[config])
    assert tok.lossless
    for text in _texts(cs336_dir):
        assert tok.decode(tok.encode(text)) == text

    @settings(max_examples=80, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        assert tok.decode(tok.encode(text)) == text

    check()


@pytest.mark.parametrize("config", ["bpe", "unigram"])
def test_default_normalizer_is_lossy_and_says_so(models: dict[str, Path], config: str) -> None:
    tok = load_sentencepiece(models[config])
    assert not tok.lossless
    assert tok.decode(tok.encode("a  b")) != "a  b"  # runs of spaces squeezed
    assert read_options(models[config].read_bytes()).model_type == config


def test_detected_by_content_and_no_merges(models: dict[str, Path], tmp_path: Path) -> None:
    renamed = tmp_path / "weights.bin"
    renamed.write_bytes(models["unigram"].read_bytes())
    assert detect_format(renamed)[0] == "sentencepiece"
    tok = load_tokenizer(renamed)
    with pytest.raises(ValueError, match="has no merges"):
        bpe_model(tok)


def test_a_broken_model_file_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.model"
    bad.write_bytes(b"\n\x05\n\x03abc" + b"\xff" * 20)
    with pytest.raises(ValueError, match=r"broken\.model"):
        load_sentencepiece(bad)


# -- real files: Mistral's SentencePiece models, from the mistral-common package ------------------------------------
PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
MISTRAL = ["mistral_common/data/tokenizer.model.v1", "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"]


def _real(member: str) -> Path:
    path = PACKAGES / member
    if not path.is_file():
        msg = f"{path} not found: run python3 scripts/fetch_test_data.py (downloads mistral-common, which ships it)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.mark.parametrize("member", MISTRAL)
def test_mistral_models_give_sentencepiece_ids(member: str, cs336_dir: Path) -> None:
    path = _real(member)
    ref = spm.SentencePieceProcessor(model_file=str(path))
    tok = load_tokenizer(path)  # recognised by content: the name ends in .v1 / .v3
    assert isinstance(tok, SentencePieceTokenizer) and tok.family == "bpe-sp"
    assert tok.vocab_size == ref.get_piece_size() and tok.unk_id == ref.unk_id()
    for text in _texts(cs336_dir):
        ids = tok.encode(text)
        assert ids == ref.encode(text), text[:60]
        assert tok.decode(ids) == ref.decode(ids)
    enc = tok.encode_with_offsets("a \U00013000 b")  # an Egyptian hieroglyph: no piece, so its four bytes
    assert [tok.piece(i) for i, p in zip(enc.ids, enc.partial, strict=True) if p] == [
        "<0xF0>", "<0x93>", "<0x80>", "<0x80>"]
    assert [g for g in enc.groups() if len(g) > 1] and all(
        enc.char_spans[i] == (2, 3) for g in enc.groups() if len(g) > 1 for i in g)

    @settings(max_examples=60, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        assert tok.encode(text) == ref.encode(text)
        assert tok.encode_with_offsets(text).ids == ref.encode(text)

    check()


# -- streaming ------------------------------------------------------------------------------------------------------
STREAM_TEXT = st.lists(st.sampled_from([" ", "  ", "a ", "x  y", "ﬁ ", "ｈ ", "\u0600 ", "e\u0301 ", "\t", "\n", ". ",
                                        "你好 ", "🌍 "]) | TEXT, max_size=8).map("".join)


def _stream_check(tok: SentencePieceTokenizer, ref: object) -> None:
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 200), max_size=4), target=st.integers(1, 10))
    def check(text: str, cuts: list[int], target: int) -> None:
        bounds = sorted({min(c, len(text)) for c in cuts})
        chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
        assert list(tok.encode_iterable(chunks, chunk_chars=target)) == ref.encode(text)  # type: ignore[attr-defined]

    check()


@pytest.mark.parametrize("config", CONFIGS)
def test_a_stream_is_cut_before_spaces_with_the_whole_texts_ids(models: dict[str, Path], config: str) -> None:
    """The models trained here (spaces squeezed and ▁ put first; or neither) are cut before spaces; the ids are
    sentencepiece's on the whole text."""
    tok = load_sentencepiece(models[config])
    assert tok.cuts_at_spaces
    _stream_check(tok, spm.SentencePieceProcessor(model_file=str(models[config])))


@pytest.mark.parametrize("member", MISTRAL)
def test_mistral_models_stream_with_the_whole_texts_ids(member: str) -> None:
    path = _real(member)
    tok = load_sentencepiece(path)
    assert tok.cuts_at_spaces  # a ▁ put first, spaces kept: each later part's first space is dropped
    _stream_check(tok, spm.SentencePieceProcessor(model_file=str(path)))


def test_a_model_that_squeezes_spaces_without_putting_one_first_is_encoded_whole(models: dict[str, Path]) -> None:
    from dataclasses import replace

    tok = load_sentencepiece(models["unigram"])
    odd = SentencePieceTokenizer(tok.processor, replace(tok.options, add_dummy_prefix=False))
    assert not odd.cuts_at_spaces
