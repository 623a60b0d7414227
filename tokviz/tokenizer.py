"""The byte-level BPE ``Tokenizer``: encode, decode, offsets, streaming, prefixes; files through tokviz.formats.

A tokenizer is its merges (the single source of truth, in learned order), a vocabulary mapping ids to bytes, the
special tokens and the pre-tokenizer pattern. Encoding pre-tokenizes, then applies merges by rank inside each piece,
the lowest-ranked adjacent pair first (the leftmost where one pair occurs twice), exactly as training applied them.

Speed: the per-piece work is a dict lookup done in C (``map`` over the regex matches with a dict whose
``__missing__`` runs BPE for pieces not seen before); a piece that is a whole token is looked up directly, as
tiktoken does; and after each merge only the two neighbouring pairs are re-ranked.

Example:
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
    >>> tok = Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")])
    >>> tok.encode("hello"), tok.decode(tok.encode("hello"))
    ([257, 108, 111], 'hello')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

from tokviz.encoding import Encoding, Piece
from tokviz.pretokenize import PreTokenizer, chunk_text

_NO_RANK = 1 << 62
# Above this many cached pieces the cache starts afresh, so streaming a huge corpus keeps memory bounded.
CACHE_LIMIT = 1 << 19


@dataclass(frozen=True)
class TrainingReport:
    """What a training run did: requested and reached sizes, the count of each merge, time, and why it stopped."""

    requested_vocab_size: int
    vocab_size: int
    merge_counts: list[int]
    seconds: float
    stopped_early: bool
    message: str
    counting_seconds: float = 0.0
    n_pretokens: int = 0
    n_distinct_pretokens: int = 0


class _PieceCache(dict):  # type: ignore[type-arg]
    """piece (str) -> token ids (tuple); a miss runs BPE once, then the answer is a C-level lookup."""

    def __init__(self, bpe: Any) -> None:
        super().__init__()
        self._bpe = bpe

    def __missing__(self, piece: str) -> tuple[int, ...]:
        if len(self) >= CACHE_LIMIT:
            self.clear()
        ids = self._bpe(piece.encode("utf-8"))
        self[piece] = ids
        return ids


@dataclass
class Tokenizer:
    """A byte-level BPE tokenizer (the CS336 ``get_tokenizer`` shape).

    ``vocab`` maps ids to bytes and must hold all 256 single bytes; ``merges`` are byte pairs in rank order, each
    joining two tokens of the vocabulary into a third; special tokens missing from ``vocab`` get new ids at the end.
    """

    vocab: dict[int, bytes]
    merges: list[tuple[bytes, bytes]]
    special_tokens: list[str] | None = None
    pattern: str = "gpt2"
    name: str = "bpe"
    training: TrainingReport | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.vocab = dict(self.vocab)
        self.merges = [(bytes(a), bytes(b)) for a, b in self.merges]
        self.special_tokens = list(dict.fromkeys(self.special_tokens or []))
        self.pretokenizer = PreTokenizer.create(self.pattern, special_tokens=self.special_tokens)
        encoder: dict[bytes, int] = {}
        for i, tok in self.vocab.items():
            if not isinstance(i, int) or not isinstance(tok, (bytes, bytearray)):
                raise ValueError(f"vocab must map int ids to bytes; got {i!r}: {type(tok).__name__}.")
            encoder.setdefault(bytes(tok), i)
        missing = [b for b in range(256) if bytes([b]) not in encoder]
        if missing:
            raise ValueError(
                f"vocab lacks {len(missing)} of the 256 single bytes (first: 0x{missing[0]:02x}); a byte-level BPE "
                "vocabulary needs every byte so that any text can be encoded."
            )
        next_id = max(self.vocab, default=-1) + 1
        self._special_ids: dict[str, int] = {}
        for s in self.special_tokens:
            sid = encoder.get(s.encode("utf-8"))
            if sid is None:
                sid = next_id
                next_id += 1
                self.vocab[sid] = s.encode("utf-8")
                encoder[s.encode("utf-8")] = sid
            self._special_ids[s] = sid
        self._encoder = encoder
        self._byte_ids = [encoder[bytes([b])] for b in range(256)]
        ranks: dict[tuple[int, int], int] = {}
        merged: list[int] = []
        for r, (a, b) in enumerate(self.merges):
            ia, ib, inew = encoder.get(a), encoder.get(b), encoder.get(a + b)
            if ia is None or ib is None or inew is None:
                bad = a if ia is None else b if ib is None else a + b
                raise ValueError(f"merge {r + 1} ({a!r}, {b!r}) uses {bad!r}, which is not in the vocabulary.")
            ranks.setdefault((ia, ib), r)
            merged.append(inew)
        self._ranks = ranks
        self._merged = merged
        # Tokens BPE can produce (bytes and merge results, not specials): a piece equal to one is that token.
        self._whole = {self.vocab[i]: i for i in chain(self._byte_ids, merged)}
        self._cache = _PieceCache(self._bpe)

    # -- basic facts -----------------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def special_ids(self) -> dict[str, int]:
        return dict(self._special_ids)

    def token_to_id(self, token: bytes) -> int | None:
        return self._encoder.get(token)

    # -- encoding ------------------------------------------------------------------------------------------------
    def _bpe(self, piece: bytes) -> tuple[int, ...]:
        whole = self._whole.get(piece)
        if whole is not None:
            return (whole,)
        return tuple(self.merge_path(piece)[0])

    def merge_path(self, piece: bytes, *, n_merges: int | None = None) -> tuple[list[int], list[int]]:
        """Pure merge application to one pre-token: its final ids and the ranks of the merges applied, in order.

        Only merges of rank < ``n_merges`` are used (all by default), which is how the tokenizer of a smaller
        vocabulary would cut the piece. Unlike :meth:`encode` this never takes the whole-token shortcut.

        >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b"he", 257: b"hel"}
        >>> Tokenizer(vocab, [(b"h", b"e"), (b"he", b"l")]).merge_path(b"help")
        ([257, 112], [0, 1])
        """
        ids = list(map(self._byte_ids.__getitem__, piece))
        steps: list[int] = []
        if len(ids) < 2:
            return ids, steps
        get = self._ranks.get
        limit = _NO_RANK if n_merges is None else n_merges
        pr = [get(p, _NO_RANK) for p in zip(ids, ids[1:])]
        merged = self._merged
        while pr:
            r = min(pr)
            if r >= limit:
                break
            i = pr.index(r)  # leftmost occurrence of the best pair
            ids[i] = merged[r]
            del ids[i + 1]
            del pr[i]
            steps.append(r)
            if i > 0:
                pr[i - 1] = get((ids[i - 1], ids[i]), _NO_RANK)
            if i < len(pr):
                pr[i] = get((ids[i], ids[i + 1]), _NO_RANK)
        return ids, steps

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; special tokens in the text become their single ids.

        >>> Tokenizer({i: bytes([i]) for i in range(256)}, []).encode("hi")
        [104, 105]
        """
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        lookup = self._cache.__getitem__
        pt = self.pretokenizer
        if not self._special_ids:
            return list(chain.from_iterable(map(lookup, pt.findall(text))))
        out: list[int] = []
        for seg, is_special in pt.segments(text):
            if is_special:
                out.append(self._special_ids[seg])
            else:
                out.extend(chain.from_iterable(map(lookup, pt.findall(seg))))
        return out

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Stream ids for an iterable of text chunks (e.g. an open file) with bounded memory.

        Chunks are re-cut at safe positions, so the ids equal ``encode("".join(chunks))`` whatever the boundaries.
        """
        for chunk in chunk_text(chunks, self.pretokenizer, target=chunk_chars):
            yield from self.encode(chunk)

    def encode_with_offsets(self, text: str) -> Encoding:
        """Ids with each token's bytes, byte span and character span (see :class:`tokviz.encoding.Encoding`).

        >>> enc = Tokenizer({i: bytes([i]) for i in range(256)}, []).encode_with_offsets("é!")
        >>> enc.char_spans, enc.partial
        ([(0, 1), (0, 1), (1, 2)], [True, True, False])
        """
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        pieces = self.pretokenizer.split(text)
        return encoding_from_pieces(pieces, self._piece_ids, self.vocab)

    def _piece_ids(self, piece: Piece) -> Sequence[int]:
        if piece.special:
            return (self._special_ids[piece.text],)
        return self._cache[piece.text]

    # -- decoding ------------------------------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of ``ids`` concatenated; raises ValueError naming an unknown id."""
        try:
            return b"".join(map(self.vocab.__getitem__, ids))
        except KeyError as e:
            raise ValueError(f"id {e.args[0]!r} is not in the vocabulary (size {len(self.vocab)}).") from e
        except TypeError as e:
            raise ValueError(f"ids must be integers: {e}") from e

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; bytes that do not form whole characters become U+FFFD, never an exception."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # -- sizes -----------------------------------------------------------------------------------------------------
    @cached_property
    def _merge_token_ids(self) -> list[int]:
        return list(self._merged)

    def prefix(self, vocab_size: int) -> Tokenizer:
        """The tokenizer of a smaller vocabulary: the specials, the 256 bytes and the first merges; ids are kept.

        Because merges are learned in order, this equals training at that size directly.
        """
        base = 256 + len(self.special_tokens or [])
        if not isinstance(vocab_size, int) or vocab_size < base:
            raise ValueError(f"vocab_size must be an integer >= {base} (256 bytes + special tokens), got {vocab_size}.")
        k = min(vocab_size - base, len(self.merges))
        keep = set(self._byte_ids) | set(self._special_ids.values()) | set(self._merged[:k])
        vocab = {i: t for i, t in self.vocab.items() if i in keep}
        return Tokenizer(vocab, self.merges[:k], list(self.special_tokens or []), self.pattern,
                         name=f"{self.name}@{base + k}")

    # -- files -----------------------------------------------------------------------------------------------------
    # Every file format, ours included, lives in tokviz.formats, which imports this module; these methods import it
    # when called, so neither module needs the other while it is being imported.
    def to_dict(self) -> dict[str, Any]:
        """Our own format as a JSON-able dict, lossless for any bytes (see :mod:`tokviz.formats.ours`)."""
        from tokviz.formats.ours import to_dict

        return to_dict(self)

    def save(self, path: str | os.PathLike[str], *, format: str = "tokviz") -> None:  # noqa: A002
        """Write the tokenizer to ``path`` in ``format`` (default our own JSON; see :func:`tokviz.formats.save`)."""
        from tokviz.formats.dispatch import save

        save(self, path, format=format)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Tokenizer:
        """The tokenizer a :meth:`to_dict` dict holds, of the class that was saved (a prefix-space one stays one)."""
        from tokviz.formats.ours import tokenizer_from_dict

        return tokenizer_from_dict(data, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """Read a file written by :meth:`save` (our format); a malformed file raises ValueError naming it."""
        from tokviz.formats.ours import load_ours_tokenizer

        return load_ours_tokenizer(path)

    @classmethod
    def from_files(
        cls,
        vocab_filepath: str | os.PathLike[str],
        merges_filepath: str | os.PathLike[str],
        special_tokens: list[str] | None = None,
        *,
        pattern: str = "gpt2",
    ) -> Tokenizer:
        """Load GPT-2 format files (``vocab.json`` + ``merges.txt``), as :func:`tokviz.load_tokenizer` does.

        Without ``special_tokens`` the specials are the vocabulary entries no merge builds (GPT-2's own files thus
        come with ``<|endoftext|>`` special at 50256); pass ``[]`` for none.
        """
        from tokviz.formats.gpt2 import load_gpt2

        return load_gpt2(vocab_filepath, merges_filepath, pattern=pattern, special_tokens=special_tokens)


def encoding_from_pieces(
    pieces: Sequence[Piece], piece_ids: Any, vocab: Mapping[int, bytes]
) -> Encoding:
    """Build an :class:`Encoding` from pre-token pieces and a function giving each piece's ids.

    Shared by every tokenizer with byte tokens, so offsets are computed one way everywhere.
    """
    ids: list[int] = []
    tokens: list[bytes] = []
    byte_spans: list[tuple[int, int]] = []
    char_spans: list[tuple[int, int]] = []
    partial: list[bool] = []
    special: list[bool] = []
    byte_pos = 0
    for piece in pieces:
        pids = piece_ids(piece)
        if piece.text.isascii():
            # one byte per character: spans coincide
            off = byte_pos - piece.start
            for i in pids:
                t = vocab[i]
                s = byte_pos
                byte_pos += len(t)
                ids.append(i)
                tokens.append(t)
                byte_spans.append((s, byte_pos))
                char_spans.append((s - off, byte_pos - off))
                partial.append(False)
                special.append(piece.special)
            continue
        # byte offset (within the piece) where each character starts, plus the end
        starts = [0]
        for ch in piece.text:
            starts.append(starts[-1] + len(ch.encode("utf-8")))
        char_of = {}
        for ci in range(len(piece.text)):
            for b in range(starts[ci], starts[ci + 1]):
                char_of[b] = ci
        local = 0
        for i in pids:
            t = vocab[i]
            s, e = local, local + len(t)
            c0, c1 = char_of[s], char_of[e - 1] + 1
            ids.append(i)
            tokens.append(t)
            byte_spans.append((byte_pos + s, byte_pos + e))
            char_spans.append((piece.start + c0, piece.start + c1))
            partial.append(starts[c0] != s or starts[c1] != e)
            special.append(piece.special)
            local = e
        byte_pos += local
    return Encoding(ids, tokens, byte_spans, char_spans, partial, list(pieces), special)
