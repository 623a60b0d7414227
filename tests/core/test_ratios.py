"""Compression ratio and token-length histograms."""

from __future__ import annotations

import pytest
from reference import length_histogram

from tokviz import train_bpe
from tokviz.core.ratios import compression_ratio
from tokviz.models.baselines import ByteTokenizer


def test_compression_ratio_is_bytes_per_token() -> None:
    tok = train_bpe(["hello hello hello world"], vocab_size=270)
    text = "hello world"
    assert compression_ratio(text, tok) == pytest.approx(len(text.encode()) / len(tok.encode(text)))
    assert compression_ratio(text, tok) > compression_ratio(text, ByteTokenizer()) == 1.0


def test_empty_text_has_ratio_zero() -> None:
    assert compression_ratio("", ByteTokenizer()) == 0.0


def test_length_histogram_is_sorted_by_length() -> None:
    assert length_histogram([b"abc", b"a", b"b", b"\xf0\x9f\x8c\x8d"]) == {1: 2, 3: 1, 4: 1}
    assert list(length_histogram([b"aaaa", b"a"])) == [1, 4]
