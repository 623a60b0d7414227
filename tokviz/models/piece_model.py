"""What a vocabulary model does: cut one pre-tokenized piece into tokens, each ``(id, start byte, end byte)`` over the
piece's UTF-8. WordPiece, Unigram and SentencePiece-style BPE models satisfy :class:`PieceModel` structurally.

Example:
    >>> from tokviz.models.wordpiece import WordPieceModel
    >>> model: PieceModel = WordPieceModel({"a": 0, "##b": 1})
    >>> model.tokenize("ab")
    [(0, 0, 1), (1, 1, 2)]
"""

from __future__ import annotations

from typing import Protocol

#: ``(id, start byte, end byte)`` of one token over its piece's UTF-8.
TokenCut = tuple[int, int, int]


class PieceModel(Protocol):
    """A vocabulary model: cuts one pre-tokenized piece into tokens."""

    def tokenize(self, piece: str) -> list[TokenCut]: ...


def piece_bytes(piece: str) -> bytes:
    """What an Encoding shows for a vocabulary piece: a byte-fallback piece ``<0xNN>`` is that byte, any other
    piece its UTF-8.

    >>> piece_bytes("<0xF0>"), piece_bytes("▁a")
    (b'\\xf0', b'\\xe2\\x96\\x81a')
    """
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            pass
    return piece.encode("utf-8")
