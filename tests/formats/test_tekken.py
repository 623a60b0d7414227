"""Mistral's tekken.json read by tokviz: ids equal mistral-common's Tekkenizer on the Tekken file mistral-common
ships (its pattern, its 1,000 control tokens and the id offset they imply), on small files the tests write (a v7 file
listing its own control tokens, a vocabulary cut by default_vocab_size), on fixtures and on hypothesis text; the
file is recognised by content through load_tokenizer, alone or in its folder.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.core.protocol import encode_as_shown
from tokviz.formats.dispatch import load_tokenizer
from tokviz.formats.tekken import DEFAULT_CONTROL_TOKENS, load_tekken, tekken_from_dict

tekken_ref = pytest.importorskip("mistral_common.tokens.tokenizers.tekken")
Tekkenizer = tekken_ref.Tekkenizer
FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt",
            "special_token_double_newlines_non_whitespace.txt")
SAMPLES = ["", "Hello world", "  multiple   spaces\n\n\tTabs\r\n", "日本語のテキストと한국어", "emoji 🌍🚀 ☃",
           "Ünïcödé ΑΣ ß İ", "x" * 300, "1234567 numbers 3.14159", "def f(x):\n    return x ** 2  # code",
           "'s 're 've CamelCaseWords UPPER lower", "a\u0301 e\u0300 marks", "\x00\x01 bytes \ufffd"]
TEXT = st.text(max_size=60) | st.text(alphabet="aAbB é日 \n\t1.,'!🌍\u0301", max_size=40)


@pytest.fixture(scope="module")
def shipped() -> tuple[object, object]:
    """The Tekken file mistral-common ships (v3, no special_tokens list: its 20 defaults, filled to 1,000)."""
    path = Path(tekken_ref.__file__).resolve().parents[2] / "data" / "tekken_240911.json"
    if not path.is_file():
        pytest.skip(f"{path} not found: install mistral-common (requirements.txt, test section)")
    return load_tokenizer(path), Tekkenizer.from_file(path)


@pytest.mark.slow  # 1.4 s measured: the full run has it, the quick loop does not
def test_the_shipped_file_has_mistral_commons_ids(shipped) -> None:
    ours, ref = shipped
    assert ours.vocab_size == ref.n_words == 131072
    assert ours.special_ids["[INST]"] == ref.get_special_token("[INST]") == 3
    assert ours.special_ids["<SPECIAL_999>"] == 999 and len(ours.special_ids) == ref.num_special_tokens == 1000
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == ref.encode(text, bos=False, eos=False), text
        assert ours.decode(ours.encode(text)) == text or "\ufffd" in text or "\x00" in text
    # A control token typed in the text is its id (as the Hub's tokenizer.json has it); Tekkenizer reads it as text.
    assert encode_as_shown(ours, "[INST] hi [/INST]") == [3, *ref.encode(" hi ", bos=False, eos=False), 4]


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_the_shipped_file_on_fixtures(shipped, cs336_dir: Path) -> None:
    ours, ref = shipped
    for name in FIXTURES:
        text = (cs336_dir / name).read_text(encoding="utf-8")
        want = ref.encode(text, bos=False, eos=False)
        assert ours.encode_ordinary(text) == want, name
        assert ours.encode_with_offsets(text).ids == want, name  # none of these texts holds a control token


@pytest.mark.slow  # 1.7 s measured: the full run has it, the quick loop does not
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_the_shipped_file_on_hypothesis_text(shipped, text: str) -> None:
    ours, ref = shipped
    assert ours.encode_ordinary(text) == ref.encode(text, bos=False, eos=False)


# -- small files the tests write ---------------------------------------------------------------------------------
def _small(tmp_path: Path, *, version: str = "v7", specials: list[str] | None = None, n_special: int = 8,
           cut: int = 0) -> Path:
    """A Tekken file over a tiny merged vocabulary (bytes, then a few tokens)."""
    extra = [b"he", b"ll", b"hell", b"hello", b" w", b"or", b" wor", b"ld", b" world", b"\xc3\xa9"]
    vocab = [{"rank": i, "token_bytes": base64.b64encode(t).decode(), "token_str": None}
             for i, t in enumerate([bytes([b]) for b in range(256)] + extra)]
    data: dict = {"config": {"pattern": r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s+(?!\S)|\s+",
                             "num_vocab_tokens": len(vocab), "default_vocab_size": len(vocab) + n_special - cut,
                             "default_num_special_tokens": n_special, "version": version},
                  "vocab": vocab}
    if specials is not None:
        data["special_tokens"] = [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(specials)]
    path = tmp_path / "tekken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("specials", "cut"), [(["<unk>", "<s>", "</s>", "[INST]", "[/INST]"], 0),
                                               (["<unk>", "<s>", "</s>"], 4), (None, 0)])
def test_small_files_equal_tekkenizer(tmp_path: Path, specials: list[str] | None, cut: int) -> None:
    path = _small(tmp_path, specials=specials, version="v7" if specials else "v3", n_special=30 if not specials else 8,
                  cut=cut)
    ours, ref = load_tokenizer(path), Tekkenizer.from_file(path)
    assert ours.vocab_size == ref.n_words
    names = specials or list(DEFAULT_CONTROL_TOKENS)
    for i, s in enumerate(names):
        assert ours.special_ids[s] == ref.get_special_token(s) == i
    for text in ["hello world", "hello  world\n", "héllo wörld 42", "", "[INST]x"]:
        assert ours.encode_ordinary(text) == ref.encode(text, bos=False, eos=False), text


def test_a_folder_with_tekken_json_loads_it(tmp_path: Path) -> None:
    path = _small(tmp_path, specials=["<unk>", "<s>"])
    assert load_tokenizer(tmp_path).encode("hello") == load_tekken(path).encode("hello") == [8 + 259]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["config"].pop("pattern"), "not a Tekken file"),
    (lambda d: d["config"].update(default_vocab_size=100), "leaves .* regular tokens"),
    (lambda d: d["vocab"][5].update(token_bytes="!!"), "not base64"),
    (lambda d: d["vocab"][7].update(rank=9), "vocab entry 7 must be"),
    (lambda d: d["vocab"][65].update(token_bytes="Qg=="), "single byte 0x41"),
    (lambda d: d.update(special_tokens=[{"rank": 0, "token_str": "a"}, {"rank": 1, "token_str": "a"}]), "twice"),
    (lambda d: d.update(special_tokens=[{"rank": 0, "token_str": "he"}]), "also a regular token"),
])
def test_damaged_files_are_clear_errors(tmp_path: Path, change, message: str) -> None:
    data = json.loads(_small(tmp_path, specials=["<unk>"]).read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ValueError, match=message):
        tekken_from_dict(data, source="t/tekken.json")


def test_pattern_options_are_refused_for_a_tekken_file(tmp_path: Path) -> None:
    path = _small(tmp_path, specials=["<unk>"])
    with pytest.raises(ValueError, match="carries its own pattern"):
        load_tokenizer(path, pattern="gpt2")
    assert os.path.basename(str(path)) == "tekken.json"
