"""``TokenizerLike``: what every tokenizer tokviz draws, counts or compares can do, whatever its family.

Our BPE :class:`~tokviz.models.bpe.Tokenizer` (and its prefix-space variant), the lecture's baselines
(:mod:`tokviz.models.baselines`) and tokenizers of other families all satisfy it structurally, so views and analyses
take a
``TokenizerLike`` and never need to know which one they hold. Family-specific facts (merges, an unknown id) are read
with ``getattr`` where a view can use them.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz import Tokenizer
    >>> isinstance(ByteTokenizer(), TokenizerLike), isinstance(Tokenizer({i: bytes([i]) for i in range(256)}, []),
    ...                                                         TokenizerLike)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from tokviz.core.encoding import Encoding


@runtime_checkable
class TokenizerLike(Protocol):
    """Encode to ids (with or without offsets), stream, and decode back; a name and a vocabulary size."""

    name: str

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def encode_iterable(self, chunks: Iterable[str]) -> Iterator[int]: ...

    def encode_with_offsets(self, text: str) -> Encoding: ...

    def decode(self, ids: Iterable[int]) -> str: ...

    def decode_bytes(self, ids: Iterable[int]) -> bytes: ...
