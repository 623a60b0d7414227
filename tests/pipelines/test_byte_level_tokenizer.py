"""tokenizer.json pipelines (normalizers, pre-tokenizers, added tokens) give `tokenizers`' own ids and offsets.

Every synthetic file is trained by `tokenizers` itself with the component under test set on its Tokenizer
(tests/helpers.py), then read back by both libraries from the same file; ids are compared on the CS336 fixtures,
hand-picked text and hypothesis text (``add_special_tokens=False``: tokviz applies no post-processor template).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from helpers import HF_TRAIN_TEXT, train_hf_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import load_tokenizer
from tokviz.core.protocol import encode_as_shown
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.byte_level_tokenizer import PipelineTokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

hf = pytest.importorskip("tokenizers")
from tokenizers import AddedToken, Regex  # noqa: E402
from tokenizers import normalizers as N  # noqa: E402
from tokenizers import pre_tokenizers as P  # noqa: E402

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

TEXTS = [
    "",
    "Hello, WORLD! It's 2024; we'll see... 1234567890 $3.50 (x+y)^2",
    "  leading spaces, trailing spaces   ",
    "tabs\tand\nnewlines\r\n\r\n \u3000ideographic\u00a0nbsp\u2028line-sep\x1c\x1f",
    "ﬁne ﬂow ＡＢＣ ① ½ é (e\u0301) a\u0301\u0302 İstanbul ΣΑΣ ß Ǆ ﬃ",
    "你好，世界！这是一个测试。日本語のテキストも。한국어 텍스트 \u1100\u1161\u11a8",
    "emoji 🌍🚀 family 👨‍👩‍👧 skin 👍🏽 flags 🇫🇷",
    "a    b", "a  b   c     d",
    "<|endoftext|>start<|endoftext|><|endoftext|> mid <|endoftext|>end",
    "the-final--countdown, a.b..c!", "٣٤ ١٢٣ ¹²³ Ⅻ",
    "Lily's ball  ,ball x<X>TOM tom lily Lilyx ball",
    "x" * 300 + " " + "ab" * 200,
]
# Characters where Unicode libraries like to part ways, plus ordinary text.
ALPHABET = st.sampled_from(list(
    "aAbBzZ09 \t\n\r\u3000\u00a0\u2028\x1c\u0085-_.,!?'\"()$%^<>|éÉßİıΣσςǄﬁﬂ①½ＡＢ٣Ⅻ¹\u0301\u0302\u0327"
    "你好日本語한\u1100\u1161\u11a8🌍👍🏽\u200d") + ["<|endoftext|>", "<X>", "Lily", "ball", "TOM", "    ", "  "])
TEXT = st.lists(ALPHABET, max_size=40).map("".join) | st.text(
    st.characters(blacklist_categories=("Cs", "Cn", "Co")).filter(lambda c: unicodedata.ucd_3_2_0.category(c) != "Cn"),
    max_size=40)

BYTE_LEVEL = P.ByteLevel(add_prefix_space=False, use_regex=False)
BEHAVIORS = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]


def _config(name: str) -> dict[str, Any]:
    normalizers = {
        "nfc": N.NFC(), "nfd": N.NFD(), "nfkc": N.NFKC(), "nfkd": N.NFKD(), "lowercase": N.Lowercase(),
        "strip": N.Strip(), "strip-left": N.Strip(left=True, right=False), "strip-right": N.Strip(left=False),
        "replace": N.Replace(" ", "_"), "replace-regex": N.Replace(Regex(r"\d+|\s{2,}"), "#"),
        "prepend": N.Prepend("▁"),
        "sequence": N.Sequence([N.NFKC(), N.Lowercase(), N.Replace(Regex(r"\s+"), " "), N.Strip()]),
    }
    if name in normalizers:
        return {"normalizer": normalizers[name]}
    pre = {
        "digits": P.Sequence([P.Digits(individual_digits=True), BYTE_LEVEL]),
        "digit-runs": P.Sequence([P.Digits(individual_digits=False), BYTE_LEVEL]),
        "punctuation": P.Sequence([P.Punctuation(), BYTE_LEVEL]),
        "punctuation-contiguous": P.Sequence([P.Punctuation("contiguous"), BYTE_LEVEL]),
        "whitespace": P.Sequence([P.Whitespace(), BYTE_LEVEL]),
        "whitespace-split": P.Sequence([P.WhitespaceSplit(), BYTE_LEVEL]),
        "bytelevel-prefix": P.ByteLevel(add_prefix_space=True),
        "bytelevel-no-regex-prefix": P.ByteLevel(add_prefix_space=True, use_regex=False),
        "split-bytelevel-regex-prefix": P.Sequence([P.Split(Regex(r"\s+"), "isolated"),
                                                    P.ByteLevel(add_prefix_space=True, use_regex=True)]),
        "split-string": P.Sequence([P.Split("-", "removed"), BYTE_LEVEL]),
        "two-splits": P.Sequence([P.Split(Regex(r"\p{N}{1,3}"), "isolated"),
                                  P.Split(Regex(r"[^\s\p{L}\p{N}]+"), "merged_with_next"), P.ByteLevel()]),
        "bytelevel-then-digits": P.Sequence([P.ByteLevel(add_prefix_space=False), P.Digits(individual_digits=True)]),
        "bytelevel-then-split": P.Sequence([P.ByteLevel(add_prefix_space=False), P.Split("Ġ", "merged_with_next")]),
    }
    for behavior in BEHAVIORS:
        for invert in (False, True):
            pre[f"split-{behavior}-{invert}"] = P.Sequence([P.Split(Regex(r"\s+|[,.!?]"), behavior, invert=invert),
                                                           BYTE_LEVEL])
    if name in pre:
        return {"pre_tokenizer": pre[name]}
    added = {
        # GPT-NeoX: runs of spaces added as tokens although they are regular tokens too
        "added-spaces": {"added": ["    ", "   ", "  "], "texts": (HF_TRAIN_TEXT + "def f(x):\n    return x\n" * 30,)},
        "added-options": {"normalizer": N.Lowercase(), "added": [
            AddedToken("Lily", single_word=True), AddedToken("ball", lstrip=True, rstrip=True),
            AddedToken("<X>", normalized=False, special=True), AddedToken("TOM", normalized=True),
            AddedToken("a", single_word=True, normalized=False)]},
        "added-nfkc-prefix": {"normalizer": N.Sequence([N.NFKC(), N.Prepend("▁")]), "added": [
            AddedToken("ﬁne", normalized=True), AddedToken("<X>", normalized=False, lstrip=True)]},
    }
    return added[name]


NORMALIZERS = ["nfc", "nfd", "nfkc", "nfkd", "lowercase", "strip", "strip-left", "strip-right", "replace",
               "replace-regex", "prepend", "sequence"]
PRE_TOKENIZERS = ["digits", "digit-runs", "punctuation", "punctuation-contiguous", "whitespace", "whitespace-split",
                  "bytelevel-prefix", "bytelevel-no-regex-prefix", "split-bytelevel-regex-prefix", "split-string",
                  "two-splits", "bytelevel-then-digits", "bytelevel-then-split"] + [
                  f"split-{b}-{i}" for b in BEHAVIORS for i in (False, True)]
ADDED = ["added-spaces", "added-options", "added-nfkc-prefix"]
ALL = NORMALIZERS + PRE_TOKENIZERS + ADDED
# Where our alignment is Hugging Face's own (no composing, no inserted characters), offsets must equal theirs too.
SAME_OFFSETS = ["nfd", "nfkd", "lowercase", "strip", "strip-left", "strip-right", "replace", "digits", "digit-runs",
                "punctuation", "whitespace", "whitespace-split", "split-string", "bytelevel-then-digits",
                "bytelevel-then-split", "added-spaces", "added-options"] + [
                f"split-{b}-{i}" for b in BEHAVIORS for i in (False, True)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hf-pipelines")
    return {name: train_hf_json(d / f"{name}.json", **_config(name)) for name in ALL}


@pytest.fixture(scope="module")
def fixture_texts(cs336_dir: Path) -> list[str]:
    names = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
    return TEXTS + [(cs336_dir / n).read_text(encoding="utf-8")[:20_000] for n in names]


def _pair(files: dict[str, Path], name: str) -> tuple[Any, Any]:
    return load_tokenizer(files[name]), hf.Tokenizer.from_file(str(files[name]))


@pytest.mark.parametrize("name", ALL)
def test_ids_equal_tokenizers_on_fixtures(name: str, files: dict[str, Path], fixture_texts: list[str]) -> None:
    ours, theirs = _pair(files, name)
    for text in fixture_texts:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids, (name, text[:60])


@pytest.mark.parametrize("name", ALL)
def test_ids_equal_tokenizers_on_hypothesis_text(name: str, files: dict[str, Path]) -> None:
    ours, theirs = _pair(files, name)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(TEXT)
    def check(text: str) -> None:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids

    check()


@pytest.mark.parametrize("name", SAME_OFFSETS)
def test_char_offsets_equal_tokenizers_where_alignment_is_theirs(name: str, files: dict[str, Path],
                                                                 fixture_texts: list[str]) -> None:
    ours, theirs = _pair(files, name)
    for text in fixture_texts:
        expected = [tuple(o) for o in theirs.encode(text, add_special_tokens=False).offsets]
        assert ours.encode_with_offsets(text).char_spans == expected, (name, text[:60])


@pytest.mark.parametrize("name", ALL)
def test_offsets_are_consistent_and_in_the_original_text(name: str, files: dict[str, Path]) -> None:
    ours = load_tokenizer(files[name])

    @settings(max_examples=30, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        enc = ours.encode_with_offsets(text)
        assert enc.ids == encode_as_shown(ours, text)
        assert b"".join(enc.tokens) == ours.decode_bytes(enc.ids)
        assert [e for _, e in enc.byte_spans[:-1]] == [s for s, _ in enc.byte_spans[1:]]
        assert all(0 <= s <= e <= len(text) for s, e in enc.char_spans)
        assert [s for s, _ in enc.char_spans] == sorted(s for s, _ in enc.char_spans)
        for i in range(len(enc)):
            if not enc.partial[i]:
                enc.text_of(i)  # a whole token is whole characters: it decodes

    check()


def test_plain_files_keep_the_fast_tokenizer(files: dict[str, Path], tmp_path: Path) -> None:
    # GPT-2 style (ByteLevel alone) and Llama 3 style (one isolating Split + ByteLevel) need no pipeline.
    assert type(load_tokenizer(train_hf_json(tmp_path / "plain.json"))) is Tokenizer
    split = P.Sequence([P.Split(Regex(r"\p{L}+|\p{N}{1,3}|\s+|[^\s\p{L}\p{N}]+"), "isolated"), BYTE_LEVEL])
    assert type(load_tokenizer(train_hf_json(tmp_path / "split.json", pre_tokenizer=split))) is Tokenizer
    assert type(load_tokenizer(files["bytelevel-prefix"])) is PrefixSpaceTokenizer
    for name in NORMALIZERS + ["added-spaces", "added-options", "whitespace", "split-removed-False"]:
        assert isinstance(load_tokenizer(files[name]), PipelineTokenizer), name


def test_added_token_keeps_its_own_id_when_its_text_is_a_regular_token(files: dict[str, Path]) -> None:
    ours, theirs = _pair(files, "added-spaces")
    two = theirs.token_to_id("  ")
    assert two >= theirs.get_vocab_size(with_added_tokens=False)  # an added id, past the model's vocabulary
    assert theirs.token_to_id("ĠĠ") is not None and theirs.token_to_id("ĠĠ") != two  # also a regular token
    for text in ("a  b", "a    b", "a     b", "x\n    return"):
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids
        assert ours.decode(ours.encode(text)) == text
    assert ours.encode("a  b") == [theirs.token_to_id("a"), two, theirs.token_to_id("b")]


def test_added_token_options_are_honoured(files: dict[str, Path]) -> None:
    ours, theirs = _pair(files, "added-options")
    ids = {s: theirs.token_to_id(s) for s in ("Lily", "ball", "<X>", "TOM", "a")}
    enc = ours.encode_with_offsets("Lilyx Lily  ball  <x><X> tom TOM")
    assert enc.ids == theirs.encode("Lilyx Lily  ball  <x><X> tom TOM", add_special_tokens=False).ids
    assert ids["Lily"] in enc.ids and enc.ids.count(ids["Lily"]) == 1  # single_word: not inside "Lilyx"
    k = enc.ids.index(ids["ball"])
    assert enc.char_spans[k] == (10, 18)  # lstrip and rstrip take the spaces around it
    assert enc.ids.count(ids["<X>"]) == 1  # normalized=False: "<x>" is not it
    assert enc.ids.count(ids["TOM"]) == 2  # normalized=True: lowercased "TOM" matches "tom" and "TOM"
    assert enc.special[enc.ids.index(ids["<X>"])] and not enc.special[enc.ids.index(ids["TOM"])]


def test_offsets_map_normalized_text_back_to_the_original(files: dict[str, Path]) -> None:
    tok = load_tokenizer(files["nfkc"])
    text = "ﬁ ＡＢＣ"
    enc = tok.encode_with_offsets(text)
    assert enc.char_spans[-1][1] == len(text)
    assert "".join(text[s:e] for s, e in dict.fromkeys(enc.char_spans)) == text
    # NFC composes e + U+0301 into one character; its token covers both original characters.
    nfc = load_tokenizer(files["nfc"]).encode_with_offsets("xe\u0301")
    assert nfc.char_spans[-1] == (1, 3)
    assert load_tokenizer(files["nfc"]).decode(nfc.ids) == "x\u00e9"
    # Prepend inserts "▁": its bytes have an empty span before the first character.
    pre = load_tokenizer(files["prepend"]).encode_with_offsets("hi")
    assert pre.char_spans[0][0] == 0 and pre.char_spans[-1][1] == 2
    assert b"".join(pre.tokens) == "▁hi".encode()
    # Replace: the replacement covers what it replaced.
    rep = load_tokenizer(files["replace-regex"]).encode_with_offsets("a 123 b")
    k = next(i for i, t in enumerate(rep.tokens) if b"#" in t)
    assert rep.char_spans[k][1] == 5 and rep.char_spans[k][0] <= 2
    assert rep.char_spans[k + 1][0] == 5


def test_streaming_equals_encode(files: dict[str, Path]) -> None:
    for name in ("added-options", "sequence", "prepend", "bytelevel-then-digits"):
        tok = load_tokenizer(files[name])
        text = "  Once <X>upon a time<|endoftext|> Lily  ball <|endoftext|>  ﬁne 123  " * 40
        chunks = (text[i : i + 7] for i in range(0, len(text), 7))
        assert list(tok.encode_iterable(chunks, chunk_chars=64)) == tok.encode(text), name


def _edit(path: Path, out: Path, change) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


def test_ignore_merges_emits_a_whole_token_no_merge_builds(tmp_path: Path) -> None:
    base = train_hf_json(tmp_path / "base.json", ignore_merges=True)

    def add_token(data: dict) -> None:
        vocab = data["model"]["vocab"]
        vocab["Ġzyxw"] = len(vocab)  # no merge makes it; only ignore_merges can emit it

    path = _edit(base, tmp_path / "ignore.json", add_token)
    ours, theirs = load_tokenizer(path), hf.Tokenizer.from_file(str(path))
    target = theirs.token_to_id("Ġzyxw")
    assert theirs.encode(" zyxw", add_special_tokens=False).ids == [target]
    for text in TEXTS + [" zyxw zyxwv zyxw"]:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids
    assert isinstance(ours, PipelineTokenizer)
    # Without ignore_merges the same file cuts " zyxw" by its merges.
    path2 = _edit(path, tmp_path / "no-ignore.json", lambda d: d["model"].__setitem__("ignore_merges", False))
    ours2, theirs2 = load_tokenizer(path2), hf.Tokenizer.from_file(str(path2))
    assert ours2.encode(" zyxw") == theirs2.encode(" zyxw", add_special_tokens=False).ids != [target]


NEVER_UTF8 = [0xC0, 0xC1, *range(0xF5, 0x100)]


def test_vocabulary_without_the_never_utf8_bytes_loads(tmp_path: Path, fixture_texts: list[str]) -> None:
    from tokviz.pre_tokenizers.byte_level import encode_token

    base = train_hf_json(tmp_path / "base.json")
    drop = {encode_token(bytes([b])) for b in NEVER_UTF8}

    def remove(data: dict) -> None:
        kept = [t for t in sorted(data["model"]["vocab"], key=data["model"]["vocab"].get) if t not in drop]
        data["model"]["vocab"] = {t: i for i, t in enumerate(kept)}  # ids stay dense, as in real files

    path = _edit(base, tmp_path / "short.json", remove)
    ours, theirs = load_tokenizer(path), hf.Tokenizer.from_file(str(path))
    assert ours.vocab_size == theirs.get_vocab_size()
    for text in fixture_texts:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids
    assert max(ours.vocab) == theirs.get_vocab_size() - 1  # the fillers are not part of the vocabulary


def test_vocabulary_missing_a_real_byte_is_refused(tmp_path: Path) -> None:
    from tokviz.pre_tokenizers.byte_level import encode_token

    base = train_hf_json(tmp_path / "base.json")
    gone = encode_token(b"\x01")
    path = _edit(base, tmp_path / "bad.json", lambda d: d["model"]["vocab"].pop(gone))
    with pytest.raises(ValueError, match=r"lacks byte 0x01") as e:
        load_tokenizer(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize(("component", "message"), [
    ({"normalizer": {"type": "Precompiled", "precompiled_charsmap": None}}, "Precompiled normalizer needs a non-empty"),
    ({"normalizer": {"type": "BertNormalizer"}}, "normalizer BertNormalizer is not supported"),
    ({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "StripAccents"}]}},
     "normalizer StripAccents is not supported"),
    ({"pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}}, "pre-tokenizer Metaspace is not supported"),
    ({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "UnicodeScripts"}, {"type": "ByteLevel"}]}},
     "pre-tokenizer UnicodeScripts is not supported"),
    ({"pre_tokenizer": {"type": "Whitespace"}}, "0 ByteLevel steps"),
])
def test_components_tokviz_cannot_run_are_refused_by_name(component: dict, message: str, tmp_path: Path) -> None:
    base = train_hf_json(tmp_path / "base.json")
    path = _edit(base, tmp_path / "x.json", lambda d: d.update(component))
    with pytest.raises(ValueError, match=message) as e:
        load_tokenizer(path)
    assert str(path) in str(e.value)


@pytest.fixture(scope="module")
def llama3(shared_llama3: Path) -> tuple[Any, Any]:
    return load_tokenizer(shared_llama3), hf.Tokenizer.from_file(str(shared_llama3))


@pytest.fixture(scope="module")
def shared_llama3() -> Path:
    from helpers import IN_CI, shared_data_dir

    path = shared_data_dir() / "pretrained" / "llama3-tokenizer.json"
    if not path.is_file():
        msg = f"Llama 3 tokenizer.json not found at {path}; set TOKVIZ_SHARED_DATA to the shared data folder."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def test_llama3_ids_equal_tokenizers(llama3: tuple[Any, Any], fixture_texts: list[str]) -> None:
    ours, theirs = llama3
    assert ours.vocab_size == theirs.get_vocab_size() == 128_256
    for text in fixture_texts + [" Tiếng Việt", "<|begin_of_text|>Hi<|eot_id|>", "<|reserved_special_token_5|>"]:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids, text[:60]

    @settings(max_examples=150, deadline=None)
    @given(TEXT)
    def check(text: str) -> None:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids

    check()


def test_llama3_offsets_equal_tokenizers(llama3: tuple[Any, Any], fixture_texts: list[str]) -> None:
    ours, theirs = llama3
    for text in fixture_texts:
        expected = [tuple(o) for o in theirs.encode(text, add_special_tokens=False).offsets]
        assert ours.encode_with_offsets(text).char_spans == expected, text[:60]


def test_pipeline_saves_back_the_file_it_was_read_from(files: dict[str, Path], tmp_path: Path) -> None:
    from tokviz.formats.hf import save_hf

    ours = load_tokenizer(files["added-options"])
    save_hf(ours, tmp_path / "tokenizer.json")
    back, theirs = load_tokenizer(tmp_path / "tokenizer.json"), hf.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    for text in TEXTS:
        expected = theirs.encode(text, add_special_tokens=False).ids
        assert encode_as_shown(back, text) == encode_as_shown(ours, text) == expected


def test_unicode_forms_align_long_mixed_text_word_by_word(fixture_texts: list[str]) -> None:
    from tokviz.normalizers.components import UnicodeForm

    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        for text in fixture_texts:
            out, align = UnicodeForm(form).normalize(text)  # type: ignore[arg-type]
            assert out == unicodedata.normalize(form, text) and len(align) == len(out)
            assert all(0 <= s < e <= len(text) for s, e in align)
            assert [s for s, _ in align] == sorted(s for s, _ in align)
