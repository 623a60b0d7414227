"""The pipeline shared by the tokenizer families that work on characters (WordPiece, Unigram, SentencePiece-style
BPE): added tokens, a normalizer, pre-tokenizer steps, then a model that cuts each piece into vocabulary pieces.

It runs a ``tokenizer.json`` the way Hugging Face ``tokenizers`` does:

1. added tokens with ``normalized: false`` are cut out of the original text (:mod:`tokviz.pipelines.added_tokens`);
2. each stretch between them is normalized (:mod:`tokviz.normalizers.components`,
:mod:`tokviz.pipelines.wordpiece_tokenizer`'s BertNormalizer)
   and added tokens with ``normalized: true`` are cut out of the normalized stretch;
3. the pre-tokenizer steps cut (and may rewrite, as :class:`~tokviz.pre_tokenizers.metaspace.Metaspace` does) each
stretch;
4. the model (:class:`PieceModel`) turns each piece into ``(id, start byte, end byte)`` triples over the piece's
   UTF-8, which is how offsets reach the user's text.

Ids equal ``tokenizers``' ``encode(text, add_special_tokens=False)``: no post-processor template is applied.

What an :class:`~tokviz.core.encoding.Encoding` holds here:

- ``tokens[i]``: the vocabulary piece's UTF-8 (``b"\\xe2\\x96\\x81hello"`` for ``▁hello``, ``b"##ing"``), except a
  byte-fallback piece ``<0xF0>``, which is the byte itself (``b"\\xf0"``), and an unknown token, which holds the
  (normalized) text it stands for so that it can be drawn;
- ``char_spans[i]``: the characters of the text you passed that the token covers (``▁`` and ``##`` are marks, not
  text: an inserted ``▁`` has no characters of its own);
- ``partial[i]``: the token holds only some bytes of a character (byte fallback), or shares a character with a
  neighbour (a character that normalization split): such tokens are drawn as one group under the character;
- ``byte_spans[i]``: offsets into the concatenated ``tokens``.

Example:
    >>> from tokviz.pre_tokenizers.metaspace import Metaspace
    >>> class Chars:  # a toy model: one token per character, id = code point
    ...     def tokenize(self, piece):
    ...         out, pos = [], 0
    ...         for c in piece:
    ...             n = len(c.encode("utf-8")); out.append((ord(c), pos, pos + n)); pos += n
    ...         return out
    >>> p = PiecePipeline(Chars(), pre_tokenizers=[Metaspace()], token_bytes={})
    >>> p.encode("a b")
    [9601, 97, 9601, 98]
    >>> p.encode_with_offsets("a b").char_spans
    [(0, 0), (0, 1), (1, 2), (2, 3)]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

import regex

from tokviz.core.encoding import Encoding, EncodingBuilder, Piece
from tokviz.core.surrogates import repair_surrogates
from tokviz.models.piece_cache import PieceCache
from tokviz.models.piece_model import PieceModel, TokenCut, piece_bytes
from tokviz.normalizers.components import Normalizer, normalize_at
from tokviz.pipelines.added_tokens import AddedToken, AddedTokenMatcher
from tokviz.pipelines.decoders import Decoder
from tokviz.pipelines.space_cuts import cuts_at_spaces, split_marks, stream_parts
from tokviz.pre_tokenizers.metaspace import Metaspace
from tokviz.pre_tokenizers.steps import PieceState, PreTokenizerStep, Span

V = TypeVar("V")
#: A text at least this long goes to an engine in one part per core, cut where a cut changes nothing
#: (:meth:`PiecePipeline.engine_parts`), so a long text is encoded on every core.
PARALLEL_AT = 1 << 18


class PiecePipeline:
    """Added tokens, normalizer, pre-tokenizer steps and a :class:`PieceModel`, run as ``tokenizers`` runs them.

    ``token_bytes`` maps an id to the bytes an :class:`~tokviz.core.encoding.Encoding` shows for it (ids missing from it
    show their added token's text); ``unk_id`` is the model's unknown token, whose Encoding bytes are the text it
    replaced.
    """

    def __init__(
        self,
        model: PieceModel,
        *,
        token_bytes: Mapping[int, bytes],
        normalizer: Normalizer | None = None,
        pre_tokenizers: Sequence[PreTokenizerStep] = (),
        added: Sequence[AddedToken] = (),
        unk_id: int | None = None,
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizers = list(pre_tokenizers)
        self.added = list(added)
        self.unk_id = unk_id
        self._bytes = dict(token_bytes)
        for t in self.added:
            self._bytes.setdefault(t.id, t.content.encode("utf-8"))
        self._raw = AddedTokenMatcher([t for t in self.added if not t.normalized])
        normed = [t for t in self.added if t.normalized]
        patterns = {(normalizer.normalize_text(t.content) if normalizer else t.content): t for t in normed}
        self._normed = AddedTokenMatcher(normed, patterns)
        self._normed_patterns = patterns
        self._special = {t.id: t.special for t in self.added}
        self._cache: PieceCache[tuple[TokenCut, ...]] = PieceCache(lambda p: tuple(model.tokenize(p)))
        # An engine proven to give these ids (tokviz.engines.tokenizers_engine attaches one to files it can read):
        # ``encode(text)`` gives the ids and ``encode_with_offsets(text)`` the Encoding, or None to leave the text
        # to this pipeline.
        self.engine: Any = None

    def _pieces(self, text: str, spans: list[Span] | None, first: bool) -> list[PieceState]:
        pieces: list[PieceState] = [(text, spans, first)]
        for step in self.pre_tokenizers:
            pieces = [q for p in pieces for q in step.apply(p)]
        return [p for p in pieces if p[0]]

    def encode(self, text: str) -> list[int]:
        """Token ids, equal to ``tokenizers``' ``encode(text, add_special_tokens=False).ids``."""
        if not isinstance(text, str):
            raise ValueError(f"encode expects str, got {type(text).__name__}; decode bytes as UTF-8 first.")
        engine = self.engine
        if engine is not None:
            ids = engine.encode(repair_surrogates(text))
            if ids is not None:
                return ids
        return self.pure_ids(text)

    def pure_ids(self, text: str) -> list[int]:
        """:meth:`encode` by this pipeline alone, never the engine (the reference an engine is checked against)."""
        return self._encode(text, first=True)

    def _encode(self, text: str, *, first: bool) -> list[int]:
        """:meth:`encode`; ``first`` False for a part that continues a text (no Metaspace ``first`` prepend)."""
        text = repair_surrogates(text)
        out: list[int] = []
        normalize = self.normalizer.normalize_text if self.normalizer is not None else None
        cache = self._cache
        for tid, s, e in self._raw.find(text):
            if tid is not None:
                out.append(tid)
                continue
            seg = normalize(text[s:e]) if normalize is not None else text[s:e]
            for tid2, a, b in self._normed.find(seg):
                if tid2 is not None:
                    out.append(tid2)
                    continue
                for ptext, _, _ in self._pieces(seg[a:b], None, first and s == 0 and a == 0):
                    out.extend(c[0] for c in cache[ptext])
        return out

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Ids of the joined chunks, equal to ``encode("".join(chunks))``.

        Where the normalizer works character by character and the first pre-tokenizer step splits at whitespace
        (BERT, T5, XLM-R, most Unigram and Metaspace files), the text is encoded in parts of about ``chunk_chars``
        characters, cut before a space (:mod:`tokviz.pipelines.space_cuts`, away from added tokens), so a file of
        any size is never held whole; otherwise (a normalizer that prepends, as Llama 2's does) it is encoded whole.
        Each part goes through the engine when one is attached (a later part too, unless a Metaspace step prepends
        to the first piece only).

        >>> from tokviz.formats.hf_families import family_from_dict
        >>> tok = family_from_dict({"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix":
        ...     "##", "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hi": 1, "##s": 2}},
        ...     "pre_tokenizer": {"type": "BertPreTokenizer"}})
        >>> list(tok.encode_iterable(["hi his h", "is hi"], chunk_chars=4)) == tok.encode("hi his his hi")
        True
        """
        if not self._streams:
            yield from self.encode("".join(chunks))
            return
        for part, first in stream_parts(chunks, target=chunk_chars, margin=self._raw.max_len + 1,
                                        allowed=self._away_from_added if self._raw_re is not None else None):
            # A later part goes through the engine too when no step asks whether a piece starts the text.
            yield from self.encode(part) if first or not self._asks_first else self._encode(part, first=False)

    def engine_parts(self, text: str, *, cores: int | None = None) -> list[str]:
        """``text`` cut into about one part per core (``cores``, this machine's by default) for an engine to encode
        at once, cut only before a space where a cut changes nothing (:mod:`tokviz.pipelines.space_cuts`); ``[text]``
        when it is shorter than :data:`PARALLEL_AT`, when this pipeline may not be cut, or when a step asks whether
        a piece starts the text (an engine would take every part for a start).

        >>> from tokviz.formats.hf_families import family_from_dict
        >>> tok = family_from_dict({"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix":
        ...     "##", "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hi": 1}},
        ...     "pre_tokenizer": {"type": "BertPreTokenizer"}})
        >>> text = "hi " * 100_000
        >>> parts = tok.engine_parts(text, cores=2)
        >>> len(parts), "".join(parts) == text, tok.engine_parts("hi hi", cores=2)
        (2, True, ['hi hi'])
        >>> len(tok.engine_parts("h" * 300_000, cores=2))  # no place to cut
        1
        """
        cores = cores or os.cpu_count() or 1
        if cores < 2 or len(text) < PARALLEL_AT or not self._streams or self._asks_first:
            return [text]
        parts = [p for p, _ in stream_parts([text], target=-(-len(text) // cores), margin=self._raw.max_len + 1,
                                            allowed=self._away_from_added if self._raw_re is not None else None)]
        if len(parts) > cores:  # a short rest after the last full part joins it (dropping a cut is always exact)
            parts[cores - 1 :] = ["".join(parts[cores - 1 :])]
        return parts

    @cached_property
    def _streams(self) -> bool:
        """Whether :meth:`encode_iterable` may cut the text (see there)."""
        step = self.pre_tokenizers[0] if self.pre_tokenizers else None
        if not cuts_at_spaces(self.normalizer, step):
            return False
        # A normalized added token that eats spaces, or holds what a space at the cut becomes (whitespace, or a
        # Metaspace ``▁`` put there by a Replace), could reach across a cut.
        marks = split_marks(step) or ""
        return not any(t.lstrip or t.rstrip or any(c.isspace() or c in marks for c in p)
                       for p, t in self._normed_patterns.items())

    @cached_property
    def _asks_first(self) -> bool:
        """Whether a step reads the ``first`` mark (Metaspace's ``prepend_scheme: first``): only then does a later part
        need :meth:`_encode` with ``first=False`` rather than :meth:`encode`."""
        return any(isinstance(s, Metaspace) and s.prepend_scheme == "first" for s in self.pre_tokenizers)

    @cached_property
    def _raw_re(self) -> regex.Pattern[str] | None:
        """Any unnormalized added token's content, anywhere (not only where the matcher would take it)."""
        contents = sorted({t.content for t in self.added if not t.normalized and t.content}, key=len, reverse=True)
        return regex.compile("|".join(map(regex.escape, contents))) if contents else None

    def _away_from_added(self, buf: str, p: int) -> bool:
        """No unnormalized added token's content within its length of position ``p``: a cut there cannot touch one
        (looking for any occurrence, not the matcher's choice, keeps this true whatever precedes the window)."""
        w = self._raw.max_len + 1
        return self._raw_re is None or self._raw_re.search(buf, max(0, p - w), p + w + 1) is None

    def encode_with_offsets(self, text: str) -> Encoding:
        """Ids with token bytes, spans in ``text`` and partial marks (see the module docstring); through the engine
        where one is attached and proves this text (its Encoding equals :meth:`pure_encoding`'s), else this pipeline."""
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        text = repair_surrogates(text)
        engine = self.engine
        if engine is not None:
            enc = engine.encode_with_offsets(text)
            if enc is not None:
                return enc
        return self._pure(text)

    def pure_encoding(self, text: str) -> Encoding:
        """:meth:`encode_with_offsets` by this pipeline alone, never the engine (the reference engines are checked
        against)."""
        return self._pure(repair_surrogates(text))

    def _pure(self, text: str) -> Encoding:
        # ``text`` already repaired: encode_with_offsets did it before asking the engine.
        out = EncodingBuilder()
        self._walk(text, out, tokens=True)
        return out.build()

    def pieces_of(self, text: str) -> list[Piece]:
        """The pre-token pieces (and added tokens) :meth:`encode_with_offsets` gives, without running the model
        (an engine's Encoding reads them only when a view asks)."""
        out = EncodingBuilder()
        self._walk(repair_surrogates(text), out, tokens=False)
        return out.pieces

    def find_added(self, text: str) -> list[tuple[int | None, int, int]]:
        """The unnormalized added tokens in ``text`` as ``(id, start, end)`` and the stretches between as
        ``(None, start, end)``, as this pipeline cuts them first."""
        return self._raw.find(text)

    def _walk(self, text: str, out: EncodingBuilder, *, tokens: bool) -> None:
        """Added tokens, normalization and pre-tokenization over ``text`` into ``out``: pieces always, the model's
        tokens when ``tokens``."""
        add = out.add if tokens else _skip
        for tid, s, e in self._raw.find(text):
            if tid is not None:
                add(tid, self._bytes[tid], (s, e), special=self._special.get(tid, False))
                out.add_piece(Piece(text[s:e], s, e, True))
                continue
            seg, align = normalize_at(self.normalizer, text, s, e)
            for tid2, a, b in self._normed.find(seg):
                if tid2 is not None:
                    span = _span_of(align[a:b], align[a][0] if a < len(align) else e)
                    add(tid2, self._bytes[tid2], span, special=self._special.get(tid2, False))
                    out.add_piece(Piece(text[span[0]:span[1]], span[0], span[1], True))
                    continue
                for ptext, pspans, _ in self._pieces(seg[a:b], align[a:b], s == 0 and a == 0):
                    assert pspans is not None  # the offsets path always carries spans
                    if tokens:
                        self._add_piece(ptext, pspans, out)
                    p0 = min(x[0] for x in pspans)
                    p1 = max(x[1] for x in pspans)
                    out.add_piece(Piece(text[p0:p1], p0, p1, False))

    def _add_piece(self, ptext: str, pspans: list[Span], out: EncodingBuilder) -> None:
        data = ptext.encode("utf-8")
        # For each byte of the piece, the index of its character; and where each character starts.
        starts: list[int] = []
        char_of: list[int] = []
        for ci, ch in enumerate(ptext):
            starts.append(len(char_of))
            char_of.extend([ci] * len(ch.encode("utf-8")))
        starts.append(len(char_of))
        is_start = set(starts)
        for tid, bs, be in self._cache[ptext]:
            if be <= bs:
                at = pspans[char_of[bs]][0] if bs < len(char_of) else pspans[-1][1]
                out.add(tid, self._bytes.get(tid, b""), (at, at))
                continue
            c0, c1 = char_of[bs], char_of[be - 1]
            span = _span_of(pspans[c0:c1 + 1], pspans[c0][0])
            shown = data[bs:be] if tid == self.unk_id else self._bytes.get(tid, data[bs:be])
            out.add(tid, shown, span, cut=bs not in is_start or be not in is_start)

    def token_bytes(self, i: int) -> bytes:
        """The bytes an Encoding shows for id ``i`` (see the module docstring); ValueError for an unknown id."""
        try:
            return self._bytes[i]
        except KeyError as e:
            raise ValueError(f"id {i!r} is not in the vocabulary (size {len(self._bytes)}).") from e


class VocabPipeline(PiecePipeline):
    """A :class:`PiecePipeline` whose ids name vocabulary strings (``pieces``), decoded by a :class:`Decoder`.

    ``pieces`` maps each id to its vocabulary string (``"▁hello"``, ``"##ing"``, ``"<0xF0>"``), added tokens
    included; an Encoding shows a byte-fallback piece as its byte, any other as its UTF-8.
    """

    name: str

    def __init__(self, model: PieceModel, *, pieces: Mapping[int, str], decoder: Decoder, name: str,
                 normalizer: Normalizer | None = None, pre_tokenizers: Sequence[PreTokenizerStep] = (),
                 added: Sequence[AddedToken] = (), unk_id: int | None = None) -> None:
        self.name = name
        self._pieces_by_id = dict(pieces)
        for t in added:
            self._pieces_by_id[t.id] = t.content
        self.decoder = decoder
        shown = {i: piece_bytes(p) for i, p in self._pieces_by_id.items()}
        for t in added:
            shown[t.id] = t.content.encode("utf-8")
        super().__init__(model, token_bytes=shown, normalizer=normalizer, pre_tokenizers=pre_tokenizers,
                         added=added, unk_id=unk_id)

    @property
    def vocab_size(self) -> int:
        return len(self._pieces_by_id)

    @property
    def vocab(self) -> dict[int, bytes]:
        """id -> the bytes an Encoding shows for it (a piece's UTF-8; a byte-fallback piece's byte)."""
        return dict(self._bytes)

    def piece(self, i: int) -> str:
        """The vocabulary string of id ``i``, as the file writes it: the name to show for a token."""
        try:
            return self._pieces_by_id[i]
        except (KeyError, TypeError) as e:
            raise ValueError(f"id {i!r} is not in the vocabulary (size {self.vocab_size}).") from e

    def id_to_token(self, i: int) -> bytes:
        self.piece(i)  # the error for an unknown id
        return self._bytes[i]

    def decode(self, ids: Iterable[int]) -> str:
        """Text as the file's decoder gives it (special tokens kept, as ``skip_special_tokens=False``)."""
        return self.decoder.decode([self.piece(i) for i in as_ids(ids)])

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The tokens' bytes as an Encoding shows them, concatenated (what ``byte_spans`` index)."""
        return b"".join(self.id_to_token(i) for i in as_ids(ids))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, vocab_size={self.vocab_size})"


def as_ids(ids: Iterable[int]) -> list[int]:
    """``ids`` as a list; ValueError when it is not iterable.

    >>> as_ids((1, 2))
    [1, 2]
    """
    try:
        return list(ids)
    except TypeError as e:
        raise ValueError(f"ids must be an iterable of integers: {e}") from e


def _skip(*args: Any, **kwargs: Any) -> None:
    """Adds nothing (:meth:`PiecePipeline._walk` for pieces only)."""


def _span_of(spans: Sequence[Span], at: int) -> Span:
    """The original span of some normalized characters: from the first one's start to the furthest end; an empty
    run (or characters that were all inserted) sits at ``at``."""
    if not spans:
        return at, at
    lo = min(s for s, e in spans if e > s) if any(e > s for s, e in spans) else spans[0][0]
    return lo, max(max(e for _, e in spans), lo)
