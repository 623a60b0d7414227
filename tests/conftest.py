"""Shared fixtures: where the read-only test data lives, the GPT-2 reference tokenizers built from it, an empty cache
folder per module, and the real-browser fixtures (Debian's Chromium, ``streamlit run`` on a free port, a page)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IN_CI,
    INSTALL_HINT,
    _unavailable,
    shared_data_dir,
    streamlit_server,
)
from helpers import (
    TIMEOUT as BROWSER_TIMEOUT,
)
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from tokviz.formats.gpt2 import load_gpt2

# The test run writes nothing into the checkout: no bytecode caches (here and in every subprocess, which inherits the
# environment), no hypothesis example database (pytest's cache is off in pyproject.toml).
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
settings.register_profile("tokviz", database=None)
settings.load_profile("tokviz")
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "tokviz-hypothesis"))  # its Unicode tables' cache
# scripts/fetch_test_data.py puts third-party packages here; their modules are data for the tests, not tests.
collect_ignore = ["_data"]


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
def pretrained_dir() -> Path:
    """The real tokenizer files (OpenAI rank files, Whisper, Llama 3 tokenizer.json); skipped with a reason when
    absent, a failure under CI=true."""
    d = shared_data_dir() / "pretrained"
    if not (d / "o200k_base.tiktoken").is_file():
        msg = f"Pretrained tokenizer files not found at {d}; set TOKVIZ_SHARED_DATA to the shared data folder."
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return d


@pytest.fixture(scope="session")
def gpt2_tokenizer(cs336_dir: Path):
    """Our GPT-2 tokenizer, from the shared vocab.json + merges.txt, with <|endoftext|> special."""

    return load_gpt2(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt",
                     special_tokens=["<|endoftext|>"], pattern="gpt2")


@pytest.fixture(scope="session")
def tiktoken_gpt2(cs336_dir: Path):
    """tiktoken's GPT-2 encoding built offline from the same files (tiktoken.get_encoding would download)."""
    tiktoken = pytest.importorskip("tiktoken")
    from tokviz.formats.gpt2 import read_gpt2_files
    from tokviz.pre_tokenizers.patterns import GPT2_PATTERN

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


# -- real-browser fixtures (tests marked ``browser``) -----------------------------------------------------------
@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as sp
    except ImportError:
        _unavailable("playwright is not installed: pip install playwright (no browser download needed)")
    if not CHROMIUM.exists():
        _unavailable(INSTALL_HINT)
    return sp


@pytest.fixture(scope="module")
def browser(sync_playwright):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(browser, cache_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(cache_dir)}, log=log) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = ctx.new_page()
    pg.dialogs = []  # every alert/confirm/prompt the page tries to open
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.set_default_timeout(BROWSER_TIMEOUT)
    yield pg
    ctx.close()


