"""The ``tokenizers`` engine of the character-level tokenizer.json families: attached at load, checked per tokenizer,
its ids equal the pure pipeline's on the fixtures, hypothesis text (any character: newer ones are declined) and a
real BERT vocabulary; every Unicode 3.2 code point in three contexts (slow). Its Encodings (encode_with_offsets)
equal the pure pipeline's on the same files and texts."""

from __future__ import annotations

import copy
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.engines import tokenizers_engine as hf
from tokviz.formats.hf_families import family_from_dict

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import Tokenizer as HFTokenizer  # noqa: E402
from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
SAMPLES = ["", " ", "  two  spaces  ", "naïve café ÉCOLE e\u0301 ΣΑΣ ﬁne ß", "你好，世界！日本語。한국어",
           "emoji 🌍🚀 family 👨‍👩‍👧 ☃", "tabs\tand\nnewlines\r\n\x00\x0b\u200b", "[CLS] a [SEP] <s> b </s> <unk>",
           "x" * 250, "a\u166d's \u1885"]
PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
BERT_CHINESE = PACKAGES / "cn_clip" / "clip" / "vocab.txt"
#: A real Unigram model's pieces and scores (k2/icefall; Chinese, Japanese, Cantonese, English, Korean).
UNIGRAM_VOCAB = PACKAGES / "ssentencepiece" / "resources" / "chn_jpn_yue_eng_ko_spectok.bpe.vocab"


def _texts(cs336: Path) -> list[str]:
    return [(cs336 / f).read_text(encoding="utf-8") for f in FIXTURES]


def _data(tok: HFTokenizer, edit: Any = None) -> dict[str, Any]:
    data = json.loads(tok.to_str())
    if edit is not None:
        edit(data)
    return data


def _wordpiece(texts: list[str], **norm: Any) -> dict[str, Any]:
    tok = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(**norm)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, trainer=trainers.WordPieceTrainer(
        vocab_size=700, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False))
    return _data(tok)


def _unigram(texts: list[str], *, nfkc: bool = False) -> dict[str, Any]:
    tok = HFTokenizer(models.Unigram())
    if nfkc:  # T5 and ALBERT style: characters that normalize to several (½, ﬁ, ¨ to a space and a mark)
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainer=trainers.UnigramTrainer(
        vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>", show_progress=False))
    return _data(tok)


def _spbpe(texts: list[str], *, llama: bool) -> dict[str, Any]:
    tok = HFTokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainer=trainers.BpeTrainer(
        vocab_size=700, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False))

    def edit(d: dict[str, Any]) -> None:
        vocab = d["model"]["vocab"]
        vocab.update({f"<0x{b:02X}>": len(vocab) + b for b in range(256)})
        if llama:  # Llama 2's pipeline: the ▁ put in by normalizers, no pre-tokenizer
            d["normalizer"] = {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
            d["pre_tokenizer"] = None
    return _data(tok, edit)


@pytest.fixture(scope="module")
def files(cs336_dir: Path) -> dict[str, dict[str, Any]]:
    texts = _texts(cs336_dir)
    return {"bert-uncased": _wordpiece(texts, lowercase=True),
            "bert-cased-strip": _wordpiece(texts, lowercase=False, strip_accents=True),
            "unigram": _unigram(texts), "bpe-sp": _spbpe(texts, llama=False), "bpe-llama2": _spbpe(texts, llama=True),
            "unigram-nfkc": _unigram(texts + ["½ ﬁ ² Ⅻ ¨ ´ ㈱ ＡＢＣ"], nfkc=True)}


def _pair(data: dict[str, Any]) -> Any:
    tok = hf.attach(family_from_dict(data, source="t/tokenizer.json"), data, start_at=0)
    assert tok.engine is not None and tok.engine.name == "tokenizers", tok.engine.note
    return tok


@pytest.mark.slow  # 3.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", ["bert-uncased", "bert-cased-strip", "unigram", "bpe-sp", "bpe-llama2"])
def test_ids_equal_the_pure_pipeline(files: dict[str, dict[str, Any]], cs336_dir: Path, name: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    tok = _pair(files[name])
    ran: list[int] = []
    native = tok.engine._engine
    encode = native.encode
    monkeypatch.setattr(native, "encode", lambda text: ran.append(1) or encode(text))
    for text in _texts(cs336_dir) + SAMPLES:
        assert tok.encode(text) == tok.pure_ids(text), text[:60]
    assert len(ran) == len(FIXTURES) + len(SAMPLES)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(max_size=80))
    def check(text: str) -> None:
        assert tok.encode(text) == tok.pure_ids(text)

    check()


def _same_encoding(tok: Any, text: str) -> bool:
    """Whether the engine built ``text``'s Encoding (False: it declined) and it is the pure pipeline's, every field."""
    got = tok.engine._engine.encode_with_offsets(text)
    want = tok.pure_encoding(text)
    if got is None:
        assert tok.encode_with_offsets(text) == want
        return False
    for f in ("ids", "tokens", "byte_spans", "char_spans", "partial", "special"):
        assert getattr(got, f) == getattr(want, f), (f, text[:60])
    assert list(got.pieces) == list(want.pieces) and got == want and tok.encode_with_offsets(text) == want
    return True


def _declined(tok: Any, text: str) -> bool:
    """Whether the engine declines ``text`` before its tokens: newer characters, or characters that compose under the
    file's normalization form."""
    return hf.newer_than_unicode_3_2(text) or not tok.engine._engine.tables.takes(text)


OFFSET_TEXT = st.text(max_size=60) | st.lists(st.sampled_from(
    [" ", "  ", "a", "Hello", "e\u0301", "\u00a8", "\u00a0", "½", "ﬁ", "你好", "▁", "<0xE3>", "<s>", "[SEP]", "[UNK]",
     "\t", "\n", "\x00", "ΣΑΣ", "İ", "x" * 120]), max_size=12).map("".join)


def _sums(sums: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settle the offsets rules with numpy masks at every length ("numpy"), or token by token ("python")."""
    import tokviz.core.id_offsets as id_offsets

    if sums == "numpy":
        pytest.importorskip("numpy")
    monkeypatch.setattr(id_offsets, "ARRAY_AT", 0 if sums == "numpy" else 1 << 62)


@pytest.mark.slow  # 5.2 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("sums", ["numpy", "python"])
@pytest.mark.parametrize("name", ["bert-uncased", "bert-cased-strip", "unigram", "bpe-sp", "bpe-llama2",
                                  "unigram-nfkc"])
def test_offsets_equal_the_pure_pipeline(files: dict[str, dict[str, Any]], cs336_dir: Path, name: str, sums: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's Encoding (ids, bytes, spans, partial and special marks, pieces) is the pure pipeline's on the
    fixtures, the samples and the offset probes; only texts with newer characters are declined there. Long texts
    settle the rules with numpy masks (tokviz.engines.piece_arrays), short ones token by token: both, everywhere."""
    _sums(sums, monkeypatch)
    tok = _pair(files[name])
    assert tok.engine._engine.tables is not None, tok.engine._engine.offsets_note
    for text in _texts(cs336_dir):
        assert _same_encoding(tok, text) or _declined(tok, text), text[:60]
    # Samples and probes hold the cases a rule may decline (a lone mark on U+00A8 under NFKC, a spelled byte piece).
    built = [_same_encoding(tok, text) for text in SAMPLES + list(hf.OFFSET_PROBES)]
    assert sum(built) > len(built) // 2

    drawn: list[bool] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(OFFSET_TEXT)
    def check(text: str) -> None:
        drawn.append(_same_encoding(tok, text))

    check()
    assert sum(drawn) > len(drawn) // 3  # many drawn texts go through the engine


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
def test_newer_characters_are_declined(files: dict[str, dict[str, Any]]) -> None:
    tok = _pair(files["bert-uncased"])
    assert tok.engine.encode("plain café 你好") is not None
    for text in ("a 🌍", "a\u0898", "x\u166d", "\u08a0"):
        assert tok.engine.encode(text) is None, text


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
def test_a_tokenizer_the_library_reads_otherwise_stays_pure(files: dict[str, dict[str, Any]]) -> None:
    data = files["unigram"]
    tok = family_from_dict(data, source="t/tokenizer.json")
    assert tok is not None
    tok.pure_ids = lambda text: [0] * len(text)  # type: ignore[method-assign]  # as if the two read it otherwise
    hf.attach(tok, data, start_at=0)
    assert tok.engine.name == "pure" and "other ids" in tok.engine.note
    assert tok.engine.encode("hello") is None


def test_built_on_first_need_and_copied_without_it(files: dict[str, dict[str, Any]]) -> None:
    data = files["bpe-sp"]
    tok = hf.attach(family_from_dict(data, source="t/tokenizer.json"), data, start_at=1000)
    assert tok.engine.name == "pure" and tok.encode("hello world") == tok.pure_ids("hello world")
    long = "hello world " * 100
    assert tok.encode(long) == tok.pure_ids(long) and tok.engine.name == "tokenizers"
    twin = copy.deepcopy(tok)  # the native tokenizer stays with the original
    assert twin.engine is None and twin.encode(long) == tok.encode(long)


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
def test_a_repetitive_long_text_runs_pure_except_for_wordpiece(files: dict[str, dict[str, Any]]) -> None:
    """Ids route per text: a long text of few distinct words goes to the pure pipeline (its piece cache makes it the
    faster), except for WordPiece; ordinary text and short text go to the engine; the ids are the same."""
    looped = "the cat sat on the mat. " * 3000  # 72K characters, 6 distinct words
    varied = " ".join(f"w{i}" for i in range(13_000))
    for name, routes in (("unigram", True), ("bpe-sp", True), ("bert-uncased", False)):
        tok = _pair(files[name])
        native = tok.engine._engine
        assert (native.encode(looped) is None) == routes, name
        assert native.encode(varied) is not None and native.encode(looped[:5000]) is not None
        assert tok.encode(looped) == tok.pure_ids(looped)


def _need(path: Path) -> None:
    if not path.is_file():
        msg = f"{path} not found: run python3 scripts/fetch_test_data.py"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.slow  # 5.5 s measured: the full run has it, the quick loop does not
def test_real_bert_vocabulary(cs336_dir: Path, tmp_path: Path) -> None:
    _need(BERT_CHINESE)
    from tokenizers.implementations import BertWordPieceTokenizer

    path = tmp_path / "tokenizer.json"
    BertWordPieceTokenizer(str(BERT_CHINESE), lowercase=True).save(str(path))
    tok = _pair(json.loads(path.read_text(encoding="utf-8")))
    real = ["北京大学的学生在图书馆里学习自然语言处理。", "ＡＢＣ１２３ ﬁ ² ½ Ⅻ ㈱ 〇"]
    for text in _texts(cs336_dir) + SAMPLES + real:
        assert tok.encode(text) == tok.pure_ids(text), text[:60]
        assert _same_encoding(tok, text) or _declined(tok, text), text[:60]


REAL_ALPHABET = "的一是不了人我在有他这中大来上国个到说们あいうえおカタナ한국어 \t\nab.,!🌍"


@pytest.mark.slow  # 2.8 s measured: the full run has it, the quick loop does not
def test_real_unigram_vocabulary(cs336_dir: Path) -> None:
    """25,055 real pieces and scores, read as a Metaspace Unigram tokenizer.json (as tests/pipelines/test_real_unigram
    builds it): the engine's ids are the pure pipeline's, whole and streamed."""
    _need(UNIGRAM_VOCAB)
    pieces = [line.split("\t") for line in UNIGRAM_VOCAB.read_text(encoding="utf-8").splitlines()]
    data = {"version": "1.0", "added_tokens": [], "normalizer": None,
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            "model": {"type": "Unigram", "unk_id": next(i for i, (p, _) in enumerate(pieces) if p == "<unk>"),
                      "vocab": [[p, float(v)] for p, v in pieces], "byte_fallback": False}}
    tok = _pair(data)
    real = ["北京大学的学生在图书馆里学习自然语言处理。", "東京の大学で自然言語処理を学んでいます", "我哋今日去饮茶啦",
            "한국어 자연어 처리를 공부합니다", "MIXED 中文 English 한국어 にほんご"]
    texts = _texts(cs336_dir) + SAMPLES + real
    for text in texts:
        assert tok.encode(text) == tok.pure_ids(text), text[:60]
        assert _same_encoding(tok, text) or _declined(tok, text), text[:60]
    whole = " ".join(texts)
    assert list(tok.encode_iterable([whole], chunk_chars=3000)) == tok.pure_ids(whole)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet=st.sampled_from(list(REAL_ALPHABET)), max_size=60) | st.text(max_size=40))
    def check(text: str) -> None:
        assert tok.encode(text) == tok.pure_ids(text)
        _same_encoding(tok, text)

    check()


def _unicode_3_2() -> list[str]:
    """Every code point Unicode 3.2 assigned, less the private-use planes 15 and 16."""
    old = unicodedata.ucd_3_2_0
    return [chr(c) for c in range(0xF0000) if not 0xD800 <= c < 0xE000 and old.category(chr(c)) != "Cn"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bert-uncased", "bert-cased-strip", "unigram", "bpe-sp"])
def test_every_unicode_3_2_code_point(files: dict[str, dict[str, Any]], name: str) -> None:
    tok = _pair(files[name])
    native = tok.engine._engine
    for context in ("a{c}'s", " {c}{c}", "1{c}!"):
        texts = [context.format(c=c) for c in _unicode_3_2()]
        kept = [t for t in texts if not hf.newer_than_unicode_3_2(t)]
        assert len(kept) >= len(texts) - 4
        got = native.native.encode_batch(kept, add_special_tokens=False)
        bad = [t for t, g in zip(kept, got, strict=True) if g.ids != tok.pure_ids(t)]
        assert not bad, [hex(ord(t[1])) for t in bad[:10]]


@pytest.mark.slow  # 10-29 s per file measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", ["bert-uncased", "unigram", "unigram-nfkc", "bpe-sp"])
def test_every_unicode_3_2_code_point_with_offsets(files: dict[str, dict[str, Any]], name: str) -> None:
    """The engine's Encoding is the pure pipeline's for every Unicode 3.2 code point between a space and itself (the
    context where marks are inserted before it and a space precedes it); only the composing characters are declined
    behind NFKC."""
    tok = _pair(files[name])
    native = tok.engine._engine
    texts = [f" {c}{c}" for c in _unicode_3_2()]
    kept = [t for t in texts if not hf.newer_than_unicode_3_2(t) and native.tables.takes(t)]
    assert len(kept) >= len(texts) - (1000 if name == "unigram-nfkc" else 4)
    got = native.native.encode_batch(kept, add_special_tokens=False)
    encs = [native.tables.encoding(t, g) for t, g in zip(kept, got, strict=True)]
    assert sum(e is None for e in encs) <= 300
    bad = [t for t, e in zip(kept, encs, strict=True) if e is not None and e != tok.pure_encoding(t)]
    assert not bad, [hex(ord(t[1])) for t in bad[:10]]


STREAM_TEXT = st.lists(st.sampled_from(["a ", "  ", "x  y", "It's ", "e\u0301 ", "你好 ", "🌍 ", "[SEP] ", "<s>", "\n"])
                       | st.text(max_size=12), max_size=12).map("".join)


@pytest.mark.slow  # 1.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", ["bert-uncased", "unigram", "bpe-sp"])
def test_a_stream_goes_through_the_engine_with_the_whole_texts_ids(files: dict[str, dict[str, Any]], cs336_dir: Path,
                                                                   name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """encode_iterable cuts before spaces and hands every part to the engine (no step here reads whether a piece
    starts the text): the ids are the pure pipeline's on the joined text."""
    tok = _pair(files[name])
    assert tok._streams and not tok._asks_first
    parts: list[str] = []
    native = tok.engine._engine
    encode = native.encode
    monkeypatch.setattr(native, "encode", lambda text: parts.append(text) or encode(text))
    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")[:30_000]
    assert list(tok.encode_iterable([text[:7000], text[7000:]], chunk_chars=2000)) == tok.pure_ids(text)
    assert len(parts) >= 10 and "".join(parts) == text

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 150), max_size=4), target=st.integers(1, 10))
    def check(text: str, cuts: list[int], target: int) -> None:
        bounds = sorted({min(c, len(text)) for c in cuts})
        chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
        assert list(tok.encode_iterable(chunks, chunk_chars=target)) == tok.pure_ids(text)

    check()


@pytest.mark.slow  # 2.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("sums", ["numpy", "python"])
@pytest.mark.parametrize("name", ["bert-uncased", "unigram", "bpe-sp", "bpe-llama2"])
@pytest.mark.parametrize("cores", [2, 3])
def test_a_long_text_goes_to_the_engine_in_parts_with_the_whole_texts_encoding(
        files: dict[str, dict[str, Any]], cs336_dir: Path, name: str, cores: int, sums: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_AT characters (lowered here) a text goes to tokenizers in one part per core, encoded as one batch:
    ids and every field of the Encoding are the pure pipeline's on the whole text (the parts' offsets shifted as
    tuples, or as arrays by the numpy rules). Llama 2's normalizer prepends to the text's start, so its texts stay
    whole."""
    from tokviz.pipelines import vocab_pipeline

    _sums(sums, monkeypatch)
    monkeypatch.setattr(vocab_pipeline, "PARALLEL_AT", 8)
    monkeypatch.setattr(vocab_pipeline.os, "cpu_count", lambda: cores)
    tok = _pair(files[name])
    native = tok.engine._engine
    natives = native._natives
    seen: list[int] = []
    monkeypatch.setattr(native, "_natives", lambda parts: seen.append(len(parts)) or natives(parts))
    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")[:40_000]
    assert tok.encode(text) == tok.pure_ids(text)
    assert _same_encoding(tok, text) or _declined(tok, text)
    assert seen and set(seen) == ({1} if name == "bpe-llama2" else {cores}), seen

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(STREAM_TEXT | OFFSET_TEXT)
    def check(text: str) -> None:
        assert tok.encode(text) == tok.pure_ids(text)
        assert _same_encoding(tok, text) or _declined(tok, text)

    check()
    if name != "bpe-llama2":
        assert max(seen) == cores  # drawn texts were cut too


def test_without_tokenizers_nothing_is_attached(files: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
                                                 cs336_dir: Path) -> None:
    """tokenizers is optional: when it cannot be found the tokenizer loads, runs pure and gives the same ids."""
    data = files["bert-uncased"]
    text = _texts(cs336_dir)[0][:20_000]
    want = _pair(data).encode(text)
    real_find = hf.importlib.util.find_spec
    monkeypatch.setattr(hf.importlib.util, "find_spec", lambda name, *a: None if name == hf.NAME else real_find(name))
    assert not hf.installed()
    tok = family_from_dict(data, source="t/tokenizer.json")
    assert tok is not None and tok.engine is None
    assert tok.encode(text) == want
