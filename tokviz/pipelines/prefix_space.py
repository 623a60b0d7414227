"""Hugging Face's ``add_prefix_space``: a tokenizer that puts a space before text that does not start with one.

GPT-2-style tokenizers attach the space to the word after it (``" world"``), so the first word of a text gets a
different token than the same word mid-sentence. Hugging Face's ``ByteLevel(add_prefix_space=True)`` evens this out
by prepending ``" "`` to every stretch of text between special tokens that does not already start with a space
(RoBERTa-style models). :class:`PrefixSpaceTokenizer` reproduces that exactly, so ids equal ``tokenizers``' own.

Offsets stay relative to the text you passed: the added space is a token with an empty character span (and an
empty byte span) just before the word it belongs to, and a piece holding it spans only the original characters.

Example:
    >>> vocab = {i: bytes([i]) for i in range(256)} | {256: b" h"}
    >>> tok = PrefixSpaceTokenizer(vocab, [(b" ", b"h")])
    >>> tok.encode("hi"), tok.decode(tok.encode("hi"))
    ([256, 105], ' hi')
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from itertools import chain
from typing import Literal

from tokviz.core.encoding import Encoding, Piece
from tokviz.core.surrogates import has_surrogates, original_positions, repair_surrogates, repaired_stream
from tokviz.models.bpe import DeferredMerges, Tokenizer, TrainingReport, encoding_from_pieces
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.stream_cuts import chunk_text


class PrefixSpaceTokenizer(Tokenizer):
    """A :class:`~tokviz.models.bpe.Tokenizer` that prepends ``" "`` to each non-special stretch lacking one."""

    def __init__(
        self,
        vocab: Mapping[int, bytes],
        merges: Sequence[tuple[bytes, bytes]] | DeferredMerges,
        special_tokens: Sequence[str] | None = None,
        pattern: str = "gpt2",
        *,
        add_prefix_space: bool = True,
        name: str = "bpe",
        rule: Literal["merges", "ranks"] = "merges",
        training: TrainingReport | None = None,
    ) -> None:
        super().__init__(vocab, merges, special_tokens, pattern, name=name, rule=rule, training=training)
        self.add_prefix_space = add_prefix_space

    def __eq__(self, other: object) -> bool:
        same = super().__eq__(other)
        return same if same is not True else self.add_prefix_space == getattr(other, "add_prefix_space", None)

    __hash__ = None

    def _segments(self, text: str, *, continuation: bool = False,
                  pt: PreTokenizer | None = None) -> list[tuple[str, bool, bool]]:
        """``(segment, is_special, prefixed)``; a continuation's first segment is mid-text, so it gets no space.

        ``pt`` splits off the special tokens (by default all of them; fewer where :meth:`encode` allows fewer)."""
        out: list[tuple[str, bool, bool]] = []
        for k, (seg, is_special) in enumerate((pt or self.pretokenizer).segments(text)):
            mid_text = continuation and k == 0
            prefixed = self.add_prefix_space and not is_special and not mid_text and not seg.startswith(" ")
            out.append((seg, is_special, prefixed))
        return out

    def _encode(self, text: str, *, continuation: bool, pt: PreTokenizer | None = None) -> list[int]:
        lookup = self._cache.__getitem__
        out: list[int] = []
        for seg, is_special, prefixed in self._segments(text, continuation=continuation, pt=pt):
            if is_special:
                out.append(self._special_ids[seg])
            else:
                # The space is added after special tokens were split off (as in `tokenizers`), so it can never
                # complete a special token.
                out.extend(chain.from_iterable(map(lookup, self.pretokenizer.findall(" " + seg if prefixed else seg))))
        return out

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = frozenset(),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Token ids of ``text`` with the prefix space added where `tokenizers` adds it.

        The keywords, their defaults and the repair of lone surrogates are :meth:`Tokenizer.encode`'s; a special
        token encoded as ordinary text does not start a new stretch, so it gets no space after it.
        """
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        pt = None
        if allowed_special != "all" or disallowed_special:
            pt = self._pretokenizer_allowing(allowed_special, disallowed_special, text)
        try:
            return self._encode(text, continuation=False, pt=pt)
        except UnicodeEncodeError:
            # Only text with lone surrogates gets here, so ordinary text pays nothing for the check.
            return self._encode(repair_surrogates(text), continuation=False, pt=pt)

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Stream ids; equal to ``encode("".join(chunks))`` (only the true start of a stretch gets a space)."""
        stream = chunk_text(repaired_stream(chunks), self.pretokenizer, target=chunk_chars)
        for k, chunk in enumerate(stream):
            yield from self._encode(chunk, continuation=k > 0)

    def encode_with_offsets(self, text: str) -> Encoding:
        """Offsets in ``text`` itself; each added space is a token with an empty span where it was inserted."""
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        if has_surrogates(text):
            # As Tokenizer.encode_with_offsets: encode the repaired text, then index spans into ``text`` itself.
            repaired = repair_surrogates(text)
            enc = self.encode_with_offsets(repaired)
            if len(repaired) == len(text):
                return enc
            at = original_positions(text)
            return replace(enc, char_spans=[(at[a], at[b]) for a, b in enc.char_spans],
                           pieces=[replace(p, start=at[p.start], end=at[p.end]) for p in enc.pieces])
        # Encode the text with the spaces inserted, then map every position back: an inserted space sits at
        # position q of the widened text; positions after it move back by one (in characters and in bytes alike,
        # since a space is one byte).
        pieces: list[Piece] = []
        inserted: list[int] = []  # positions of inserted spaces in the widened text (characters)
        inserted_bytes: list[int] = []
        pos = 0
        byte_pos = 0
        for seg, is_special, prefixed in self._segments(text):
            if is_special:
                pieces.append(Piece(seg, pos, pos + len(seg), True))
            else:
                if prefixed:
                    inserted.append(pos)
                    inserted_bytes.append(byte_pos)
                    seg = " " + seg
                start = pos
                for p in self.pretokenizer.findall(seg):
                    pieces.append(Piece(p, start, start + len(p)))
                    start += len(p)
            pos += len(seg)
            byte_pos += len(seg.encode("utf-8"))
        wide = encoding_from_pieces(pieces, self._piece_ids, self.vocab)
        if not inserted:
            return wide

        def back(q: int, marks: list[int]) -> int:
            # Inserted spaces before q no longer exist (for an exclusive end, a space at q lies outside the span).
            return q - bisect_left(marks, q)

        char_spans = [(back(s, inserted), back(e, inserted)) for s, e in wide.char_spans]
        byte_spans = [(back(s, inserted_bytes), back(e, inserted_bytes)) for s, e in wide.byte_spans]
        new_pieces = [
            replace(p, start=back(p.start, inserted), end=back(p.end, inserted)) for p in pieces
        ]
        return Encoding(wide.ids, wide.tokens, byte_spans, char_spans, wide.partial, new_pieces, wide.special)

    def prefix(self, vocab_size: int) -> PrefixSpaceTokenizer:
        """The smaller tokenizer (see :meth:`Tokenizer.prefix`), still adding the prefix space."""
        small = super().prefix(vocab_size)
        return PrefixSpaceTokenizer(small.vocab, small.merges, small.special_tokens, small.pattern, name=small.name,
                                    add_prefix_space=self.add_prefix_space)
