"""The lecture's baseline tokenizers, with the same interface as :class:`~tokviz.models.bpe.Tokenizer`.

- :class:`CharacterTokenizer`: one token per Unicode code point, id = the code point (a huge, sparse vocabulary).
- :class:`ByteTokenizer`: one token per UTF-8 byte, id = the byte (256 tokens, compression ratio exactly 1).
- :class:`WordTokenizer`: one token per word, punctuation run or whitespace run, with a vocabulary built from a
  corpus and an unknown-word id for the rest (so vocabulary growth and the unknown rate can be shown).

Example:
    >>> ByteTokenizer().encode("hé")
    [104, 195, 169]
    >>> CharacterTokenizer().encode("hé")
    [104, 233]
    >>> w = WordTokenizer.from_corpus(["the cat sat"]); w.decode(w.encode("the cat"))
    'the cat'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import regex

from tokviz.core.encoding import Encoding, Piece
from tokviz.models.bpe import encoding_from_pieces

UNK = "<unk>"
# Words, runs of other non-space symbols, runs of whitespace: every character falls in exactly one piece.
WORD_PATTERN = regex.compile(r"\w+|[^\w\s]+|\s+")


def _one_piece_per_char(text: str) -> list[Piece]:
    return [Piece(ch, i, i + 1) for i, ch in enumerate(text)]


@dataclass
class ByteTokenizer:
    """UTF-8 bytes as tokens."""

    name: str = "byte"

    @property
    def vocab_size(self) -> int:
        return 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def encode_iterable(self, chunks: Iterable[str]) -> Iterator[int]:
        for c in chunks:
            yield from c.encode("utf-8")

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        try:
            return bytes(ids)
        except (ValueError, TypeError) as e:
            raise ValueError(f"byte ids must be integers in 0..255: {e}") from e

    def decode(self, ids: Iterable[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def encode_with_offsets(self, text: str) -> Encoding:
        vocab = {b: bytes([b]) for b in range(256)}
        return encoding_from_pieces(_one_piece_per_char(text), lambda p: list(p.text.encode("utf-8")), vocab)

    def id_to_token(self, i: int) -> bytes:
        return bytes([i])


class _CodePoints(dict[int, bytes]):
    def __missing__(self, i: int) -> bytes:
        return chr(i).encode("utf-8", errors="surrogatepass")


@dataclass
class CharacterTokenizer:
    """Unicode code points as tokens: id = ``ord(ch)``; vocabulary size 0x110000 (1,114,112)."""

    name: str = "character"

    @property
    def vocab_size(self) -> int:
        return 0x110000

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def encode_iterable(self, chunks: Iterable[str]) -> Iterator[int]:
        for c in chunks:
            yield from map(ord, c)

    def decode(self, ids: Iterable[int]) -> str:
        try:
            return "".join(map(chr, ids))
        except (ValueError, TypeError, OverflowError) as e:
            raise ValueError(f"character ids must be code points in 0..0x10FFFF: {e}") from e

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self.decode(ids).encode("utf-8", errors="surrogatepass")

    def encode_with_offsets(self, text: str) -> Encoding:
        return encoding_from_pieces(_one_piece_per_char(text), lambda p: [ord(p.text)], _CodePoints())

    def id_to_token(self, i: int) -> bytes:
        return chr(i).encode("utf-8", errors="surrogatepass")


@dataclass
class WordTokenizer:
    """Words as tokens. Id 0 is ``<unk>``, given to any word not seen in the corpus the vocabulary was built from.

    Decoding ``<unk>`` gives the text ``<unk>``: the word is lost, which is the lecture's point about word tokenizers.
    """

    words: list[str]
    name: str = "word"
    _ids: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.words = [UNK] + [w for w in dict.fromkeys(self.words) if w != UNK]
        self._ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_corpus(cls, texts: Iterable[str], *, max_size: int | None = None, min_count: int = 1) -> WordTokenizer:
        """Build the vocabulary from a corpus: most frequent first, ties in order of first appearance."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(WORD_PATTERN.findall(t))
        ranked = [w for w, c in counts.most_common() if c >= min_count]
        if max_size is not None:
            if max_size < 1:
                raise ValueError(f"max_size must be at least 1 (room for <unk>), got {max_size}.")
            ranked = ranked[: max_size - 1]
        return cls(ranked)

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    @property
    def unk_id(self) -> int:
        return 0

    def encode(self, text: str) -> list[int]:
        get = self._ids.get
        return [get(w, 0) for w in WORD_PATTERN.findall(text)]

    def encode_iterable(self, chunks: Iterable[str]) -> Iterator[int]:
        # Whole lines are safe units only if the caller sends them; join then encode to stay exact.
        yield from self.encode("".join(chunks))

    def decode(self, ids: Iterable[int]) -> str:
        try:
            return "".join(self.words[i] for i in ids)
        except (IndexError, TypeError) as e:
            raise ValueError(f"word ids must be in 0..{len(self.words) - 1}: {e}") from e

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self.decode(ids).encode("utf-8")

    def unknown_rate(self, text: str) -> float:
        """Share of word tokens of ``text`` that are unknown (0.0 for empty text)."""
        ids = self.encode(text)
        return ids.count(0) / len(ids) if ids else 0.0

    def encode_with_offsets(self, text: str) -> Encoding:
        pieces: list[Piece] = []
        pos = 0
        for w in WORD_PATTERN.findall(text):
            pieces.append(Piece(w, pos, pos + len(w)))
            pos += len(w)
        get = self._ids.get
        # An unknown word keeps its own bytes in the Encoding (so it can be drawn) but gets id 0.
        tokens_by_piece = {}
        for p in pieces:
            tokens_by_piece[p.start] = p.text.encode("utf-8")
        enc = encoding_from_pieces(pieces, lambda p: [-1 - p.start], _PieceBytes(tokens_by_piece))
        ids = [get(p.text, 0) for p in pieces]
        return Encoding(ids, enc.tokens, enc.byte_spans, enc.char_spans, enc.partial, pieces, enc.special)

    def id_to_token(self, i: int) -> bytes:
        return self.words[i].encode("utf-8")


class _PieceBytes(dict[int, bytes]):
    # Maps the placeholder id -1 - start back to that piece's bytes.
    def __init__(self, by_start: dict[int, bytes]) -> None:
        super().__init__()
        self._by_start = by_start

    def __missing__(self, key: int) -> bytes:
        return self._by_start[-1 - key]
