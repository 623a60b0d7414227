"""Our own format (one JSON file, see :meth:`Tokenizer.to_dict`) read from its parsed JSON.

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> tokviz_from_dict(tok.to_dict()).merges == tok.merges
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokviz.prefix_space import PrefixSpaceTokenizer
from tokviz.tokenizer import Tokenizer


def tokviz_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Tokenizer:
    """Our own format (see :meth:`Tokenizer.to_dict`), plus the ``add_prefix_space`` flag a HF import may carry."""
    tok = Tokenizer.from_dict(data, source=source)
    if data.get("add_prefix_space"):
        return PrefixSpaceTokenizer(tok.vocab, tok.merges, tok.special_tokens, tok.pattern, name=tok.name)
    return tok
