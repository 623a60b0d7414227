"""A BERT vocab.txt alone, read by tokviz as tokenizers' BERT pipeline reads it (BertWordPieceTokenizer, with the
casing tokviz infers or is told): ids and offsets equal on a real vocabulary (bert-base-chinese's, fetched by
scripts/fetch_test_data.py), on written cased and uncased vocabularies, and on hypothesis text; recognised by
content alone or in its folder, where a tokenizer_config.json's do_lower_case decides the casing.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.formats.bert_vocab import infer_lowercase, load_bert_vocab, read_vocab_lines
from tokviz.formats.dispatch import load_tokenizer

tokenizers = pytest.importorskip("tokenizers")
from tokenizers.implementations import BertWordPieceTokenizer  # noqa: E402

PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
BERT_CHINESE = PACKAGES / "cn_clip" / "clip" / "vocab.txt"
IN_CI = os.environ.get("CI", "").lower() == "true"
SAMPLES = ["Hello, World!", "unaffable Hellos", "北京大学的学生在图书馆里学习。", "Ünïcödé ÀÉÎ café",
           "  spaces\tand\nlines ", "[CLS] a [SEP] b [MASK]", "ＡＢＣ１２３", "x" * 120, "", "emoji 🌍 ☃"]
# The Basic Multilingual Plane: tokenizers' punctuation table is older than Python's (it takes ADLAM INITIAL EXCLAMATION
# MARK, U+1E95E, for a letter), and that is not what these tests are about.
# Characters Unicode 3.2 already had: the Rust crates class characters by older tables than Python's, so a character
# assigned since (U+0898, a mark in Unicode 14) is classed differently by the two (a known, documented difference).
_OLD = st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)).filter(
    lambda c: unicodedata.ucd_3_2_0.category(c) != "Cn")
TEXT = (st.text(alphabet=_OLD, max_size=40)
        | st.text(alphabet="HhEeLlOoSs, !é北京\t\n[]CLS", max_size=30))
WORDS = ["hello", "##s", "world", "un", "##aff", "##able", "caf", "##é", "cafe", ",", "!", "北", "京", "x", "##x"]


def _write(folder: Path, words: list[str], *, config: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n", encoding="utf-8")
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return path


def _check(ours, ref: BertWordPieceTokenizer, text: str) -> None:
    got = ours.encode_with_offsets(text)
    want = ref.encode(text, add_special_tokens=False)
    assert ours.encode(text) == got.ids == want.ids, text
    assert [tuple(s) for s in got.char_spans] == [tuple(o) for o in want.offsets], text


@pytest.mark.parametrize("cased", [False, True])
def test_written_vocabularies_equal_bert_pipeline(tmp_path: Path, cased: bool) -> None:
    words = WORDS + (["Hello", "World", "##S", "Caf", "À", "É"] * 1 if cased else [])
    path = _write(tmp_path / "v", words)
    assert infer_lowercase(read_vocab_lines(path.read_text(encoding="utf-8"))) is not cased
    ours = load_tokenizer(path)
    assert ours.family == "wordpiece" and ours.name == "v"
    ref = BertWordPieceTokenizer(str(path), lowercase=not cased)
    for text in SAMPLES:
        _check(ours, ref, text)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, cased=st.booleans())
def test_written_vocabularies_on_hypothesis_text(tmp_path: Path, text: str, cased: bool) -> None:
    path = _write(tmp_path / ("c" if cased else "u"), WORDS + (["Hello", "##S"] if cased else []))
    _check(load_bert_vocab(path, lowercase=not cased), BertWordPieceTokenizer(str(path), lowercase=not cased), text)


def test_the_casing_can_be_told(tmp_path: Path) -> None:
    path = _write(tmp_path / "told", WORDS, config={"do_lower_case": False})
    assert load_tokenizer(tmp_path / "told").encode("Hello") == [1]  # the config says cased: no "Hello" piece
    assert load_bert_vocab(path, lowercase=True).encode("Hello") == [5]
    assert load_bert_vocab(path).encode("Hello") == [1]


def test_a_folder_with_vocab_txt_loads_it_and_specials_are_special(tmp_path: Path) -> None:
    _write(tmp_path / "m", WORDS)
    tok = load_tokenizer(tmp_path / "m")
    assert tok.encode("[CLS] hello [SEP]") == [2, 5, 3]


def test_a_vocab_without_unk_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\nhello\n##s\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"needs the piece \[UNK\]"):
        load_tokenizer(path)


@pytest.fixture(scope="module")
def real() -> Path:
    if not BERT_CHINESE.is_file():
        msg = f"{BERT_CHINESE} not found: run python3 scripts/fetch_test_data.py (downloads cn-clip, which ships it)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return BERT_CHINESE


def test_the_real_vocabulary_is_read_uncased_and_equals_tokenizers(real: Path, cs336_dir: Path) -> None:
    ours = load_tokenizer(real)  # bert-base-chinese is uncased: inferred from its pieces
    ref = BertWordPieceTokenizer(str(real), lowercase=True)
    assert ours.vocab_size == ref.get_vocab_size() == 21128
    texts = SAMPLES + [(cs336_dir / n).read_text(encoding="utf-8")[:5000] for n in ("corpus.en", "german.txt")]
    for text in texts:
        _check(ours, ref, text)


@pytest.mark.slow  # 3.6 s measured: the full run has it, the quick loop does not
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_the_real_vocabulary_on_hypothesis_text(real: Path, text: str) -> None:
    _check(load_bert_vocab(real), BertWordPieceTokenizer(str(real), lowercase=True), text)
