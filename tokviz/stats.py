"""Numbers about tokenizations: compression ratio and token-length histograms.

Example:
    >>> from tokviz.baselines import ByteTokenizer
    >>> compression_ratio("héllo", ByteTokenizer())
    1.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def compression_ratio(text: str, tokenizer: Any) -> float:
    """UTF-8 bytes per token of ``text`` under ``tokenizer`` (0.0 for empty text, which has no tokens)."""
    n_tokens = len(tokenizer.encode(text))
    return len(text.encode("utf-8")) / n_tokens if n_tokens else 0.0


def length_histogram(tokens: Iterable[bytes]) -> dict[int, int]:
    """How many tokens have each length in bytes, sorted by length."""
    return dict(sorted(Counter(map(len, tokens)).items()))
