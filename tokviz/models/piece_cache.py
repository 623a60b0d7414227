"""The piece cache every tokenizer keeps: pre-token -> what its model makes of it, so a piece seen before costs one
C-level dict lookup (``map`` over the regex matches), and a miss runs the model once.

Example:
    >>> cache = PieceCache(len)
    >>> cache["abc"], list(cache.items())
    (3, [('abc', 3)])
    >>> BytePieceCache(tuple)["hé"]
    (104, 195, 169)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

V = TypeVar("V")

#: Above this many cached pieces a cache starts afresh, so streaming a huge corpus keeps memory bounded.
CACHE_LIMIT = 1 << 19


class PieceCache(dict[str, V]):
    """piece -> ``run(piece)``: a miss runs it once. Emptied when it holds :data:`CACHE_LIMIT` pieces, so a text of
    endless distinct pieces does not grow it without bound."""

    def __init__(self, run: Callable[[str], V]) -> None:
        super().__init__()
        self._run = run

    def __missing__(self, piece: str) -> V:
        if len(self) >= CACHE_LIMIT:
            self.clear()
        got = self._run(piece)
        self[piece] = got
        return got


class BytePieceCache(dict[str, V]):
    """piece -> ``run(piece's UTF-8)``, for byte-level models; bounded like :class:`PieceCache`.

    Its own class rather than a wrapped function: text of all-different pieces (random base64) pays this call once
    per piece, and one frame less is measurable there.
    """

    def __init__(self, run: Callable[[bytes], V]) -> None:
        super().__init__()
        self._run = run

    def __missing__(self, piece: str) -> V:
        if len(self) >= CACHE_LIMIT:
            self.clear()
        got = self._run(piece.encode("utf-8"))
        self[piece] = got
        return got
