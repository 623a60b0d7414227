"""The counts shown above each tokenization: tokens, characters, UTF-8 bytes and the compression ratio.

Example:
    >>> c = count_tokens("Hello, 🌍!", [1, 2, 3, 4])
    >>> c.tokens, c.characters, c.bytes, c.bytes_per_token
    (4, 9, 12, 3.0)
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass

from tokviz.core.ratios import bytes_per_token


@dataclass(frozen=True)
class TokenCounts:
    """Counts for one text under one tokenizer; ``bytes_per_token`` is the lecture's compression ratio."""

    tokens: int
    characters: int
    bytes: int

    @property
    def bytes_per_token(self) -> float:
        """UTF-8 bytes per token (0.0 for empty text, which has no tokens)."""
        return bytes_per_token(self.bytes, self.tokens)


def count_tokens(text: str, ids: Sized) -> TokenCounts:
    """Counts of ``text`` tokenized as ``ids`` (anything with a length).

    >>> count_tokens("", []).bytes_per_token
    0.0
    """
    return TokenCounts(tokens=len(ids), characters=len(text), bytes=len(text.encode("utf-8")))
