"""The ``Nmt`` normalizer: SentencePiece's ``nmt_nfkc`` clean-up step as Hugging Face ``tokenizers`` runs it.

``tokenizers``' own ``SentencePieceUnigramTokenizer`` writes it into every ``tokenizer.json`` it trains (before
NFKC). It drops ASCII control characters (U+0001-U+0008, U+000B, U+000E-U+001F, U+007F, and U+008F, U+009F) and turns
tab, line feed, form feed, carriage return, OGHAM SPACE MARK, the zero-width and direction marks U+200B-U+200F, the
line and paragraph separators, ``▁`` (U+2581), the byte-order mark and U+FFFD into a plain space.

Every character it keeps is aligned with itself (a replacement is one character for one); removed characters simply
have no character pointing at them, as in ``tokenizers``.

Example:
    >>> Nmt().normalize("a\\tb\\x01c")
    ('a bc', [(0, 1), (1, 2), (2, 3), (4, 5)])
"""

from __future__ import annotations

from dataclasses import dataclass

from tokviz.normalizers.components import Alignment

_DROPPED = frozenset([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F])
_AS_SPACE = frozenset([0x09, 0x0A, 0x0C, 0x0D, 0x1680, *range(0x200B, 0x2010), 0x2028, 0x2029, 0x2581, 0xFEFF,
                       0xFFFD])
#: str.translate table: dropped characters to None, the space-like ones to " ".
_TABLE: dict[int, str | None] = {**{c: None for c in _DROPPED}, **{c: " " for c in _AS_SPACE}}


@dataclass(frozen=True)
class Nmt:
    """Drop control characters and turn other spaces and marks into ``" "`` (see the module docstring)."""

    def normalize_text(self, text: str) -> str:
        return text.translate(_TABLE)

    def normalize(self, text: str) -> tuple[str, Alignment]:
        out = text.translate(_TABLE)
        if len(out) == len(text):
            return out, [(i, i + 1) for i in range(len(text))]
        return out, [(i, i + 1) for i, c in enumerate(text) if ord(c) not in _DROPPED]
