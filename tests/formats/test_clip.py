"""CLIP-style BPE (an end-of-word suffix, </w>) read by tokviz: a tokenizer.json that `tokenizers` trains here in
CLIP's shape (NFC, whitespace runs to one space, lowercase; CLIP's word pattern; ByteLevel without its regex; BPE with
end_of_word_suffix) and OpenCLIP's merges file read alone (fetched by scripts/fetch_test_data.py from open-clip-torch)
give `tokenizers`' ids and offsets on samples, fixtures and hypothesis text.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.formats.clip import CLIP_WORDS, OPENCLIP_MERGES, load_clip_merges
from tokviz.formats.dispatch import load_tokenizer
from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
OPENCLIP = PACKAGES / "open_clip" / "bpe_simple_vocab_16e6.txt.gz"
IN_CI = os.environ.get("CI", "").lower() == "true"
HF_WORDS = r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
SAMPLES = ["a photo of a cat", "A  Photo\tOF   a DOG!!", "it's 2024, isn't it?", "café naïve Ünïcödé",
           "日本語 テキスト", "emoji 🌍🚀 ☃", "<|startoftext|>a dog<|endoftext|>", "", "   ", "x" * 80, "1234567890",
           "don't we'll they're"]
# Characters Python's Unicode tables know (not Cn): `tokenizers` and `regex` each have their own, newer or older,
# and a letter assigned since (U+323B0) splits differently; that is not what these tests are about.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cn")), max_size=40) | st.text(
    alphabet="aAbB é日 \n\t1.,'!🌍<|>", max_size=30)


def _pipeline(tk: Tokenizer, words: str) -> None:
    tk.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                          normalizers.Lowercase()])
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(words), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()


@pytest.fixture(scope="module")
def clip_json(tmp_path_factory: pytest.TempPathFactory, cs336_dir: Path) -> Path:
    tk = Tokenizer(models.BPE(end_of_word_suffix="</w>", unk_token="<|endoftext|>"))
    _pipeline(tk, HF_WORDS)
    trainer = trainers.BpeTrainer(vocab_size=2000, end_of_word_suffix="</w>", show_progress=False,
                                  special_tokens=["<|startoftext|>", "<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator([(cs336_dir / "tinystories_sample.txt").read_text(encoding="utf-8")], trainer=trainer)
    path = tmp_path_factory.mktemp("clip") / "tokenizer.json"
    tk.save(str(path))
    assert '"end_of_word_suffix":"</w>"' in path.read_text(encoding="utf-8").replace(" ", "")
    return path


def _check(ours, ref: Tokenizer, text: str) -> None:
    got = ours.encode_with_offsets(text)
    want = ref.encode(text, add_special_tokens=False)
    assert ours.encode(text) == got.ids == want.ids, text
    assert [tuple(s) for s in got.char_spans] == [tuple(o) for o in want.offsets], text


def test_a_clip_tokenizer_json_equals_tokenizers(clip_json: Path, cs336_dir: Path) -> None:
    ours, ref = load_tokenizer(clip_json), Tokenizer.from_file(str(clip_json))
    assert ours.vocab_size == ref.get_vocab_size()
    for text in SAMPLES + [(cs336_dir / n).read_text(encoding="utf-8")[:4000] for n in ("corpus.en", "german.txt")]:
        _check(ours, ref, text)
    ids = ours.encode("a photo of a cat")
    assert ours.decode(ids) == "a photo of a cat"
    assert any(ours.piece(i).endswith("</w>") for i in ids)


@pytest.fixture(scope="module")
def clip_pair(clip_json: Path) -> tuple[object, Tokenizer]:
    return load_tokenizer(clip_json), Tokenizer.from_file(str(clip_json))


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_a_clip_tokenizer_json_on_hypothesis_text(clip_pair, text: str) -> None:
    _check(*clip_pair, text)


def test_a_suffix_with_a_regex_byte_level_is_refused_by_name(clip_json: Path, tmp_path: Path) -> None:
    data = json.loads(clip_json.read_text(encoding="utf-8"))
    data["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = True
    bad = tmp_path / "tokenizer.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokenizer\.json: with an end_of_word_suffix, tokviz reads a ByteLevel"):
        load_tokenizer(bad)


@pytest.fixture(scope="module")
def openclip() -> Path:
    if not OPENCLIP.is_file():
        msg = f"{OPENCLIP} not found: run python3 scripts/fetch_test_data.py (downloads open-clip-torch)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return OPENCLIP


def _openclip_reference(path: Path) -> Tokenizer:
    """tokenizers' BPE over the vocabulary OpenCLIP builds from the file, in CLIP's pipeline."""
    lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")[1:OPENCLIP_MERGES + 1]
    merges = [tuple(line.split()) for line in lines]
    chars = list(BYTE_TO_UNICODE.values())
    vocab = {t: i for i, t in enumerate(chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges])}
    tk = Tokenizer(models.BPE(vocab, merges, end_of_word_suffix="</w>"))
    _pipeline(tk, CLIP_WORDS)
    tk.add_special_tokens(["<start_of_text>", "<end_of_text>"])
    return tk


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_openclips_merges_file_alone_equals_tokenizers(openclip: Path, openclip_pair, cs336_dir: Path) -> None:
    ours, ref = load_tokenizer(openclip), openclip_pair[1]
    assert ours.vocab_size == ref.get_vocab_size() == 49408
    assert ours.special_ids == {"<start_of_text>": 49406, "<end_of_text>": 49407}
    assert ours.encode("a photo of a cat") == [320, 1125, 539, 320, 2368]  # CLIP's ids for its usual prompt
    for text in SAMPLES + [(cs336_dir / n).read_text(encoding="utf-8")[:4000] for n in ("corpus.en", "address.txt")]:
        _check(ours, ref, text)
    plain = openclip.parent / "merges_plain.txt"
    plain.write_bytes(gzip.decompress(openclip.read_bytes()))
    try:
        assert load_clip_merges(plain).encode("a photo of a cat") == [320, 1125, 539, 320, 2368]
    finally:
        plain.unlink()


@pytest.fixture(scope="module")
def openclip_pair(openclip: Path) -> tuple[object, Tokenizer]:
    return load_clip_merges(openclip), _openclip_reference(openclip)


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_openclips_merges_file_on_hypothesis_text(openclip_pair, text: str) -> None:
    _check(*openclip_pair, text)


STREAM_TEXT = st.lists(st.sampled_from(["a ", "  ", "\t", "photo", " of", "It's", " <|endoftext|> ", "<|startoftext|>",
                                        "<start_of_text>", "x  y", "Ünï ", "2024! ", "\u0600 ", "e\u0301 "]) | TEXT,
                       max_size=8).map("".join)


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("which", ["clip_pair", "openclip_pair"])
def test_a_stream_is_encoded_in_parts_with_the_whole_texts_ids(request: pytest.FixtureRequest, which: str) -> None:
    """encode_iterable cuts before spaces (CLIP's words hold none; its normalizer works character by character):
    the ids are tokenizers' on the whole text, and a long text goes through in parts."""
    ours, ref = request.getfixturevalue(which)
    assert ours.cut_at_spaces

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=STREAM_TEXT, cuts=st.lists(st.integers(0, 200), max_size=4), target=st.integers(1, 10))
    def check(text: str, cuts: list[int], target: int) -> None:
        bounds = sorted({min(c, len(text)) for c in cuts})
        chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
        assert list(ours.encode_iterable(chunks, chunk_chars=target)) == ref.encode(text, add_special_tokens=False).ids

    check()
    parts: list[str] = []
    encode = ours.encode
    long = "A photo of a cat, it's 2024! " * 400
    try:
        ours.encode = lambda part: parts.append(part) or encode(part)
        assert list(ours.encode_iterable([long], chunk_chars=500)) == ref.encode(long, add_special_tokens=False).ids
    finally:
        del ours.encode
    assert len(parts) >= 20 and max(map(len, parts)) < 1000
