"""A rank file's merge list derived in a child process is the one the tokenizer derives itself."""

from __future__ import annotations

import time

import pytest

from tokviz import train_bpe
from tokviz.formats.tiktoken_file import load_tiktoken, save_tiktoken
from tokviz.pages.anatomy_warm import _Warmer


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_the_child_derives_the_same_merges(tmp_path):
    trained = train_bpe(["the cat sat on the mat; the bat ate the hat. " * 40], vocab_size=300, pattern="gpt2")
    path = tmp_path / "small.tiktoken"
    save_tiktoken(trained, path)
    fresh, warmed = load_tiktoken(path, pattern="gpt2"), load_tiktoken(path, pattern="gpt2")
    assert warmed.rule == "ranks" and "merges" not in warmed.__dict__
    w = _Warmer()
    w.submit(warmed)
    w.jobs[id(warmed)].result(timeout=120)
    end = time.monotonic() + 10  # the hand-over runs in the pool's thread, just after the result is set
    while "merges" not in warmed.__dict__ and time.monotonic() < end:
        time.sleep(0.05)
    assert w.pool is not None
    w.pool.shutdown()
    assert "merges" in warmed.__dict__  # handed over before any read
    assert warmed.merges == fresh.merges and len(fresh.merges) > 0
    assert warmed.encode("the cat") == fresh.encode("the cat")
