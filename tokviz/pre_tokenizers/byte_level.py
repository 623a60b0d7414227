"""GPT-2's file format: ``vocab.json`` (token string -> id) and ``merges.txt`` (one merge a line).

Both write bytes through GPT-2's byte-to-unicode table, which maps each of the 256 bytes to a printable character
(a space byte is ``Ġ``), so that every token is a readable string.

Example:
    >>> BYTE_TO_UNICODE[ord(" ")], decode_token("Ġworld")
    ('Ġ', b' world')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.steps import Span


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: printable latin-1 bytes map to themselves, the rest to code points from 256 up."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_UNICODE: dict[int, str] = bytes_to_unicode()
UNICODE_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_UNICODE.items()}


def encode_token(token: bytes) -> str:
    """Bytes to GPT-2's printable string."""
    return "".join(BYTE_TO_UNICODE[b] for b in token)


def decode_token(text: str) -> bytes:
    """GPT-2's printable string back to bytes; raises ValueError on a character outside the table."""
    try:
        return bytes(UNICODE_TO_BYTE[c] for c in text)
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in GPT-2's byte-to-unicode table") from e


def lone_surrogate(text: str) -> str | None:
    """``U+D800`` for the first lone surrogate in ``text`` (JSON can write one as ``\\ud800``), else None.

    >>> lone_surrogate("a\\ud800"), lone_surrogate("ab")
    ('U+D800', None)
    """
    for c in text:
        if 0xD800 <= ord(c) <= 0xDFFF:
            return f"U+{ord(c):04X}"
    return None


# One piece while pre-tokenizing: its text and, when offsets are wanted, each character's span in the original text.
BytePiece = tuple[str, list[Span] | None]


@dataclass(frozen=True)
class ByteLevel:
    """``ByteLevel``: a space before each piece that lacks one, GPT-2's pattern (``use_regex``), bytes as characters.

    Mapping bytes to characters matters only to a pre-tokenizer that comes after it (it then sees ``Ġ`` for a
    space); when ByteLevel is the last one the pipeline keeps the text and lets the model take its UTF-8 bytes.
    """

    add_prefix_space: bool = True
    use_regex: bool = True
    _gpt2: PreTokenizer = field(default_factory=lambda: PreTokenizer.create("gpt2"), repr=False, compare=False)

    def apply(self, piece: BytePiece, *, map_bytes: bool) -> list[BytePiece]:
        text, spans = piece
        if self.add_prefix_space and not text.startswith(" "):
            text = " " + text
            if spans is not None:
                spans = [(spans[0][0], spans[0][0])] + spans
        parts = self._gpt2.findall(text) if self.use_regex else [text]
        out: list[BytePiece] = []
        pos = 0
        for p in parts:
            sp = spans[pos : pos + len(p)] if spans is not None else None
            pos += len(p)
            if map_bytes:
                if sp is not None:
                    sp = [s for ch, s in zip(p, sp) for _ in range(len(ch.encode("utf-8")))]
                p = encode_token(p.encode("utf-8"))
            out.append((p, sp))
        return out
