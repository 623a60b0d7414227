"""SentencePiece's space convention as Hugging Face ``tokenizers`` runs it: the ``Metaspace`` pre-tokenizer.

Every space becomes ``▁`` (U+2581); ``prepend_scheme`` decides whether a ``▁`` is put before a piece that does not
start with one (``always``; ``first``: only before the piece that starts the text; ``never``), and ``split`` cuts
before every ``▁`` (each ``▁`` starts a new piece, as ``MergedWithNext`` does). A replaced space keeps its place in
the text (so ``▁`` is drawn over the space); a prepended ``▁`` has no character of its own (an empty span where it
was put).

Example:
    >>> [t for t, _, _ in Metaspace().apply(("Hey  friend", None, True))]
    ['▁Hey', '▁', '▁friend']
    >>> [t for t, _, _ in Metaspace(prepend_scheme="never", split=False).apply(("a b", None, True))]
    ['a▁b']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tokviz.pre_tokenizers.splits import apply_behavior, marked
from tokviz.pre_tokenizers.steps import PieceState

#: SentencePiece's mark for a space, U+2581 LOWER ONE EIGHTH BLOCK.
SPACE_MARK = "\u2581"
PrependScheme = Literal["always", "first", "never"]
PREPEND_SCHEMES: tuple[PrependScheme, ...] = ("always", "first", "never")


@dataclass(frozen=True)
class Metaspace:
    """``Metaspace``: spaces to ``replacement``, one prepended per ``prepend_scheme``, cut before each if ``split``."""

    replacement: str = SPACE_MARK
    prepend_scheme: PrependScheme = "always"
    split: bool = True

    def __post_init__(self) -> None:
        if len(self.replacement) != 1:
            raise ValueError(f"Metaspace replacement must be one character, got {self.replacement!r}.")
        if self.prepend_scheme not in PREPEND_SCHEMES:
            raise ValueError(f"Metaspace prepend_scheme {self.prepend_scheme!r} is not one of "
                             f"{', '.join(PREPEND_SCHEMES)}.")

    def apply(self, piece: PieceState) -> list[PieceState]:
        text, spans, first = piece
        rep = self.replacement
        text = text.replace(" ", rep)
        if text and not text.startswith(rep) and (
                self.prepend_scheme == "always" or (self.prepend_scheme == "first" and first)):
            text = rep + text
            if spans is not None:
                spans = [(spans[0][0], spans[0][0])] + spans
        if not self.split or not text:
            return [(text, spans, first)]
        marks = [(i, i + 1) for i, c in enumerate(text) if c == rep]
        parts = apply_behavior(marked(marks, len(text)), "MergedWithNext")
        return [(text[a:b], spans[a:b] if spans is not None else None, first and a == 0) for a, b in parts]
