"""BERT's pre-tokenizer: whitespace-separated words, each punctuation character a piece of its own.

Example:
    >>> [t for t, _, _ in BertPreTokenizer().apply(("Hi, you!", None, True))]
    ['Hi', ',', 'you', '!']
"""

from __future__ import annotations

from dataclasses import dataclass

from tokviz.pre_tokenizers.splits import Punctuation, WhitespaceSplit
from tokviz.pre_tokenizers.steps import PieceState, SplitStep


@dataclass(frozen=True)
class BertPreTokenizer:
    """``BertPreTokenizer``: whitespace-separated words, each punctuation character a piece of its own.

    >>> [t for t, _, _ in BertPreTokenizer().apply(("Hi, you!", None, True))]
    ['Hi', ',', 'you', '!']
    """

    def apply(self, piece: PieceState) -> list[PieceState]:
        words = SplitStep(WhitespaceSplit()).apply(piece)
        punct = SplitStep(Punctuation("Isolated"))
        return [q for w in words for q in punct.apply(w)]
