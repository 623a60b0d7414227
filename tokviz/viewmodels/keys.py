"""Cache keys for tokenizer objects: the one way every page tells cached results of two tokenizers apart.

A tokenizer is passed to Streamlit's caches unhashed (``_tok``); the key stands for it. ``id()`` tells apart two
tokenizers that had the same name in turn (one removed, another loaded or trained again), and the class and size
keep a reused ``id()`` from meaning an old entry.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> b = ByteTokenizer()
    >>> tokenizer_key("byte", b) == tokenizer_key("byte", b), tokenizer_key("byte", b) == tokenizer_key("x", b)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping

from tokviz.core.protocol import TokenizerLike


def tokenizer_key(name: str, tok: TokenizerLike) -> str:
    """A string that changes whenever ``name`` stands for another tokenizer object."""
    return f"{name}|{type(tok).__name__}|{getattr(tok, 'vocab_size', 0)}|{id(tok)}"


def tokenizers_key(tokenizers: Mapping[str, TokenizerLike]) -> str:
    """One key for a whole set of named tokenizers, in order."""
    return "||".join(tokenizer_key(n, t) for n, t in tokenizers.items())
