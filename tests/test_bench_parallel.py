"""Parallel encoding equals encoding in one process, whatever the text and the number of workers."""

from __future__ import annotations

import pytest

from bench.parallel import ParallelEncoder, split_safely
from tokviz import Tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown

TEXT = ("Hello  world!\n\n  It's 2024<|endoftext|>   spaces \t\ttabs naïve café 🙃 1234567 don't\r\n" * 400)


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return train_bpe([TEXT], vocab_size=400, special_tokens=["<|endoftext|>"])


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parallel_equals_serial(tok: Tokenizer, workers: int) -> None:
    with ParallelEncoder(tok, workers=workers) as pe:
        assert encode_as_shown(pe, TEXT) == encode_as_shown(tok, TEXT)
        assert pe.encode("short") == tok.encode("short")


def test_split_is_safe_and_complete(tok: Tokenizer) -> None:
    parts = split_safely(TEXT, tok.pretokenizer, 4)
    assert "".join(parts) == TEXT and len(parts) == 4
    assert [i for p in parts for i in encode_as_shown(tok, p)] == encode_as_shown(tok, TEXT)


def test_workers_must_be_positive(tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ParallelEncoder(tok, workers=0)
