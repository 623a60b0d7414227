"""Pre-tokenizer steps of a ``tokenizer.json`` pipeline: each cuts (and may rewrite) one piece into pieces, carrying
each character's span in the user's text so offsets survive every step.

Example:
    >>> from tokviz.pre_tokenizers.splits import WhitespaceSplit
    >>> [t for t, _, _ in SplitStep(WhitespaceSplit()).apply(("a  b", None, True))]
    ['a', 'b']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tokviz.pre_tokenizers.splits import PieceSplitter

Span = tuple[int, int]


#: One piece while pre-tokenizing: its text, each character's span in the original text (None on the ids-only
#: path), and whether it starts the whole text (Metaspace's ``prepend_scheme: first`` asks).
PieceState = tuple[str, list[Span] | None, bool]


class PreTokenizerStep(Protocol):
    """Cuts (and may rewrite) one piece into pieces."""

    def apply(self, piece: PieceState) -> list[PieceState]: ...


@dataclass(frozen=True)
class SplitStep:
    """A :class:`~tokviz.pre_tokenizers.splits.PieceSplitter` (Split, Digits, Punctuation...) as a pipeline step.

    >>> from tokviz.pre_tokenizers.splits import WhitespaceSplit
    >>> [t for t, _, _ in SplitStep(WhitespaceSplit()).apply(("a  b", None, True))]
    ['a', 'b']
    """

    splitter: PieceSplitter

    def apply(self, piece: PieceState) -> list[PieceState]:
        text, spans, first = piece
        return [(text[a:b], spans[a:b] if spans is not None else None, first and a == 0)
                for a, b in self.splitter.split(text)]
