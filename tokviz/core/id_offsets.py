"""Offsets from ids: the :class:`~tokviz.core.encoding.Encoding` of ids whose bytes make up a text, its spans and
partial marks computed from the tokens' bytes alone (what a native engine's ids get, since engines give no offsets).

Short encodings sum in Python; from :data:`ARRAY_AT` tokens, with numpy installed, the same sums run as array
operations (:mod:`tokviz.core.array_offsets`), with the same results.

Example:
    >>> vocab = {0: b"h", 1: b"\\xc3", 2: b"\\xa9"}
    >>> encoding_from_ids([0, 1, 2], vocab, ByteTables.of(vocab), ascii_text=False, special=[False] * 3,
    ...                   pieces=[]).char_spans
    [(0, 1), (1, 2), (1, 2)]
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, compress
from types import ModuleType
from typing import TYPE_CHECKING

from tokviz.core.encoding import Encoding, Piece, Spans, TokenBytes

if TYPE_CHECKING:
    from tokviz.core.array_offsets import ArrayTables


@dataclass(frozen=True)
class ByteTables:
    """Per id, what offsets need from a token's bytes: its length, how many characters start in it, and whether
    its first byte continues a character begun in the token before (a UTF-8 continuation byte, 0x80–0xBF).

    >>> t = ByteTables.of({0: b"a", 1: b"\\xc3", 2: b"\\xa9!"})
    >>> t.lengths, t.starts, t.continues
    ([1, 1, 2], [1, 1, 1], [False, False, True])
    """

    lengths: list[int]
    starts: list[int]
    continues: list[bool]

    @classmethod
    def of(cls, vocab: Mapping[int, bytes]) -> ByteTables:
        size = max(vocab, default=-1) + 1
        lengths, starts, continues = [0] * size, [0] * size, [False] * size
        for i, t in vocab.items():
            lengths[i] = len(t)
            starts[i] = len(t.translate(None, _CONTINUATION))
            continues[i] = bool(t) and 0x80 <= t[0] < 0xC0
        return cls(lengths, starts, continues)

    @cached_property
    def arrays(self) -> ArrayTables | None:
        """These tables as numpy arrays, or None without numpy (made on first use, once per vocabulary)."""
        arrays = _array_offsets()
        return None if arrays is None else arrays.ArrayTables.of(self)


def _array_offsets() -> ModuleType | None:
    try:
        from tokviz.core import array_offsets
    except ImportError:  # numpy is an extra
        return None
    return array_offsets


# Encodings of at least this many tokens sum their offsets with numpy when it is installed (a few microseconds of
# set-up each; on a million tokens 0.02 s against 0.18 s).
ARRAY_AT = 1 << 12

_CONTINUATION = bytes(range(0x80, 0xC0))


def encoding_from_ids(
    ids: list[int],
    vocab: Mapping[int, bytes],
    tables: ByteTables,
    *,
    ascii_text: bool,
    special: list[bool],
    pieces: Sequence[Piece],
) -> Encoding:
    """The :class:`Encoding` of ``ids`` whose bytes concatenate to the UTF-8 of a text (``ascii_text``: that text is
    ASCII), with the spans and partial marks :func:`tokviz.models.bpe.encoding_from_pieces` gives, computed from the
    tokens' bytes alone: a token's character span starts at the character holding its first byte and ends after the
    one holding its last; it is partial when it starts or ends inside a character.

    >>> vocab = {0: b"a", 1: b"\\xc3", 2: b"\\xa9", 3: b"!"}
    >>> enc = encoding_from_ids([0, 1, 2, 3], vocab, ByteTables.of(vocab), ascii_text=False, special=[False] * 4,
    ...                         pieces=[])
    >>> enc.char_spans, enc.partial
    ([(0, 1), (1, 2), (1, 2), (2, 3)], [False, True, True, False])
    """
    if len(ids) >= ARRAY_AT and (arrays := tables.arrays) is not None:
        from tokviz.core.array_offsets import encoding_from_id_array

        return encoding_from_id_array(ids, vocab, arrays, ascii_text=ascii_text, special=special, pieces=pieces)
    with _collector_paused():
        return _encoding_from_ids(ids, vocab, tables, ascii_text=ascii_text, special=special, pieces=pieces)


@contextmanager
def _collector_paused() -> Iterator[None]:
    # Millions of new tuples and lists set off the cyclic garbage collector again and again while nothing they
    # hold can form a cycle: a first call on 5 MB of text took 10-22% less time without it. The thread that paused
    # it turns it back on (another thread's pause finding it off leaves it alone), so it is never left off.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _encoding_from_ids(ids: list[int], vocab: Mapping[int, bytes], tables: ByteTables, *, ascii_text: bool,
                       special: list[bool], pieces: Sequence[Piece]) -> Encoding:
    tokens = TokenBytes(ids, vocab)
    bounds = list(accumulate(map(tables.lengths.__getitem__, ids), initial=0))
    byte_spans = Spans(bounds[:-1], bounds[1:])
    if ascii_text:
        return Encoding(ids, tokens, byte_spans, byte_spans, [False] * len(ids), pieces, special)
    chars = list(accumulate(map(tables.starts.__getitem__, ids), initial=0))
    # Tokens that begin inside a character are few (byte pieces of rare characters): fix those alone.
    starts, partial = chars[:-1], [False] * len(ids)
    for i in compress(range(len(ids)), map(tables.continues.__getitem__, ids)):
        starts[i] -= 1
        partial[i] = True
        if i:
            partial[i - 1] = True
    return Encoding(ids, tokens, byte_spans, Spans(starts, chars[1:]), partial, pieces, special)
