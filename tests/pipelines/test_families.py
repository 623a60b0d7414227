"""WordPiece, Unigram and SentencePiece-style BPE from tokenizer.json files that `tokenizers` itself trains here:
ids, offsets (against `tokenizers`' own), decode (against its decoders) and the round trip where lossless.

Hypothesis draws text from an alphabet of characters that Python's Unicode tables (3.11: Unicode 14) and the Rust
crates `tokenizers` uses class alike (ASCII, Latin-1 and Latin Extended letters, Greek, CJK, kana, common emoji,
whitespace and controls); characters assigned in recent Unicode versions may be classed differently by the two.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import HF_TRAIN_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.analysis.anatomy import bpe_model
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.formats.hf_families import family_from_dict
from tokviz.models.piece_model import piece_bytes

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import Tokenizer as HFTokenizer  # noqa: E402
from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
SAMPLES = ["", " ", "  leading and trailing  ", "Hello, World! It's 2024.", "naïve café ÉCOLE Ünïcödé",
           "你好，世界！日本語。한국어", "emoji 🌍🚀 family 👨‍👩‍👧 skin 👍🏽", "tabs\tand\nnewlines\r\n\x00\x0b\u200b",
           "Supercalifragilisticexpialidociousnessesesesesesesesesesesesesesesesesesesesess", "1234567890 3.14159",
           "[CLS] a [SEP] <s> b </s> <unk> [UNK]", "x" * 250, "e\u0301 A\u030a \u0130stanbul ΣΑΣ ﬁne ß"]
ALPHABET = (
    [chr(c) for c in range(0x20, 0x7F)] + list("\t\n\r\x00\x0b\x0c\x85\xa0\u2028\u3000\u200b\xad")
    + [chr(c) for c in range(0xC0, 0x250)] + [chr(c) for c in range(0x391, 0x3CA)] + list("\u0301\u0308\u030a")
    + list("你好世界我们在学习日本語中文字漢") + list("あいうえおカタ") + list("한국어") + list("🌍🚀👍🏽👨‍👩‍👧😀")
    + list("，。！？“”—…«»")
)
TEXT = st.text(alphabet=st.sampled_from(ALPHABET), max_size=80)
BYTE_PIECES = [f"<0x{b:02X}>" for b in range(256)]


def _training_texts(cs336: Path) -> list[str]:
    return [HF_TRAIN_TEXT] + [(cs336 / f).read_text(encoding="utf-8") for f in FIXTURES]


def _texts(cs336: Path) -> list[str]:
    return [(cs336 / f).read_text(encoding="utf-8") for f in FIXTURES] + SAMPLES


def _save(tok: HFTokenizer, path: Path, edit=None) -> tuple[Path, HFTokenizer]:
    data = json.loads(tok.to_str())
    if edit is not None:
        edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, HFTokenizer.from_file(str(path))


def _with_bytes(data: dict, *, unigram: bool) -> None:
    """Put the 256 byte-fallback pieces in the model's vocabulary (as Llama 2's files have them), turn it on, and
    decode them back to characters before the Metaspace decoder (as such files do)."""
    data["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, data["decoder"]]}
    model = data["model"]
    model["byte_fallback"] = True
    if unigram:
        low = min(s for _, s in model["vocab"])
        model["vocab"].extend([p, low - 1.0] for p in BYTE_PIECES)
    else:
        n = len(model["vocab"])
        model["vocab"].update({p: n + k for k, p in enumerate(BYTE_PIECES)})


# -- the files: each trained by `tokenizers` ------------------------------------------------------------------------
BERT_VARIANTS = {
    "bert-uncased": dict(lowercase=True),
    "bert-cased": dict(lowercase=False),
    "bert-cased-strip": dict(lowercase=False, strip_accents=True),
    "bert-no-clean": dict(clean_text=False, lowercase=True),
    "bert-no-cjk": dict(handle_chinese_chars=False, lowercase=False, strip_accents=False),
}


def _wordpiece(texts: list[str], path: Path, norm: dict, *, max_chars: int = 100) -> tuple[Path, HFTokenizer]:
    tok = HFTokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=max_chars))
    tok.normalizer = normalizers.BertNormalizer(**norm)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, trainer=trainers.WordPieceTrainer(
        vocab_size=700, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False))
    return _save(tok, path)


def _unigram(texts: list[str], path: Path, *, scheme: str = "always", split: bool = True,
             byte_fallback: bool = False) -> tuple[Path, HFTokenizer]:
    tok = HFTokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split)
    tok.decoder = decoders.Metaspace(prepend_scheme=scheme, split=split)
    tok.train_from_iterator(texts, trainer=trainers.UnigramTrainer(
        vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>", show_progress=False))
    return _save(tok, path, (lambda d: _with_bytes(d, unigram=True)) if byte_fallback else None)


def _spbpe(texts: list[str], path: Path, *, scheme: str = "always", split: bool = True,
           llama: bool = False) -> tuple[Path, HFTokenizer]:
    tok = HFTokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split)
    tok.decoder = decoders.Metaspace(prepend_scheme=scheme, split=split)
    tok.train_from_iterator(texts, trainer=trainers.BpeTrainer(
        vocab_size=700, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False))

    def edit(d: dict) -> None:
        _with_bytes(d, unigram=False)
        if llama:  # Llama 2's pipeline: the ▁ put in by normalizers, no pre-tokenizer, a decoder that undoes both
            d["normalizer"] = {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
            d["pre_tokenizer"] = None
            d["decoder"] = {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return _save(tok, path, edit)


CONFIGS = [*BERT_VARIANTS, "bert-short-words", "unigram-always", "unigram-first", "unigram-never",
           "unigram-nosplit", "unigram-bytes", "unigram-bytes-never", "bpe-always", "bpe-first", "bpe-never",
           "bpe-nosplit", "bpe-never-nosplit", "bpe-llama2"]
LOSSLESS = {"unigram-bytes-never", "bpe-never", "bpe-never-nosplit", "bpe-llama2"}


@pytest.fixture(scope="module")
def trained(cs336_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, HFTokenizer]]:
    d = tmp_path_factory.mktemp("families")
    texts = _training_texts(cs336_dir)
    out: dict[str, tuple[Path, HFTokenizer]] = {}
    for name, norm in BERT_VARIANTS.items():
        out[name] = _wordpiece(texts, d / f"{name}.json", norm)
    out["bert-short-words"] = _wordpiece(texts, d / "short.json", {}, max_chars=8)
    for scheme in ("always", "first", "never"):
        out[f"unigram-{scheme}"] = _unigram(texts, d / f"u-{scheme}.json", scheme=scheme)
        out[f"bpe-{scheme}"] = _spbpe(texts, d / f"b-{scheme}.json", scheme=scheme)
    out["unigram-nosplit"] = _unigram(texts, d / "u-nosplit.json", split=False)
    out["unigram-bytes"] = _unigram(texts, d / "u-bytes.json", byte_fallback=True)
    out["unigram-bytes-never"] = _unigram(texts, d / "u-bytes-never.json", scheme="never", byte_fallback=True)
    out["bpe-nosplit"] = _spbpe(texts, d / "b-nosplit.json", split=False)
    out["bpe-never-nosplit"] = _spbpe(texts, d / "b-never-nosplit.json", scheme="never", split=False)
    out["bpe-llama2"] = _spbpe(texts, d / "b-llama2.json", llama=True)
    return out


def _ours(path: Path):
    tok = family_from_dict(json.loads(path.read_text(encoding="utf-8")), source=str(path))
    assert tok is not None
    tok.engine = None  # the pure pipeline is what these tests compare with tokenizers (its engine: tests/engines)
    return tok


@pytest.fixture(scope="module")
def pairs(trained: dict[str, tuple[Path, HFTokenizer]]) -> dict[str, tuple[object, HFTokenizer]]:
    return {name: (_ours(path), ref) for name, (path, ref) in trained.items()}


def _family_of(config: str) -> str:
    return {"bert": "wordpiece", "unigram": "unigram", "bpe": "bpe-sp"}[config.split("-")[0]]


# -- ids ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS)
def test_ids_equal_tokenizers_on_fixtures(pairs, cs336_dir: Path, config: str) -> None:
    ours, ref = pairs[config]
    assert isinstance(ours, TokenizerLike)
    assert ours.family == _family_of(config)
    for text in _texts(cs336_dir):
        assert encode_as_shown(ours, text) == ref.encode(text, add_special_tokens=False).ids, text[:60]


@pytest.mark.parametrize("config", CONFIGS)
def test_ids_equal_tokenizers_on_drawn_text(pairs, config: str) -> None:
    ours, ref = pairs[config]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(TEXT)
    def check(text: str) -> None:
        assert encode_as_shown(ours, text) == ref.encode(text, add_special_tokens=False).ids

    check()


def test_the_configs_reach_unknown_and_byte_pieces(pairs) -> None:
    """The fixtures above would prove little if nothing were unknown: the files do produce [UNK] and <0xNN>."""
    text = "emoji 🌍 ☃ Ωmega ⅷ"
    wp, ref = pairs["bert-uncased"]
    assert wp.unk_id in wp.encode(text) and wp.unk_id == ref.token_to_id("[UNK]")
    short, _ = pairs["bert-short-words"]
    assert short.encode("extraordinarily") == [short.unk_id]
    uni, _ = pairs["unigram-always"]
    assert uni.unk_id in uni.encode(text)
    for config in ("unigram-bytes", "bpe-always", "bpe-llama2"):
        tok, _ = pairs[config]
        assert "<0xE2>" in [tok.piece(i) for i in tok.encode("☃")], config


# -- offsets --------------------------------------------------------------------------------------------------------
def _check_offsets(ours, ref: HFTokenizer, text: str) -> None:
    enc = ours.encode_with_offsets(text)
    hf = ref.encode(text, add_special_tokens=False)
    offsets = hf.offsets  # a property that converts the whole list on each access: read it once
    assert enc.ids == hf.ids
    assert len(enc.tokens) == len(enc.char_spans) == len(enc.partial) == len(enc.byte_spans) == len(enc.ids)
    for i, (tid, (s, e)) in enumerate(zip(enc.ids, enc.char_spans, strict=True)):
        assert 0 <= s <= e <= len(text)
        piece = ours.piece(tid)
        if tid != ours.unk_id:
            assert enc.tokens[i] == piece_bytes(piece)
        if s == e:  # nothing of the text: a ▁ that was put in
            assert set(piece) == {"▁"}, (piece, text)
            continue
        if piece.startswith("<0x"):
            # tokenizers gives a byte piece the span of the whole unknown run (Unigram) or of its character; we
            # give it its character's, so the bytes of one character are drawn under it.
            assert offsets[i][0] <= s < e <= offsets[i][1], (i, piece)
        else:
            assert (s, e) == offsets[i], (i, piece, text[max(0, s - 20):e + 20])
        if enc.partial[i] and len(piece_bytes(piece)) == 1 and piece.startswith("<0x"):
            assert e - s == 1 and len(text[s].encode("utf-8")) > 1  # a byte of a multi-byte character
    pos = 0
    for s, e in enc.byte_spans:
        assert s == pos
        pos = e
    assert pos == len(ours.decode_bytes(enc.ids)) or ours.unk_id in enc.ids


@pytest.mark.parametrize("config", CONFIGS)
def test_offsets_are_those_of_tokenizers(pairs, cs336_dir: Path, config: str) -> None:
    ours, ref = pairs[config]
    for text in _texts(cs336_dir):
        _check_offsets(ours, ref, text)

    @settings(max_examples=40, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        _check_offsets(ours, ref, text)

    check()


def test_byte_fallback_pieces_are_grouped_under_their_character(pairs) -> None:
    tok, _ = pairs["bpe-always"]
    text = "a ☃ b"
    enc = tok.encode_with_offsets(text)
    world = [i for i, (s, e) in enumerate(enc.char_spans) if text[s:e] == "☃"]
    assert [enc.tokens[i] for i in world] == [bytes([b]) for b in "☃".encode()]
    assert all(enc.partial[i] for i in world) and world in enc.groups()
    assert enc.tokens[0] == "▁a".encode() and enc.char_spans[0] == (0, 1)


def test_wordpiece_marks_are_not_text(pairs) -> None:
    tok, _ = pairs["bert-uncased"]
    text = "Tokenization"
    enc = tok.encode_with_offsets(text)
    assert len(enc) > 1 and all(t.startswith(b"##") for t in enc.tokens[1:])
    assert "".join(text[s:e] for s, e in enc.char_spans) == text
    assert enc.partial == [False] * len(enc)


# -- decoding -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS)
def test_decode_equals_tokenizers_decoder(pairs, cs336_dir: Path, config: str) -> None:
    ours, ref = pairs[config]
    for text in _texts(cs336_dir):
        ids = ours.encode(text)
        assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False), text[:60]

    @settings(max_examples=40, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        ids = ours.encode(text)
        assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False)

    check()


@pytest.mark.parametrize("config", sorted(LOSSLESS))
def test_round_trip_where_lossless(pairs, cs336_dir: Path, config: str) -> None:
    ours, _ = pairs[config]
    assert ours.lossless
    for text in _texts(cs336_dir):
        if not any(t.content in text for t in ours.added):  # lossless is promised for text without added tokens
            assert ours.decode(ours.encode(text)) == text

    @settings(max_examples=60, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
    def check(text: str) -> None:
        assert ours.decode(ours.encode(text)) == text

    check()


def test_after_an_added_token_llama2_prepends_again(pairs) -> None:
    """Why lossless excludes added tokens: each stretch after one is normalized alone, so it gets its own ▁."""
    ours, ref = pairs["bpe-llama2"]
    ids = ours.encode("a</s>b")
    assert ids == ref.encode("a</s>b", add_special_tokens=False).ids
    assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False) == "a</s> b"


@pytest.mark.parametrize("config", sorted(set(CONFIGS) - LOSSLESS))
def test_lossy_configs_say_so_and_do_lose_text(pairs, config: str) -> None:
    ours, _ = pairs[config]
    assert not ours.lossless
    # Each lossy pipeline loses one of these: case, accents, spacing, a leading space, an unknown character.
    lost = [t for t in ("Hello", "café", "a  b", " x", "☃", "a\tb") if ours.decode(ours.encode(t)) != t]
    assert lost, config


# -- what the views ask of a family ---------------------------------------------------------------------------------
@pytest.mark.parametrize("config", ["bert-uncased", "unigram-always"])
def test_no_merges_is_said_plainly(pairs, config: str) -> None:
    ours, _ = pairs[config]
    assert ours.merges == []
    with pytest.raises(ValueError, match="has no merges"):
        bpe_model(ours)


def test_sentencepiece_bpe_exposes_its_merges(pairs, trained) -> None:
    ours, _ = pairs["bpe-always"]
    path, _ = trained["bpe-always"]
    merges = json.loads(path.read_text(encoding="utf-8"))["model"]["merges"]
    first = merges[0].split(" ") if isinstance(merges[0], str) else merges[0]
    assert len(ours.merges) == len(merges) and ours.merges[0] == (first[0].encode(), first[1].encode())


def test_unknown_id_and_vocab(pairs) -> None:
    wp, ref = pairs["bert-cased"]
    assert wp.vocab_size == ref.get_vocab_size() and wp.unk_id == ref.token_to_id("[UNK]")
    sp, ref = pairs["bpe-always"]
    assert sp.vocab_size == ref.get_vocab_size() and sp.unk_id == ref.token_to_id("<unk>")
    assert sp.vocab[ref.token_to_id("<0xF0>")] == b"\xf0"


def test_unigram_ties_fall_as_tokenizers_reads_the_scores() -> None:
    # Read correctly rounded, "a" + "b" scores exactly what "ab" scores (a tie, which keeps "ab"); tokenizers reads
    # "ab"'s score one unit in the last place lower, so "a" "b" wins there. A 1 MB text has such ties (runs of "=").
    v = float("-7.2217645489529705")
    assert (v + 1.0) + -1.0 == v
    data = {"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": None, "post_processor": None,
            "decoder": None, "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": False,
                                       "vocab": [["<unk>", 0.0], ["a", v + 1.0], ["b", -1.0], ["ab", v]]}}
    hf = HFTokenizer.from_str(json.dumps(data))
    ours = family_from_dict(data, source="tie.json")
    assert ours is not None
    assert hf.encode("ab", add_special_tokens=False).ids == [1, 2]  # the case decides: not "ab" (id 3)
    for text in ("ab", "abab", "aab", "abb", "ba"):
        assert encode_as_shown(ours, text) == hf.encode(text, add_special_tokens=False).ids, text


# -- refusals -------------------------------------------------------------------------------------------------------
def test_a_damaged_precompiled_charsmap_is_refused_naming_it(trained) -> None:
    path, _ = trained["unigram-always"]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["normalizer"] = {"type": "Precompiled", "precompiled_charsmap": "ALQCAACEAAAAAACAAQAAgMz8AgC4BQAAhyIAgMzk"}
    with pytest.raises(ValueError, match=r"u-always\.json: precompiled_charsmap .* damaged"):
        family_from_dict(data, source=str(path))
    data["normalizer"] = {"type": "Precompiled", "precompiled_charsmap": ""}
    assert family_from_dict(data, source=str(path)) is not None  # an empty map changes nothing


def test_byte_level_bpe_is_left_to_the_byte_level_reader(trained) -> None:
    data = {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False}}
    assert family_from_dict(data, source="t.json") is None
    assert family_from_dict({"model": {"type": "WordLevel", "vocab": {}}}, source="t.json") is None


def test_malformed_family_files_name_the_file() -> None:
    with pytest.raises(ValueError, match=r"x\.json: Unigram model: \"vocab\" must be"):
        family_from_dict({"model": {"type": "Unigram", "vocab": {"a": 1}}}, source="x.json")
    with pytest.raises(ValueError, match=r"x\.json: BPE model: merge 1 .* not in the vocabulary"):
        family_from_dict({"model": {"type": "BPE", "byte_fallback": True, "vocab": {"a": 0}, "merges": ["a b"]}},
                         source="x.json")


# -- a real file: Google's BERT-base Chinese vocabulary, from the cn-clip package -----------------------------------
PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
BERT_CHINESE = PACKAGES / "cn_clip" / "clip" / "vocab.txt"
IN_CI = os.environ.get("CI", "").lower() == "true"
REAL_SAMPLES = SAMPLES + ["北京大学的学生在图书馆里学习自然语言处理。", "ＡＢＣ１２３ full-width",
                          "unaffable uninstallation", "Chinese-CLIP 中文 CLIP 模型 2022 年发布，支持图文检索！",
                          "ﬁ ﬂ ² ½ Ⅻ ㈱ 〇"]


@pytest.fixture(scope="module", params=[True, False], ids=["uncased", "cased"])
def bert_chinese(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The real vocab.txt in `tokenizers`' BERT pipeline (as transformers builds it from vocab.txt), saved as a
    tokenizer.json that both libraries then read."""
    if not BERT_CHINESE.is_file():
        msg = f"{BERT_CHINESE} not found: run python3 scripts/fetch_test_data.py (downloads cn-clip, which ships it)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from tokenizers.implementations import BertWordPieceTokenizer

    path = tmp_path_factory.mktemp("bert-zh") / "tokenizer.json"
    BertWordPieceTokenizer(str(BERT_CHINESE), lowercase=request.param).save(str(path))
    return _ours(path), HFTokenizer.from_file(str(path))


def test_real_bert_vocabulary_gives_tokenizers_ids(bert_chinese, cs336_dir: Path) -> None:
    ours, ref = bert_chinese
    assert ours.family == "wordpiece" and ours.vocab_size == ref.get_vocab_size() == 21128
    assert ours.unk_id == ref.token_to_id("[UNK]") == 100
    seen_unk = seen_continuation = 0
    for text in _texts(cs336_dir) + REAL_SAMPLES:
        ids = ours.encode(text)
        assert ids == ref.encode(text, add_special_tokens=False).ids, text[:60]
        assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False), text[:60]
        seen_unk += ids.count(ours.unk_id)
        seen_continuation += sum(ours.piece(i).startswith("##") for i in ids)
    assert seen_unk and seen_continuation  # the texts reach [UNK] and ## pieces of the real vocabulary
    for text in REAL_SAMPLES:
        _check_offsets(ours, ref, text)


def test_real_bert_vocabulary_on_drawn_text(bert_chinese) -> None:
    ours, ref = bert_chinese

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(TEXT)
    def check(text: str) -> None:
        assert encode_as_shown(ours, text) == ref.encode(text, add_special_tokens=False).ids
        _check_offsets(ours, ref, text)

    check()


# -- streaming: encode_iterable in parts cut before spaces ----------------------------------------------------------
def _t5_like(data: dict) -> None:
    """T5's normalizer shape (a local step, then runs of spaces to one) and added tokens that eat spaces or hold one,
    unnormalized and normalized."""
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    n = len(data["model"]["vocab"])
    for k, (content, opts) in enumerate([
            ("<mask>", {"lstrip": True}), ("[SEP]", {"rstrip": True}), ("hello world", {}),
            ("<b>", {"single_word": True}), ("zz", {"normalized": True, "special": False})]):
        data["added_tokens"].append({"id": n + k, "content": content, "single_word": False, "lstrip": False,
                                     "rstrip": False, "normalized": False, "special": True} | opts)


def _stripped(data: dict) -> None:
    data["normalizer"] = {"type": "Strip", "strip_left": True, "strip_right": True}


def _space_mark(data: dict) -> None:
    """Spaces become Metaspace's ``▁`` in the normalizer already: Metaspace still splits there."""
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}


def _space_mark_token(data: dict) -> None:
    """As :func:`_space_mark`, with a normalized added token holding a space: in the normalized text it holds a ``▁``
    (no whitespace), and a cut before that space would part it."""
    _space_mark(data)
    data["added_tokens"].append({"id": len(data["model"]["vocab"]), "content": "o t", "single_word": False,
                                 "lstrip": False, "rstrip": False, "normalized": True, "special": False})


def _space_dropped(data: dict) -> None:
    """BERT with spaces removed by the normalizer: the words on either side of a space become one."""
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        data["normalizer"], {"type": "Replace", "pattern": {"String": " "}, "content": ""}]}


@pytest.fixture(scope="module")
def stream_pairs(pairs, trained, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, HFTokenizer]]:
    d = tmp_path_factory.mktemp("streams")
    out = dict(pairs)
    for name, base, edit in (("unigram-t5-like", "unigram-always", _t5_like),
                             ("unigram-strip", "unigram-always", _stripped),
                             ("unigram-space-mark", "unigram-always", _space_mark),
                             ("unigram-space-mark-token", "unigram-always", _space_mark_token),
                             ("bert-space-dropped", "bert-uncased", _space_dropped)):
        path, ref = _save(HFTokenizer.from_file(str(trained[base][0])), d / f"{name}.json", edit)
        out[name] = (_ours(path), ref)
    return out


#: The configurations whose text is cut (the others are encoded whole: no whitespace split first, or a normalizer
#: that looks at where the text starts).
STREAMED = {*BERT_VARIANTS, "bert-short-words", "unigram-always", "unigram-first", "unigram-never", "unigram-bytes",
            "unigram-bytes-never", "bpe-always", "bpe-first", "bpe-never", "unigram-t5-like", "unigram-space-mark"}
PIECES = st.sampled_from(["[CLS]", "[SEP]", "<s>", "</s>", "<unk>", "<mask>", " <mask> ", "hello world", "<b>",
                          "zz", "ZZ", "  ", " ", "a ", " a", "x  y", "ΣΑΣ ", "e\u0301 ", "\r\n", "\u0600 ", "o t",
                          "\u2581"])
STREAM_TEXT = st.lists(st.one_of(TEXT, PIECES), max_size=10).map("".join)


@pytest.mark.parametrize("config", [*CONFIGS, "unigram-t5-like", "unigram-strip", "unigram-space-mark",
                                    "unigram-space-mark-token", "bert-space-dropped"])
def test_streamed_ids_equal_tokenizers_on_the_whole_text(stream_pairs, config: str) -> None:
    ours, ref = stream_pairs[config]
    assert ours._streams == (config in STREAMED)  # type: ignore[attr-defined]

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 300), max_size=5), target=st.integers(1, 12))
    def check(text: str, cuts: list[int], target: int) -> None:
        bounds = sorted({min(c, len(text)) for c in cuts})
        chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
        got = list(ours.encode_iterable(chunks, chunk_chars=target))  # type: ignore[attr-defined]
        assert got == ref.encode(text, add_special_tokens=False).ids

    check()


@pytest.mark.parametrize("config", ["bert-uncased", "unigram-first", "unigram-t5-like"])
def test_a_long_text_is_encoded_in_parts(stream_pairs, cs336_dir: Path, config: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ours, ref = stream_pairs[config]
    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")[:40_000]
    sizes: list[int] = []
    encode = ours._encode  # type: ignore[attr-defined]
    monkeypatch.setattr(ours, "_encode", lambda part, *, first: sizes.append(len(part)) or encode(part, first=first))
    assert list(ours.encode_iterable([text], chunk_chars=2000)) == ref.encode(text, add_special_tokens=False).ids
    assert len(sizes) >= 15 and max(sizes) < 4000 and sum(sizes) == len(text)
