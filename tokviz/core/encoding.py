"""The result of encoding with offsets: parallel sequences, one entry per token (lists, or columns that read as lists).

Modelled on Hugging Face ``tokenizers``' ``Encoding``: ids, the bytes of each token, and where each token sits in the
input, both in UTF-8 bytes and in characters. A byte-level tokenizer can cut a multi-byte character (an emoji, a rare
CJK character) into several tokens; such tokens are marked ``partial`` and all share the span of the character they
belong to, so a renderer can draw them as one group under that character instead of printing "�".

Example:
    >>> enc = Encoding(ids=[0, 1], tokens=[b"\\xf0\\x9f", b"\\x8c\\x8d"], byte_spans=[(0, 2), (2, 4)],
    ...                char_spans=[(0, 1), (0, 1)], partial=[True, True])
    >>> enc.text_of(0) is None, len(enc)
    (True, 2)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Generic, TypeVar, overload

Span = tuple[int, int]
T = TypeVar("T")
C = TypeVar("C", bound=Sized)


@dataclass(frozen=True)
class Piece:
    """One pre-token (or special token) of the input, with its character span ``[start, end)``."""

    text: str
    start: int
    end: int
    special: bool = False


@dataclass(frozen=True)
class Encoding:
    """Ids with their bytes and spans; ``partial[i]`` is True when token i holds only part of a character."""

    ids: list[int]
    tokens: Sequence[bytes]
    byte_spans: Sequence[Span]
    char_spans: Sequence[Span]
    partial: list[bool]
    pieces: Sequence[Piece] = field(default_factory=list)
    special: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def text_of(self, i: int) -> str | None:
        """The token's text, or None when its bytes are only part of a character (never "�")."""
        if self.partial[i]:
            return None
        return self.tokens[i].decode("utf-8")

    @property
    def n_bytes(self) -> int:
        """Total UTF-8 bytes covered by the tokens."""
        return self.byte_spans[-1][1] if self.byte_spans else 0

    def groups(self) -> list[list[int]]:
        """Token indices grouped so that tokens sharing one character span are drawn together.

        >>> enc = Encoding([5, 6, 7], [b"a", b"\\xc3", b"\\xa9"], [(0, 1), (1, 2), (2, 3)],
        ...                [(0, 1), (1, 2), (1, 2)], [False, True, True])
        >>> enc.groups()
        [[0], [1, 2]]
        """
        out: list[list[int]] = []
        for i, span in enumerate(self.char_spans):
            if out and self.partial[i] and self.partial[out[-1][-1]] and self.char_spans[out[-1][-1]][1] > span[0]:
                out[-1].append(i)
            else:
                out.append([i])
        return out


def shared_chars(char_spans: Sequence[Span]) -> list[bool]:
    """Whether each token shares a character of the text with a neighbour (so they are drawn as one group).

    >>> shared_chars([(0, 1), (0, 1), (1, 2)])
    [True, True, False]
    """
    n = len(char_spans)
    out = [False] * n
    for i in range(n - 1):
        (s0, e0), (s1, e1) = char_spans[i], char_spans[i + 1]
        if s0 < e0 and s1 < e1 and s1 < e0:
            out[i] = out[i + 1] = True
    return out


class EncodingBuilder:
    """Collects an encoding token by token; every tokenizer family builds its :class:`Encoding` with one, so offsets
    and partial marks mean the same everywhere.

    Byte spans follow from the tokens' lengths, in order. A token is ``partial`` when it was cut inside a character
    (``cut``) or shares a character with a neighbour.

    >>> b = EncodingBuilder()
    >>> b.add(1, b"\\xc3", (0, 1), cut=True)
    >>> b.add(2, b"\\xa9", (0, 1), cut=True)
    >>> b.add(3, b"!", (1, 2))
    >>> enc = b.build()
    >>> enc.byte_spans, enc.partial
    ([(0, 1), (1, 2), (2, 3)], [True, True, False])
    """

    __slots__ = ("ids", "tokens", "char_spans", "cuts", "special", "pieces")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.tokens: list[bytes] = []
        self.char_spans: list[Span] = []
        self.cuts: list[bool] = []
        self.special: list[bool] = []
        self.pieces: list[Piece] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, tid: int, data: bytes, char_span: Span, *, cut: bool = False, special: bool = False) -> None:
        """One token: its id, the bytes an Encoding shows for it, its character span in the user's text."""
        self.ids.append(tid)
        self.tokens.append(data)
        self.char_spans.append(char_span)
        self.cuts.append(cut)
        self.special.append(special)

    def recut(self, k: int, char_span: Span) -> None:
        """Token ``k`` holds part of the character at ``char_span`` (spelled by several tokens, found later)."""
        self.char_spans[k] = char_span
        self.cuts[k] = True

    def add_piece(self, piece: Piece) -> None:
        """A pre-token (or special token) the tokens were cut from, for the views that draw pieces."""
        self.pieces.append(piece)

    def build(self) -> Encoding:
        bounds = list(accumulate(map(len, self.tokens), initial=0))
        partial = [c or s for c, s in zip(self.cuts, shared_chars(self.char_spans), strict=True)]
        return Encoding(self.ids, self.tokens, Spans(bounds[:-1], bounds[1:]), self.char_spans, partial, self.pieces,
                        self.special)


class ListView(Sequence[T]):
    """A sequence that stands for a list: equal to the list of the same items (either way round), not hashable, and
    shown and pickled as that list. Subclasses give ``__getitem__``, ``__len__`` and ``__iter__``.

    >>> import pickle
    >>> class Squares(ListView[int]):
    ...     def __getitem__(self, i): return i * i
    ...     def __len__(self): return 3
    ...     def __iter__(self): return iter([0, 1, 4])
    >>> Squares() == [0, 1, 4], [0, 1, 4] == Squares(), Squares(), pickle.loads(pickle.dumps(Squares()))
    (True, True, [0, 1, 4], [0, 1, 4])
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, ListView)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self) -> tuple[type[list[T]], tuple[list[T]]]:
        return (list, (list(self),))


class LazyPieces(ListView[Piece]):
    """Pieces computed on first use: an encoding made from an engine's ids has its offsets at once, while its
    pre-token pieces (a regex pass and one object per piece, most of the cost) wait until a view reads them.

    A :class:`ListView` of the pieces.

    >>> lazy = LazyPieces(lambda: [Piece("a", 0, 1)])
    >>> lazy == [Piece("a", 0, 1)], len(lazy), lazy[0].text
    (True, 1, 'a')
    """

    __slots__ = ("_make", "_items", "_lock")

    def __init__(self, make: Callable[[], list[Piece]]) -> None:
        self._make: Callable[[], list[Piece]] | None = make
        self._items: list[Piece] | None = None
        self._lock = threading.Lock()

    @property
    def items(self) -> list[Piece]:
        """The pieces as a list (computed once)."""
        items = self._items
        if items is None:
            with self._lock:
                if self._items is None:
                    assert self._make is not None
                    self._items, self._make = self._make(), None
                items = self._items
        return items

    @overload
    def __getitem__(self, i: int) -> Piece: ...

    @overload
    def __getitem__(self, i: slice) -> list[Piece]: ...

    def __getitem__(self, i: int | slice) -> Piece | list[Piece]:
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Piece]:
        return iter(self.items)



class ColumnSpans(ListView[Span], Generic[C]):
    """Spans held as two columns, ``starts`` and ``ends``, of one kind ``C`` (lists in :class:`Spans`, numpy arrays
    in :class:`~tokviz.core.array_offsets.ArraySpans`): a tuple is made only when a span is read. Subclasses give
    ``_one`` (the span at an index), ``_many`` (a slice's spans) and ``__iter__``."""

    __slots__ = ("starts", "ends")

    def __init__(self, starts: C, ends: C) -> None:
        if len(starts) != len(ends):
            raise ValueError(f"Spans need as many starts as ends (got {len(starts)} and {len(ends)}).")
        self.starts = starts
        self.ends = ends

    @overload
    def __getitem__(self, i: int) -> Span: ...

    @overload
    def __getitem__(self, i: slice) -> list[Span]: ...

    def __getitem__(self, i: int | slice) -> Span | list[Span]:
        return self._many(i) if isinstance(i, slice) else self._one(i)

    def _one(self, i: int) -> Span:
        raise NotImplementedError

    def _many(self, s: slice) -> list[Span]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.starts)

    __hash__ = None


class Spans(ColumnSpans[list[int]]):
    """Spans held as two lists of ints. An encoding of megabytes made from an engine's ids has a million tokens; a
    list of a million tuples took most of its time (and the garbage collector's, which walks every tuple), while the
    views read one page of them.

    A :class:`ListView` of the tuples; a slice is a list.

    >>> spans = Spans([0, 1, 1], [1, 2, 3])
    >>> spans == [(0, 1), (1, 2), (1, 3)], spans[1], spans[1:], len(spans)
    (True, (1, 2), [(1, 2), (1, 3)], 3)
    """

    __slots__ = ()

    def _one(self, i: int) -> Span:
        return self.starts[i], self.ends[i]

    def _many(self, s: slice) -> list[Span]:
        return list(zip(self.starts[s], self.ends[s]))

    def __iter__(self) -> Iterator[Span]:
        return zip(self.starts, self.ends)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Spans):
            return self.starts == other.starts and self.ends == other.ends
        return super().__eq__(other)

    __hash__ = None


class TokenBytes(ListView[bytes]):
    """Each id's bytes, read from the vocabulary when asked: a view of ``ids`` instead of a second list of a million
    references made at once.

    A :class:`ListView` of the bytes; a slice is a list.

    >>> tokens = TokenBytes([1, 0], {0: b"a", 1: b"b"})
    >>> tokens == [b"b", b"a"], tokens[0], tokens[:1], len(tokens)
    (True, b'b', [b'b'], 2)
    """

    __slots__ = ("ids", "vocab")

    def __init__(self, ids: list[int], vocab: Mapping[int, bytes]) -> None:
        self.ids = ids
        self.vocab = vocab

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i: int | slice) -> bytes | list[bytes]:
        if isinstance(i, slice):
            return list(map(self.vocab.__getitem__, self.ids[i]))
        return self.vocab[self.ids[i]]

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[bytes]:
        return map(self.vocab.__getitem__, self.ids)



def join_token_bytes(table: Mapping[int, bytes], ids: Iterable[int]) -> bytes:
    """The bytes of ``ids`` concatenated; ValueError naming an unknown id, or saying ids must be integers.

    >>> join_token_bytes({0: b"he", 1: b"llo"}, [0, 1])
    b'hello'
    >>> join_token_bytes({0: b"a"}, [7])
    Traceback (most recent call last):
    ...
    ValueError: id 7 is not in the vocabulary (size 1).
    """
    try:
        return b"".join(map(table.__getitem__, ids))
    except KeyError as e:
        raise ValueError(f"id {e.args[0]!r} is not in the vocabulary (size {len(table)}).") from e
    except TypeError as e:
        raise ValueError(f"ids must be integers: {e}") from e
