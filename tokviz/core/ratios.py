"""Numbers about tokenizations: compression ratio and token-length histograms.

:func:`bytes_per_token` is the one definition of the lecture's compression ratio; every view and report computes it
through this function.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> compression_ratio("héllo", ByteTokenizer()), bytes_per_token(6, 4)
    (1.0, 1.5)
"""

from __future__ import annotations

from tokviz.core.protocol import TokenizerLike, encode_as_shown


def bytes_per_token(n_bytes: int, n_tokens: int) -> float:
    """UTF-8 bytes per token; 0.0 when there are no tokens (an empty text), never a ZeroDivisionError."""
    return n_bytes / n_tokens if n_tokens else 0.0


def compression_ratio(text: str, tokenizer: TokenizerLike) -> float:
    """UTF-8 bytes per token of ``text`` under ``tokenizer`` (0.0 for empty text, which has no tokens)."""
    return bytes_per_token(len(text.encode("utf-8")), len(encode_as_shown(tokenizer, text)))
