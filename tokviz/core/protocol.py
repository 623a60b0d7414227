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

from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from itertools import islice
from typing import Literal, Protocol, runtime_checkable

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


@runtime_checkable
class SpecialKeywords(Protocol):
    """An encoder with tiktoken's special-token keywords (byte-level BPE): its plain ``encode`` refuses a special
    token in the text, as tiktoken's does, and ``encode_ordinary`` reads it as text."""

    def encode(self, text: str, *, allowed_special: Literal["all"] | AbstractSet[str] = ...,
               disallowed_special: Literal["all"] | Collection[str] = ...) -> list[int]: ...

    def encode_ordinary(self, text: str) -> list[int]: ...


class Encodes(Protocol):
    """Anything that encodes text to ids."""

    def encode(self, text: str) -> list[int]: ...


def encode_as_shown(tok: Encodes, text: str) -> list[int]:
    """Ids of ``text`` as the views draw it: every special token the tokenizer knows is its one id (an encoder with
    tiktoken's keywords is asked for that; the other families always cut their added tokens out).

    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [], special_tokens=["<s>"])
    >>> encode_as_shown(tok, "a<s>")
    [97, 256]
    """
    if isinstance(tok, SpecialKeywords):
        return tok.encode(text, allowed_special="all")
    return tok.encode(text)


@runtime_checkable
class BatchEncoder(Protocol):
    """A streaming encoder that also gives its ids a list at a time (:meth:`tokviz.Tokenizer.encode_batches`)."""

    def encode_batches(self, chunks: Iterable[str]) -> Iterator[list[int]]: ...


def id_batches(tok: TokenizerLike, chunks: Iterable[str], *, size: int = 1 << 16) -> Iterator[list[int]]:
    """``tok.encode_iterable(chunks)``'s ids in lists: the tokenizer's own batches where it gives them, else lists
    of at most ``size`` ids.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> list(id_batches(ByteTokenizer(), ["ab", "c"], size=2))
    [[97, 98], [99]]
    """
    if isinstance(tok, BatchEncoder):
        yield from tok.encode_batches(chunks)
        return
    ids = tok.encode_iterable(chunks)
    while batch := list(islice(ids, size)):
        yield batch
