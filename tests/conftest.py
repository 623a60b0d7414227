"""Shared fixtures: where the read-only test data lives, and the GPT-2 reference tokenizers built from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository, or ``$TOKVIZ_SHARED_DATA``."""
    env = os.environ.get("TOKVIZ_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def cs336_dir() -> Path:
    """The CS336 fixtures; skipped with a reason when absent, a failure under CI=true."""
    d = shared_data_dir() / "cs336"
    if not (d / "corpus.en").is_file():
        msg = f"CS336 fixtures not found at {d}; set TOKVIZ_SHARED_DATA to the shared data folder."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return d


@pytest.fixture(scope="session")
def gpt2_tokenizer(cs336_dir: Path):
    """Our GPT-2 tokenizer, from the shared vocab.json + merges.txt, with <|endoftext|> special."""
    from tokviz import Tokenizer

    return Tokenizer.from_files(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt", ["<|endoftext|>"])


@pytest.fixture(scope="session")
def tiktoken_gpt2(cs336_dir: Path):
    """tiktoken's GPT-2 encoding built offline from the same files (tiktoken.get_encoding would download)."""
    tiktoken = pytest.importorskip("tiktoken")
    from tokviz.gpt2_files import read_gpt2_files
    from tokviz.pretokenize import GPT2_PATTERN

    vocab, _ = read_gpt2_files(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt")
    ranks = {b: i for i, b in vocab.items() if b != b"<|endoftext|>"}
    return tiktoken.Encoding(
        "gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """An empty tokviz cache folder for one test module, with Streamlit's caches cleared around it.

    AppTest shares ``st.cache_*`` across app instances in one process, so each module starts from empty caches: its
    first run trains the built-ins into this folder, later runs read the in-process or disk cache.
    """
    import streamlit as st

    d = tmp_path_factory.mktemp("tokviz-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKVIZ_CACHE_DIR", str(d))
        st.cache_data.clear()
        st.cache_resource.clear()
        yield d
        st.cache_data.clear()
        st.cache_resource.clear()
