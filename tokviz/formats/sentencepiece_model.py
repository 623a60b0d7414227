"""SentencePiece ``.model`` files (T5, Llama 2, ALBERT, XLNet...), run by the optional ``sentencepiece`` package.

A ``.model`` file is a serialized ``ModelProto``: the pieces with their scores and kinds, the trainer's options (the
model type: Unigram or BPE) and the normalizer's (a compiled character map, whether a ``▁`` is put first, whether
runs of spaces are squeezed). :class:`SentencePieceTokenizer` encodes with ``sentencepiece`` itself, so ids are
SentencePiece's own; offsets come from its ``proto`` result (each piece's byte range in the input, which needs the
``protobuf`` package), turned into character spans over the text you passed. Byte-fallback pieces ``<0xNN>`` of
one character all get that character's span and are ``partial``, so they are drawn grouped under it.

``sentencepiece`` is imported only when a file is loaded; :func:`looks_like_sentencepiece` recognises a file
without it. The small protobuf reader here only reads the options that say which family a model is and whether it
keeps text (``lossless``): the model type, ``add_dummy_prefix``, ``remove_extra_whitespaces``, the normalization
rule's name, and whether the vocabulary has byte pieces.

Example:
    >>> looks_like_sentencepiece(b"minbpe v1\\n")
    False
    >>> read_options(b"\\x12\\x02\\x18\\x02")  # trainer_spec { model_type: BPE }
    ModelOptions(model_type='bpe', normalizer='nmt_nfkc', add_dummy_prefix=True, remove_extra_whitespaces=True)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tokviz.core.encoding import Encoding, EncodingBuilder, Piece
from tokviz.core.surrogates import repair_surrogates
from tokviz.models.piece_model import piece_bytes
from tokviz.pipelines.space_cuts import stream_parts
from tokviz.pipelines.vocab_pipeline import as_ids

_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
_INSTALL = "pip install sentencepiece"


#: SentencePiece's built-in normalization rules (a custom rule table may map any sequence, spaces included).
_BUILTIN_RULES = frozenset({"nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf", "identity"})
#: A ``▁`` after another character: a piece that would hold a cut before a space.
_SPACE_INSIDE = re.compile("[^\u2581]\u2581")


@dataclass(frozen=True)
class ModelOptions:
    """What the ``.model`` file says about its family and its normalizer."""

    model_type: str = "unigram"
    normalizer: str = "nmt_nfkc"
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True


def _varint(data: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(field number, wire type, value)`` of a protobuf message: ints for varints, bytes for the rest."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            n, i = _varint(data, i)
            if i + n > len(data):
                raise ValueError("truncated field")
            value, i = data[i:i + n], i + n
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire} is not protobuf's")
        if field == 0:
            raise ValueError("field number 0")
        yield field, wire, value


def read_options(data: bytes) -> ModelOptions:
    """The model type and normalizer options of a serialized ``ModelProto`` (defaults where a field is absent)."""
    model_type, opts = "unigram", {}
    for field, wire, value in _fields(data):
        if field == 2 and wire == 2:  # trainer_spec
            for f2, w2, v2 in _fields(value):
                if f2 == 3 and w2 == 0:
                    model_type = _MODEL_TYPES.get(v2, str(v2))
        elif field == 3 and wire == 2:  # normalizer_spec
            for f3, w3, v3 in _fields(value):
                if f3 == 1 and w3 == 2:
                    opts["normalizer"] = v3.decode("utf-8", errors="replace")
                elif f3 == 3 and w3 == 0:
                    opts["add_dummy_prefix"] = bool(v3)
                elif f3 == 4 and w3 == 0:
                    opts["remove_extra_whitespaces"] = bool(v3)
    return ModelOptions(model_type, **opts)


def looks_like_sentencepiece(head: bytes) -> bool:
    """Whether the first bytes of a file read as a SentencePiece ``ModelProto``: its first field is a piece (field
    1, a message) whose first field is the piece's text."""
    try:
        key, i = _varint(head, 0)
        if key != 0x0A:
            return False
        n, i = _varint(head, i)
        inner = head[i:i + n]
        if len(inner) < 2 or inner[0] != 0x0A:
            return False
        m, j = _varint(inner, 1)
        inner[j:j + m].decode("utf-8")
        return j + m <= len(inner) or n > len(head) - i
    except (ValueError, UnicodeDecodeError):
        return False


class SentencePieceTokenizer:
    """A ``.model`` file run by ``sentencepiece``: ids, offsets, decoding, and what the views ask of a family.

    ``family`` is ``"unigram"`` or ``"bpe-sp"`` (``"word"`` / ``"char"`` for those rare model types); ``unk_id``
    the unknown piece; ``merges`` is empty (a SentencePiece BPE model stores scores, not merges); ``lossless``
    True only with byte pieces, the identity normalizer, no ``▁`` put first and spaces not squeezed.
    """

    #: No merges are stored in a .model file: merge replay and token anatomy refuse it.
    merges: list[tuple[bytes, bytes]] = []

    def __init__(self, processor: Any, options: ModelOptions, *, name: str = "sentencepiece") -> None:
        self.processor = processor
        self.options = options
        self.name = name
        sp = processor
        n = sp.get_piece_size()
        self._pieces = [sp.id_to_piece(i) for i in range(n)]
        self._is_byte = [sp.is_byte(i) for i in range(n)]
        self._bytes = [piece_bytes(p) if b else p.encode("utf-8") for p, b in zip(self._pieces, self._is_byte)]
        unk = sp.unk_id()
        self.unk_id: int | None = unk if 0 <= unk < n else None
        self.family = {"bpe": "bpe-sp"}.get(options.model_type, options.model_type)
        self.lossless = (any(self._is_byte) and options.normalizer == "identity" and not options.add_dummy_prefix
                         and not options.remove_extra_whitespaces)

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    @property
    def vocab(self) -> dict[int, bytes]:
        """id -> the bytes an Encoding shows (a piece's UTF-8; a byte piece's byte)."""
        return dict(enumerate(self._bytes))

    def piece(self, i: int) -> str:
        """The vocabulary string of id ``i`` (``"▁the"``, ``"<0xF0>"``): the name to show for a token."""
        if not isinstance(i, int) or not 0 <= i < len(self._pieces):
            raise ValueError(f"id {i!r} is not in the vocabulary (size {len(self._pieces)}).")
        return self._pieces[i]

    def id_to_token(self, i: int) -> bytes:
        self.piece(i)
        return self._bytes[i]

    def encode(self, text: str) -> list[int]:
        """SentencePiece's ids for ``text`` (no BOS/EOS)."""
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        return list(self.processor.encode(repair_surrogates(text), out_type=int))

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Ids of the joined chunks, equal to ``encode("".join(chunks))``.

        When a cut before a space changes nothing (:attr:`cuts_at_spaces`), the text is encoded in parts of about
        ``chunk_chars`` characters cut there (:mod:`tokviz.pipelines.space_cuts`); otherwise whole.
        """
        if not self.cuts_at_spaces:
            yield from self.encode("".join(chunks))
            return
        # A ``▁`` put first and spaces kept (Llama 2, Mistral): a later part's first space is the one the ``▁`` put
        # first stands for, so it goes (a margin keeps text after it, which gets that ``▁``).
        drop = self.options.add_dummy_prefix and not self.options.remove_extra_whitespaces
        for part, first in stream_parts(chunks, target=chunk_chars, margin=1):
            yield from self.encode(part if first or not drop else part[1:])

    @cached_property
    def cuts_at_spaces(self) -> bool:
        """Whether a text may be encoded in parts cut before a space that follows a printable ASCII character: a
        built-in normalization rule (character by character); a part that starts with a space reads as it does
        inside the whole (one ``▁``: squeezed and put first, kept and not put first, or kept and put first with the
        part's space dropped); and no piece holding ``▁`` after another character, so no piece reaches across the
        cut."""
        o = self.options
        return (o.normalizer in _BUILTIN_RULES and (o.add_dummy_prefix or not o.remove_extra_whitespaces)
                and not any(_SPACE_INSIDE.search(p) for p in self._pieces))

    def encode_with_offsets(self, text: str) -> Encoding:
        """Ids with tokens, character spans over ``text`` and partial marks (byte pieces of one character)."""
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        text = repair_surrogates(text)
        try:
            proto = self.processor.encode(text, return_type="proto")
        except ImportError as e:  # the proto result needs the protobuf package
            raise ValueError(f"offsets from sentencepiece need the protobuf package ({e}); pip install "
                             "protobuf.") from e
        data = text.encode("utf-8")
        char_at = [0] * (len(data) + 1)  # byte offset -> character index (a byte inside a character: that one)
        pos = 0
        for ci, ch in enumerate(text):
            n = len(ch.encode("utf-8"))
            for k in range(n):
                char_at[pos + k] = ci
            pos += n
        char_at[len(data)] = len(text)
        out = EncodingBuilder()
        waiting: list[int] = []  # byte pieces whose character's span comes with a later piece
        for p in proto.pieces:
            tid, b, end = p.id, p.begin, p.end
            # A piece's byte range in the input, as the characters it touches (an empty range: a point).
            span = (char_at[b], char_at[end - 1] + 1) if end > b else (char_at[b], char_at[b])
            shown = p.surface.encode("utf-8") if tid == self.unk_id else self._bytes[tid]
            out.add(tid, shown, span, special=self.processor.is_control(tid))
            if self._is_byte[tid] and end == b:
                # sentencepiece gives a character's whole range to its last byte piece, none to the others.
                waiting.append(len(out) - 1)
                continue
            if waiting:  # a character spelled by several byte pieces: each holds part of it
                for k in [*waiting, len(out) - 1]:
                    out.recut(k, span)
            waiting = []
        if text:
            out.add_piece(Piece(text, 0, len(text)))
        return out.build()

    def decode(self, ids: Iterable[int]) -> str:
        """SentencePiece's decoding of ``ids`` (``▁`` to spaces, byte pieces to characters)."""
        got = as_ids(ids)
        for i in got:
            self.piece(i)
        return str(self.processor.decode(got))

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The tokens' bytes as an Encoding shows them, concatenated (what ``byte_spans`` index)."""
        return b"".join(self.id_to_token(i) for i in as_ids(ids))

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(name={self.name!r}, family={self.family!r}, vocab_size={self.vocab_size})"


def load_sentencepiece(path: str | os.PathLike[str], *, name: str | None = None) -> SentencePieceTokenizer:
    """Read a SentencePiece ``.model`` file with the ``sentencepiece`` package (ValueError saying how to install it
    when it is missing, or naming the file when it is not a model)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ValueError(f"{p}: cannot read ({e.strerror}).") from e
    try:
        import sentencepiece
    except ImportError as e:
        raise ValueError(f"{p}: a SentencePiece model needs the sentencepiece package ({_INSTALL}).") from e
    try:
        options = read_options(data)
        sp = sentencepiece.SentencePieceProcessor()
        sp.load_from_serialized_proto(data)
    except (ValueError, RuntimeError, OSError) as e:
        raise ValueError(f"{p}: not a SentencePiece model sentencepiece can read ({e}).") from e
    return SentencePieceTokenizer(sp, options, name=name or p.stem)
