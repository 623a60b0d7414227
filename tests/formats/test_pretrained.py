"""Named encodings: built in (package data checked against tiktoken's SHA-256), tiktoken's cache as the second source,
tiktoken's ids, never the network."""

from __future__ import annotations

import gzip
import hashlib
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer
from tokviz.formats import KNOWN_RANK_FILES, read_rank_file, save
from tokviz.formats import pretrained as pt
from tokviz.formats.pretrained import (
    NAMED_ENCODINGS,
    list_encodings,
    list_rank_files,
    load_encoding,
    read_builtin,
    status,
    tiktoken_cache_dir,
)

tiktoken = pytest.importorskip("tiktoken")
openai_public = pytest.importorskip("tiktoken_ext.openai_public")

TEXTS = ["Hello world! It's 2024.", "你好 🌍🚀 emoji  \n\n\t x", "<|endoftext|>a<|endoftext|>", "  spaces   here ",
         "x  \n", "a \n\n b  ", "\n \n ", "x\t\t\ny \u00a0\u00a0z  ", "1234567 numbers 3.14159", "HELLO'S they'RE"]
ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("r50k_base", "p50k_base", "cl100k_base", "o200k_base")
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120) | st.lists(
    st.sampled_from(["Hello", " world", "'s", "'LL", "12345", " ", "\n", "\t", "\r\n", "你好", "🌍", "é", "Δ", "ab" * 5,
                     "<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>"]), max_size=25).map("".join)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test here runs with the network unreachable; any attempt is recorded and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
    assert attempts == [], "something tried to reach the network"


@pytest.fixture
def no_builtins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As if the package data were missing: only tiktoken's cache can provide an encoding."""
    monkeypatch.setattr(pt, "builtin_file", lambda name: tmp_path / "no-data" / f"{name}.tiktoken.gz")
    monkeypatch.setattr(pt, "_BUILT", {})


@pytest.fixture(scope="module")
def cache(gpt2_tokenizer: Tokenizer, cs336_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake tiktoken cache holding r50k_base (written from the GPT-2 files) and gpt2's two original files."""
    d = tmp_path_factory.mktemp("tiktoken-cache")
    by_name = {e.name: e for e in NAMED_ENCODINGS}
    save(gpt2_tokenizer, d / by_name["r50k_base"].files[0].cache_key, format="tiktoken")
    vocab_bpe, encoder_json = by_name["gpt2"].files
    # GPT-2's original vocab.bpe is the merges file with its version line
    merges = (cs336_dir / "gpt2_merges.txt").read_bytes()
    (d / vocab_bpe.cache_key).write_bytes(b"#version: 0.2\n" + merges)
    (d / encoder_json.cache_key).write_bytes((cs336_dir / "gpt2_vocab.json").read_bytes())
    return d


@pytest.fixture(scope="module")
def references(pretrained_dir: Path) -> dict[str, Any]:
    """tiktoken's own encodings, defined by tiktoken_ext/openai_public.py (pattern, special tokens), with the rank
    files read from the shared data instead of downloaded (the hash tiktoken expects is still checked)."""
    d = pretrained_dir
    out = {}
    real = openai_public.load_tiktoken_bpe
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(openai_public, "load_tiktoken_bpe",
                   lambda url, expected_hash: real(str(d / url.rsplit("/", 1)[1]), expected_hash=expected_hash))
        for name in BUILTIN:
            spec = getattr(openai_public, name)()
            out[name] = tiktoken.Encoding(name=f"{name}-local", pat_str=spec["pat_str"],
                                          mergeable_ranks=spec["mergeable_ranks"],
                                          special_tokens=spec["special_tokens"])
    return out


@pytest.fixture(scope="module")
def ours() -> dict[str, Tokenizer]:
    return {name: load_encoding(name) for name in BUILTIN}


# -- the package data ---------------------------------------------------------------------------------------------
def test_package_data_is_the_published_files_and_small(pretrained_dir: Path) -> None:
    total = 0
    for name in BUILTIN:
        gz = ROOT / "tokviz" / "data" / f"{name}.tiktoken.gz"
        total += gz.stat().st_size
        known = next(k for k in KNOWN_RANK_FILES if k.name == name)
        assert hashlib.sha256(read_builtin(name)).hexdigest() == known.sha256
        # gzip -n: no name or time stamp in the header, so the file is the same whoever rebuilds it
        assert gz.read_bytes()[4:8] == b"\0\0\0\0"
        assert read_builtin(name) == (pretrained_dir / f"{name}.tiktoken").read_bytes()
    assert total < 3_500_000, total


def test_pyproject_ships_the_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*.gz" in config["tool"]["setuptools"]["package-data"]["tokviz"]


def test_damaged_package_data_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "cl100k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(b"YQ== 0\n"))
    monkeypatch.setattr(pt, "builtin_file", lambda name: bad)
    monkeypatch.setattr(pt, "_BUILT", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"damaged \(its SHA-256 is not tiktoken's\); reinstall tokviz"):
        read_builtin("cl100k_base")
    with pytest.raises(ValueError, match="not available offline: .*damaged.*not in the local cache"):
        load_encoding("cl100k_base")
    bad.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="cannot be read"):
        read_builtin("cl100k_base")


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_listing_and_importing_read_no_rank_file(tmp_path: Path) -> None:
    # A fresh interpreter: importing tokviz and listing the encodings decompress nothing and build no tokenizer.
    code = (
        "import gzip, sys\n"
        "def refuse(*a, **k): raise AssertionError('a rank file was read')\n"
        "gzip.decompress = refuse\n"
        "import tokviz, tokviz.cli.main\n"
        "from tokviz.formats import pretrained\n"
        "listed = pretrained.list_encodings()\n"
        "assert all(s.available and s.source == 'builtin' for s in listed), listed\n"
        "assert pretrained._BUILT == {}\n"
        "print('ok')\n"
    )
    env = {"TIKTOKEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- built in: tiktoken's ids ---------------------------------------------------------------------------------------
@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_encodings_have_tiktokens_specials_and_ids(name: str, ours: dict[str, Tokenizer],
                                                           references: dict[str, Any], cs336_dir: Path) -> None:
    tok, ref = ours[name], references[name]
    assert tok.name == name and tok.special_ids == ref._special_tokens
    assert max(tok.vocab) + 1 == ref.n_vocab  # tiktoken counts ids up to the highest (cl100k has gaps)
    texts = TEXTS + [(cs336_dir / f).read_text(encoding="utf-8")[:20_000]
                     for f in ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt")]
    for text in texts:
        ids = tok.encode(text, allowed_special="all")
        assert ids == ref.encode(text, allowed_special="all"), text[:40]
        assert tok.decode(ids) == text


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", BUILTIN)
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_builtin_encodings_equal_tiktoken_on_any_text(name: str, text: str, ours: dict[str, Tokenizer],
                                                      references: dict[str, Any]) -> None:
    assert ours[name].encode(text, allowed_special="all") == references[name].encode(text, allowed_special="all")


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_gpt2_is_r50k_base_under_its_own_name(ours: dict[str, Tokenizer], references: dict[str, Any]) -> None:
    gpt2 = load_encoding("gpt2")
    assert gpt2.name == "gpt2" and ours["r50k_base"].name == "r50k_base"  # renaming the copy kept the other
    assert gpt2.vocab is ours["r50k_base"].vocab  # one tokenizer per process, shared
    text = TEXTS[0] + TEXTS[2]
    assert gpt2.encode(text, allowed_special="all") == references["r50k_base"].encode(text, allowed_special="all")


@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
def test_load_tokenizer_takes_the_names_and_files_win(ours: dict[str, Tokenizer], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tok = load_tokenizer("cl100k_base")
    assert tok.name == "cl100k_base" and tok.encode(TEXTS[0]) == ours["cl100k_base"].encode(TEXTS[0])
    assert load_tokenizer("o200k_base", name="mine").name == "mine" and ours["o200k_base"].name == "o200k_base"
    with pytest.raises(ValueError, match="own pattern and special tokens"):
        load_tokenizer("o200k_base", pattern="gpt2")
    # A file named like an encoding is that file.
    monkeypatch.chdir(tmp_path)
    save(load_tokenizer("cl100k_base").prefix(300), tmp_path / "cl100k_base")
    assert load_tokenizer("cl100k_base").vocab_size == 300


def test_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = pt.read_builtin
    monkeypatch.setattr(pt, "_BUILT", {})
    monkeypatch.setattr(pt, "read_builtin", lambda name: reads.append(name) or real(name))
    a, b, c = load_encoding("r50k_base"), load_encoding("r50k_base"), load_encoding("gpt2")
    assert reads == ["r50k_base"] and a is not b and a.vocab is b.vocab is c.vocab


# -- listing --------------------------------------------------------------------------------------------------------
@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_listing_says_built_in_and_cached(cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    listed = list_encodings()
    assert [s.name for s in listed] == ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
    assert all(s.available and s.source == "builtin" and not s.cached and s.paths == () for s in listed)
    assert [s.title for s in listed] == ["GPT-2 · gpt2", "GPT-3 · r50k_base", "Codex · p50k_base",
                                         "GPT-4 · cl100k_base", "GPT-4o · o200k_base"]
    assert "built in (tokviz/data/r50k_base.tiktoken.gz; an alias of r50k_base)" == listed[0].hint
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    cached = {s.name: s for s in list_encodings() if s.cached}
    assert set(cached) == {"gpt2", "r50k_base"} and all(s.source == "builtin" for s in cached.values())
    assert cached["r50k_base"].paths == (cache / NAMED_ENCODINGS[1].files[0].cache_key,)
    assert f"also cached in {cache}" in cached["r50k_base"].hint


def test_other_rank_files_are_listed_with_where_to_get_them() -> None:
    listed = {f.name: f for f in list_rank_files()}
    assert set(listed) == {"whisper-multilingual", "llama3", "llama4", "qwen", "qwen3.5"}
    assert "pip download --no-deps llama-models" in listed["llama3"].hint
    assert "llama_models/llama3/tokenizer.model" in listed["llama3"].hint


# -- tiktoken's cache, the second source ----------------------------------------------------------------------------
def test_cache_dir_follows_tiktoken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    assert tiktoken_cache_dir() == Path(tempfile.gettempdir()) / "data-gym-cache"
    monkeypatch.setenv("DATA_GYM_CACHE_DIR", str(tmp_path / "b"))
    assert tiktoken_cache_dir() == tmp_path / "b"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "a"))
    assert tiktoken_cache_dir() == tmp_path / "a"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert tiktoken_cache_dir() is None
    assert status("cl100k_base").available and not status("cl100k_base").cached


def test_cache_key_is_tiktokens() -> None:
    from tiktoken.load import read_file_cached  # noqa: F401  (the function whose naming we follow)

    r50k = next(e for e in NAMED_ENCODINGS if e.name == "r50k_base").files[0]
    url = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"
    assert r50k.url == url and r50k.cache_key == hashlib.sha1(url.encode()).hexdigest()


def test_without_package_data_an_empty_cache_lists_all_unavailable_with_hints(
        no_builtins: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    listed = list_encodings()  # with the network refused (the autouse fixture): nothing tries it
    for s in listed:
        assert not s.available and s.source == "none"
        assert str(tmp_path) in s.hint and "TIKTOKEN_CACHE_DIR" in s.hint and "get_encoding" in s.hint
    with pytest.raises(ValueError, match="not available offline"):
        load_encoding("cl100k_base")
    with pytest.raises(ValueError, match="unknown encoding 'gpt5'"):
        load_encoding("gpt5")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert "turned off" in status("cl100k_base").hint


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_without_package_data_cached_encodings_load_with_tiktoken_ids(
        no_builtins: None, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    available = {s.name: s.source for s in list_encodings() if s.available}
    assert available == {"gpt2": "cache", "r50k_base": "cache"}
    from tiktoken_ext.openai_public import (
        r50k_pat_str,  # tiktoken's own gpt2/r50k pattern (no download on import)
    )

    ranks = read_rank_file(status("r50k_base").paths[0])
    reference = tiktoken.Encoding("r50k-local", pat_str=r50k_pat_str, mergeable_ranks=ranks,
                                  special_tokens={"<|endoftext|>": 50256})
    for name in ("r50k_base", "gpt2"):
        tok = load_encoding(name)
        assert tok.name == name and tok.special_ids == {"<|endoftext|>": 50256}
        for text in TEXTS:
            assert tok.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_damaged_cache_file_is_reported(no_builtins: None, cache: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "cache"
    damaged.mkdir()
    key = next(e for e in NAMED_ENCODINGS if e.name == "r50k_base").files[0].cache_key
    (damaged / key).write_bytes((cache / key).read_bytes()[:1000])  # a cut-off download
    st_ = status("r50k_base", cache_dir=damaged)
    assert not st_.available and "damaged" in st_.hint
