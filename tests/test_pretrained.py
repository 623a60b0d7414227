"""Named encodings: found in tiktoken's cache offline, unavailable with a hint otherwise, never a network call."""

from __future__ import annotations

import hashlib
import socket
import tempfile
import time
from pathlib import Path

import pytest

from tokviz import Tokenizer
from tokviz.formats import read_rank_file, save
from tokviz.pretrained import (
    NAMED_ENCODINGS,
    list_encodings,
    load_encoding,
    status,
    tiktoken_cache_dir,
)

tiktoken = pytest.importorskip("tiktoken")

TEXTS = ["Hello world! It's 2024.", "你好 🌍🚀 emoji  \n\n\t x", "<|endoftext|>a<|endoftext|>", "  spaces   here ",
         "x  \n", "a \n\n b  ", "\n \n ", "x\t\t\ny \u00a0\u00a0z  "]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every test here runs with the network unreachable; any attempt is recorded and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
    assert attempts == [], "something tried to reach the network"


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
    assert not status("cl100k_base").available and "turned off" in status("cl100k_base").hint


def test_cache_key_is_tiktokens() -> None:
    from tiktoken.load import read_file_cached  # noqa: F401  (the function whose naming we follow)

    r50k = next(e for e in NAMED_ENCODINGS if e.name == "r50k_base").files[0]
    url = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"
    assert r50k.url == url and r50k.cache_key == hashlib.sha1(url.encode()).hexdigest()


def test_empty_cache_lists_all_unavailable_quickly_with_hints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    t0 = time.perf_counter()
    listed = list_encodings()
    assert time.perf_counter() - t0 < 1.0  # nothing waits on the network
    assert [s.name for s in listed] == ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
    for s in listed:
        assert not s.available
        assert str(tmp_path) in s.hint and "TIKTOKEN_CACHE_DIR" in s.hint and "get_encoding" in s.hint
    with pytest.raises(ValueError, match="not available offline"):
        load_encoding("cl100k_base")
    with pytest.raises(ValueError, match="unknown encoding 'gpt5'"):
        load_encoding("gpt5")


def test_cached_encodings_load_with_tiktoken_ids(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    available = {s.name for s in list_encodings() if s.available}
    assert available == {"gpt2", "r50k_base"}
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
            assert tok.encode(text) == reference.encode(text, allowed_special="all")


def test_damaged_cache_file_is_reported(cache: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "cache"
    damaged.mkdir()
    key = next(e for e in NAMED_ENCODINGS if e.name == "r50k_base").files[0].cache_key
    (damaged / key).write_bytes((cache / key).read_bytes()[:1000])  # a cut-off download
    st = status("r50k_base", cache_dir=damaged)
    assert not st.available and "damaged" in st.hint
