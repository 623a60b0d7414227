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
