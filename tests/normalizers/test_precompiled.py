"""SentencePiece's compiled character map (``Precompiled``) and ``Nmt``, run as Hugging Face ``tokenizers`` runs them:
the normalized text and every character's offsets equal ``tokenizers``' on a real map (from a SentencePiece model this
test trains with ``nmt_nfkc`` rules) and on hypothesis text; and whole ``tokenizer.json`` files carrying them (a
T5-style Unigram converted from that model, and a Unigram that ``tokenizers``' own ``SentencePieceUnigramTokenizer``
trains, which writes ``Nmt``) give ``tokenizers``' ids and offsets.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.formats.dispatch import load_tokenizer
from tokviz.normalizers.nmt import Nmt
from tokviz.normalizers.precompiled import Precompiled, build_charsmap

tokenizers = pytest.importorskip("tokenizers")
spm = pytest.importorskip("sentencepiece")

CORPUS = ("Hello world. ｈｅｌｌｏ ①② tab\there ﬁne Ⅻ ™ ㍻ café Ｔｏｋｙｏ ｶﾞｷﾞ ½ x²\n"
          "The quick brown fox jumps over the lazy dog. 東京の大学で言語を学ぶ。 한국어 처리\n") * 40
#: Characters the nmt_nfkc map changes (full-width, compatibility, controls, spaces) and ones it keeps.
POOL = (list("aZ é ｈｅ①②\t\n\r™㍻ﬁⅫ½²\x1e\x01\u0301\u200b\ufeff\u00a0\u3000\x7f가각\u1100\u1161\u11a8東京ｶﾞ")
        + ["e\u0301", "\r\n", "ｶ\uff9e", "🇫🇷", "👍🏽", "  ", "\u2581"])
TEXT = st.lists(st.sampled_from(POOL), max_size=10).map("".join) | st.text(max_size=12)


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[tuple[str, float]]]:
    """A SentencePiece Unigram trained with nmt_nfkc rules: its precompiled_charsmap and its pieces with scores."""
    pb = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")
    d = tmp_path_factory.mktemp("spm")
    (d / "corpus.txt").write_text(CORPUS, encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(d / "corpus.txt"), model_prefix=str(d / "m"), vocab_size=120,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc", hard_vocab_limit=False,
                                   minloglevel=2, num_threads=1)
    proto = pb.ModelProto()
    proto.ParseFromString((d / "m.model").read_bytes())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    assert len(charsmap) > 10_000  # the real nmt_nfkc map, not an empty one
    return charsmap, [(p.piece, p.score) for p in proto.pieces]


def _per_char(normalizer: object) -> object:
    """A tokenizers Tokenizer that makes one token per normalized character, so offsets show the alignment."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    tk = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tk.normalizer = normalizer
    tk.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), "isolated")
    return tk


def _check_alignment(ours: Precompiled | Nmt, tk: object, text: str) -> None:
    normalized, align = ours.normalize(text)
    assert normalized == tk.normalizer.normalize_str(text)  # type: ignore[attr-defined]
    assert ours.normalize_text(text) == normalized
    assert align == [tuple(o) for o in tk.encode(text).offsets], text  # type: ignore[attr-defined]


# -- the normalizers alone -----------------------------------------------------------------------------------------
def test_a_real_charsmap_normalizes_and_aligns_as_tokenizers(spm_model) -> None:
    charsmap, _ = spm_model
    ours = Precompiled.from_bytes(charsmap)
    tk = _per_char(tokenizers.normalizers.Precompiled(charsmap))
    for text in ["ｈｅｌｌｏ", "™\x1eg", "\x1eg", "①②", "㍻", "ｶﾞ", "e\u0301", "a\u00a0b", "x\r\ny", "ﬁ", "", "plain"]:
        _check_alignment(ours, tk, text)
    assert ours.normalize_text("ｈｅｌｌｏ ™") == "hello TM"


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_precompiled_equals_tokenizers_on_hypothesis_text(spm_model, text: str) -> None:
    charsmap, _ = spm_model
    _check_alignment(Precompiled.from_bytes(charsmap), _per_char(tokenizers.normalizers.Precompiled(charsmap)), text)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_nmt_equals_tokenizers_on_hypothesis_text(text: str) -> None:
    _check_alignment(Nmt(), _per_char(tokenizers.normalizers.Nmt()), text)


def test_a_built_map_is_read_by_tokenizers_the_same_way() -> None:
    # build_charsmap writes the Darts layout; tokenizers' own reader agrees on what it says.
    rules = {"ｈ": "h", "™": "TM", "\x1e": "", "ab": "X", "a": "Y", "ｶﾞ": "ガ"}
    charsmap = build_charsmap(rules)
    ours = Precompiled.from_bytes(charsmap)
    tk = _per_char(tokenizers.normalizers.Precompiled(charsmap))
    for text in ["ｈi™\x1eg", "ab", "abc", "ba", "ｶﾞｶ", "\x1e", "\x1e\x1eq", "™\x1e"]:
        _check_alignment(ours, tk, text)


@pytest.mark.parametrize(("data", "message"), [
    (b"\x01", "too short"),
    (b"\x10\x00\x00\x00abcd", "damaged"),
    (b"\x04\x00\x00\x00abcd\xff\xfe", "not UTF-8"),
])
def test_a_damaged_charsmap_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Precompiled.from_bytes(data)
    with pytest.raises(ValueError, match="not base64"):
        Precompiled.from_base64("@@@")


# -- whole tokenizer.json files ------------------------------------------------------------------------------------
def _t5_style_json(charsmap: bytes, pieces: list[tuple[str, float]]) -> dict:
    """A Unigram tokenizer.json as transformers' converter writes one for a SentencePiece model (T5, ALBERT)."""
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "post_processor": None,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 0, "vocab": [[p, s] for p, s in pieces], "byte_fallback": False},
    }


def _check_file(ours, ref, text: str) -> None:
    """Ids equal; offsets equal, except where tokviz's alignment deliberately differs for every file: a ▁ put in
    before the text has no characters of its own (``tokenizers`` gives it the first character's range), and where
    characters were joined (below)."""
    got = ours.encode_with_offsets(text)
    want = ref.encode(text, add_special_tokens=False)
    offsets = want.offsets
    assert ours.encode(text) == got.ids == want.ids, text
    for (s, e), (hs, he), tid in zip(got.char_spans, offsets, got.ids, strict=True):
        if s == e:
            assert set(ours.piece(tid)) == {"▁"}, (text, tid)
        elif (s, e) != (hs, he):
            # Where the other steps of these files (Replace " {2,}", NFKC) join characters, tokviz points the new
            # character at all it came from and tokenizers at one of them (tokviz.normalizers.components says why):
            # tokviz's span then holds tokenizers'.
            assert s <= hs < he <= e, (text, ours.piece(tid), (s, e), (hs, he))


@pytest.fixture(scope="module")
def files(spm_model, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tokenizers import SentencePieceUnigramTokenizer

    d = tmp_path_factory.mktemp("files")
    charsmap, pieces = spm_model
    t5 = d / "t5" / "tokenizer.json"
    t5.parent.mkdir()
    t5.write_text(json.dumps(_t5_style_json(charsmap, pieces), ensure_ascii=False), encoding="utf-8")
    trained = SentencePieceUnigramTokenizer()
    trained.train_from_iterator(CORPUS.splitlines(), vocab_size=150, show_progress=False, unk_token="<unk>",
                                special_tokens=["<unk>"])
    nmt = d / "nmt" / "tokenizer.json"
    nmt.parent.mkdir()
    trained.save(str(nmt))
    assert "Nmt" in nmt.read_text(encoding="utf-8")
    return {"t5": t5, "nmt": nmt}


@pytest.mark.parametrize("kind", ["t5", "nmt"])
def test_files_with_these_normalizers_load_and_equal_tokenizers(files, kind: str) -> None:
    path = files[kind]
    ours = load_tokenizer(path)
    ref = tokenizers.Tokenizer.from_file(str(path))
    for text in ["Hello ｗｏｒｌｄ™ ①", "tab\there  two  spaces", "\x01ctrl\x1e and ｶﾞ", "東京の大学", "", "  "]:
        _check_file(ours, ref, text)


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, kind=st.sampled_from(["t5", "nmt"]))
def test_files_with_these_normalizers_equal_tokenizers_on_hypothesis_text(files, text: str, kind: str) -> None:
    path = files[kind]
    _check_file(load_tokenizer(path), tokenizers.Tokenizer.from_file(str(path)), text)


STREAM_POOL = [*POOL, " ", "a ", "x  y", ". ", "\u0600 ", "ｈ "]


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(STREAM_POOL) | st.text(max_size=6), max_size=14).map("".join),
       cuts=st.lists(st.integers(0, 80), max_size=4), target=st.integers(1, 10), kind=st.sampled_from(["t5", "nmt"]))
def test_these_files_stream_in_parts_with_the_whole_texts_ids(files, text: str, cuts: list[int], target: int,
                                                              kind: str) -> None:
    """encode_iterable cuts the text before spaces (these normalizers work character by character, Metaspace splits
    first): the ids are tokenizers' on the whole text."""
    ours = load_tokenizer(files[kind])
    assert ours._streams  # type: ignore[union-attr]
    bounds = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    want = tokenizers.Tokenizer.from_file(str(files[kind])).encode(text, add_special_tokens=False).ids
    assert list(ours.encode_iterable(chunks, chunk_chars=target)) == want  # type: ignore[call-arg]
