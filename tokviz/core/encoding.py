"""The result of encoding with offsets: parallel lists, one entry per token.

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

from dataclasses import dataclass, field


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
    tokens: list[bytes]
    byte_spans: list[tuple[int, int]]
    char_spans: list[tuple[int, int]]
    partial: list[bool]
    pieces: list[Piece] = field(default_factory=list)
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
