"""The :class:`~tokviz.core.encoding.Encoding` of a character-level ``tokenizer.json`` pipeline (WordPiece, Unigram,
SentencePiece-style BPE) built from Hugging Face ``tokenizers``' own Encoding (ids and character offsets into the
text), equal to the one the pure pipeline builds, or None where that cannot be shown for the text.

``tokenizers`` maps each token to the original characters its normalized characters came from, as the pure pipeline
does (:func:`tokviz.pipelines.vocab_pipeline.PiecePipeline.pure_encoding`), with these differences, each settled
here token by token:

- a mark the pipeline *inserted* (Metaspace's prepended ``▁``, a ``Prepend`` normalizer's) has no characters of its
  own in the pure pipeline, a point span ``(s, s)``; ``tokenizers`` gives it the span of the character after it.
  Only a token that is that one mark alone is affected (a longer token's span starts at that character anyway). It
  is told from a ``▁`` that a space became by its span: an inserted mark shares its character with the next token,
  a replaced space owns its character. A character that normalizes to several characters, one of them a space or
  the mark (NFKC's ``¨`` is a space and a combining diaeresis), could do both: a text where such a character is
  under a lone mark is declined;
- a byte-fallback token (``<0xE3>``) holds one byte of its character: partial (a byte >= 0x80), as the pure
  pipeline marks it. A byte piece whose span covers more than one character is declined: the same piece matched as
  the six characters ``<0xE3>`` of the text, or the bytes of a run of unknown characters that Unigram fused into
  one unknown piece (``tokenizers`` gives each byte the whole run's span, the pure pipeline its own character's);
- the unknown token shows, in the pure pipeline, the normalized text it replaced, which ``tokenizers`` does not
  give: it is computed from the characters under the token (normalized, spaces as the mark) where that is the same
  text: a normalizer that works character by character (:func:`~tokviz.pipelines.space_cuts.local_normalizer`), a
  token that shares no character with its neighbours, and no mark that could be inside it (every mark is a
  vocabulary piece of its own, and the model is not WordPiece, whose unknown token is a whole word); with a first
  step that drops whitespace the spaces BertNormalizer puts around CJK characters are dropped too. Otherwise a
  text whose ids hold the unknown id is declined;
- a Unicode normalization (NFC, NFKC, NFD, NFKD, a SentencePiece charsmap) that joins characters or reorders marks
  aligns the result otherwise (``tokenizers`` gives a composed ``é`` from ``e`` and U+0301 the span of the ``e``,
  the pure pipeline both characters): with such a normalizer a text holding a combining mark, or a character that
  composes with the one before (Hangul vowels and final consonants, some vowel signs), is declined;
- added tokens are marked special as the pure pipeline marks them, found with its own matcher; a tokenizer with
  added tokens matched in normalized text is not converted at all (:func:`offsets_refusal`).

Pieces (pre-tokens) are computed only when a view reads them (:class:`~tokviz.core.encoding.LazyPieces`), by the
pure pipeline without its model.

Example:
    >>> from tokviz.formats.hf_families import family_from_dict
    >>> from tokenizers import Tokenizer as HF
    >>> import json
    >>> data = {"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": False,
    ...                   "vocab": [["<unk>", 0.0], ["▁", -2.0], ["a", -1.0], ["b", -1.0], ["▁a", -1.0]]},
    ...         "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
    ...                           "split": True}}
    >>> tok = family_from_dict(data, source="t.json"); tok.engine = None
    >>> native = HF.from_str(json.dumps(data))
    >>> tables = OffsetTables.of(tok)
    >>> enc = tables.encoding("a b", native.encode("a b", add_special_tokens=False))
    >>> enc.char_spans, enc == tok.pure_encoding("a b")
    ([(0, 1), (1, 2), (2, 3)], True)
    >>> tables.encoding("b", native.encode("b", add_special_tokens=False)).char_spans  # the inserted ▁
    [(0, 0), (0, 1)]
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from collections.abc import Sequence as CSequence
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import itemgetter, lt
from typing import TYPE_CHECKING, Any

from tokviz.core import id_offsets
from tokviz.core.encoding import Encoding, LazyPieces, Spans
from tokviz.normalizers.components import Prepend, Sequence
from tokviz.pipelines.space_cuts import local_normalizer, split_marks
from tokviz.pipelines.vocab_pipeline import PiecePipeline
from tokviz.pre_tokenizers.metaspace import Metaspace

if TYPE_CHECKING:
    from tokviz.engines.piece_arrays import PieceArrays

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
SpanList = CSequence[tuple[int, int]]  # a list of spans, or columns that read as one


@functools.cache
def composing() -> frozenset[str]:
    """Characters a Unicode normalization may join to the character before or move: every combining mark, the second
    character of each canonical composition, Hangul vowels and final consonants (computed once, about 0.2 s).

    >>> "\u0301" in composing(), "\u1161" in composing(), "e" in composing()
    (True, True, False)
    """
    out = {chr(c) for c in range(0x1161, 0x1176)} | {chr(c) for c in range(0x11A8, 0x11C3)}
    for cp in range(0x110000):
        c = chr(cp)
        if unicodedata.combining(c):
            out.add(c)
        d = unicodedata.decomposition(c)
        if d and not d.startswith("<") and len(parts := d.split()) == 2:
            out.add(chr(int(parts[1], 16)))
    return frozenset(out)


def _forms(normalizer: object) -> bool:
    """Whether ``normalizer`` holds a Unicode normalization form or a SentencePiece charsmap (see :func:`composing`)."""
    if isinstance(normalizer, Sequence):
        return any(map(_forms, normalizer.steps))
    return type(normalizer).__name__ in ("UnicodeForm", "Precompiled")


def _partial(cut: list[bool], spans: list[tuple[int, int]]) -> list[bool]:
    """``cut`` or sharing a character with a neighbour, as :class:`~tokviz.core.encoding.EncodingBuilder` marks it
    (:func:`~tokviz.core.encoding.shared_chars`); neighbours that may share are found at C speed first.

    >>> _partial([False, False, False, True], [(0, 1), (0, 1), (1, 2), (2, 3)])
    [True, True, False, True]
    """
    starts = list(map(itemgetter(0), spans))
    ends = list(map(itemgetter(1), spans))
    out = list(cut)
    # Token i + 1 starts before token i ends: the only places a character can be shared.
    for i in compress(range(len(spans) - 1), map(lt, starts[1:], ends)):
        s0, e0 = spans[i]
        s1, e1 = spans[i + 1]
        if s0 < e0 and s1 < e1:
            out[i] = out[i + 1] = True
    return out


def _marks(tok: PiecePipeline) -> str:
    """The characters the pipeline may insert: a prepending Metaspace's replacement, a Prepend normalizer's."""
    marks = {s.replacement for s in tok.pre_tokenizers if isinstance(s, Metaspace) and s.prepend_scheme != "never"}
    return "".join(sorted(marks | {c for p in _prepends(tok.normalizer) for c in p.prepend}))


def _prepends(normalizer: object) -> list[Prepend]:
    if isinstance(normalizer, Prepend):
        return [normalizer]
    if isinstance(normalizer, Sequence):
        return [p for s in normalizer.steps for p in _prepends(s)]
    return []


def _without_prepend(normalizer: Any) -> Any:
    """The normalizer with its Prepend steps left out (what one character becomes, without the mark put first)."""
    if isinstance(normalizer, Prepend):
        return None
    if isinstance(normalizer, Sequence):
        return Sequence([n for n in map(_without_prepend, normalizer.steps) if n is not None])
    return normalizer


def offsets_refusal(tok: PiecePipeline) -> str:
    """Why ``tok``'s Encodings cannot be built from ``tokenizers``' offsets ('' when they can)."""
    if any(t.normalized for t in tok.added):
        return "added tokens matched in normalized text (their spans need the normalized text)"
    if any(len(p.prepend) != 1 for p in _prepends(tok.normalizer)):
        return "a Prepend normalizer of other than one character"
    if not hasattr(tok, "piece"):
        return "no vocabulary strings to tell byte pieces and marks by"
    return ""


@dataclass
class OffsetTables:
    """Per id, what the conversion needs from the pipeline ``tok`` (see :meth:`encoding`)."""

    tok: PiecePipeline
    shown: list[bytes]
    byte_pieces: dict[int, int]  # byte-fallback pieces: id -> the byte (one >= 0x80 is part of a character)
    mark_ids: frozenset[int]  # pieces that are one insertable mark alone
    marks: str
    spaced: Callable[[str], str]  # what some characters of the text become (normalizer without Prepend, marks)
    specials: dict[int, bool]
    has_added: bool
    unk_shown: bool  # whether an unknown token's text can be computed (see the module docstring)
    composes: bool  # a normalization form in the normalizer: texts with characters that compose are declined
    strip: bool  # the first step drops whitespace: BertNormalizer's spaces around CJK characters go too
    mark_rules: dict[str, tuple[bool, bool]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, tok: Any) -> OffsetTables:
        """The tables of ``tok`` (a :class:`~tokviz.pipelines.vocab_pipeline.VocabPipeline`); ValueError with
        :func:`offsets_refusal`'s reason when it cannot be converted."""
        reason = offsets_refusal(tok)
        if reason:
            raise ValueError(f"offsets stay the pure pipeline's: {reason}")
        vocab: dict[int, bytes] = tok.vocab
        shown = [b""] * (max(vocab, default=-1) + 1)
        for i, b in vocab.items():
            shown[i] = b
        marks = _marks(tok)
        byte_pieces: dict[int, int] = {}
        mark_ids: set[int] = set()
        for i in vocab:
            piece = tok.piece(i)
            m = _BYTE_PIECE.fullmatch(piece)
            if m:
                byte_pieces[i] = int(m.group(1), 16)
            if len(piece) == 1 and piece in marks:
                mark_ids.add(i)
        norm = _without_prepend(tok.normalizer)
        rep = next((s.replacement for s in tok.pre_tokenizers if isinstance(s, Metaspace)), None)

        @functools.lru_cache(maxsize=1 << 16)  # unknown words repeat: normalize each once
        def spaced(text: str) -> str:
            out = norm.normalize_text(text) if norm is not None else text
            return out.replace(" ", rep) if rep is not None else out

        first = tok.pre_tokenizers[0] if tok.pre_tokenizers else None
        unk_shown = local_normalizer(norm) and (not marks or getattr(tok, "family", "") != "wordpiece" and all(
            any(tok.piece(i) == m for i in mark_ids) for m in marks))
        return cls(tok, shown, byte_pieces, frozenset(mark_ids), marks, spaced,
                   {t.id: t.special for t in tok.added}, bool(tok.added), unk_shown, _forms(tok.normalizer),
                   split_marks(first) == "")

    def takes(self, text: str) -> bool:
        """False for a text declined before looking at its tokens (a character that composes, see the module
        docstring), so that the engine need not encode it."""
        return not (self.composes and not text.isascii() and not composing().isdisjoint(text))

    def encoding(self, text: str, native: Any) -> Encoding | None:
        """The Encoding of ``text`` from ``native`` (``tokenizers``' Encoding of that text), or None when one of its
        tokens cannot be shown to get the pure pipeline's span, bytes or marks (see the module docstring)."""
        if not self.takes(text):
            return None
        ids: list[int] = native.ids
        # Masks pay where many tokens need a rule (byte pieces, lone marks); a WordPiece file has neither.
        if len(ids) >= id_offsets.ARRAY_AT and (self.byte_pieces or self.mark_ids) and self.arrays is not None:
            from tokviz.engines.piece_arrays import encoding_from_arrays

            return encoding_from_arrays(self, text, native)
        spans: list[tuple[int, int]] = native.offsets
        n = len(ids)
        cut = [False] * n
        byte_ids, mark_ids, unk = self.byte_pieces, self.mark_ids, self.tok.unk_id
        shown = self.shown
        tokens = [shown[i] for i in ids]
        added = self.added_indices(text, ids, spans)
        if added is None:
            return None
        # Only the few tokens a rule is about are visited (a list comprehension finds them at C speed).
        watched = byte_ids.keys() | mark_ids | ({unk} if unk is not None else set())
        for i in [i for i, t in enumerate(ids) if t in watched] if watched & set(ids) else []:
            tid = ids[i]
            if tid == unk and i not in added:
                unk_text = self._unk_text(text, spans, i)
                if unk_text is None:
                    return None
                tokens[i] = unk_text
            elif tid in byte_ids:
                s, e = spans[i]
                if e - s > 1:
                    return None  # the piece spelled in the text, or a byte of a fused unknown run
                cut[i] = byte_ids[tid] >= 0x80
            elif tid in mark_ids:
                span = self._mark_span(text, spans, i)
                if span is None:
                    return None
                spans[i] = span
        special = [False] * n
        for i in added:
            special[i] = self.specials.get(ids[i], False)
        bounds = list(accumulate(map(len, tokens), initial=0))
        byte_spans = Spans(bounds[:-1], bounds[1:])
        tok = self.tok
        return Encoding(ids, tokens, byte_spans, spans, _partial(cut, spans), LazyPieces(lambda: tok.pieces_of(text)),
                        special)

    @functools.cached_property
    def arrays(self) -> PieceArrays | None:
        """Per-id arrays for long texts (:mod:`tokviz.engines.piece_arrays`), or None without numpy."""
        try:
            from tokviz.engines.piece_arrays import PieceArrays
        except ImportError:  # numpy is an extra: the rules run token by token
            return None
        return PieceArrays.of(self)

    def _mark_span(self, text: str, spans: SpanList, i: int) -> tuple[int, int] | None:
        """The pure span of a lone mark token ``i``: ``(s, s)`` when inserted, its own when a space became it,
        None when the text cannot tell."""
        s, e = spans[i]
        if e <= s:
            return s, e
        shares = i + 1 < len(spans) and spans[i + 1][0] < e and spans[i + 1][1] > spans[i + 1][0]
        owned, inserted = self.mark_rule(text[s:e])
        if not shares:
            return (s, e) if owned else None
        return (s, s) if inserted else None

    def mark_rule(self, chars: str) -> tuple[bool, bool]:
        """For a lone mark token over ``chars``: whether it may own them (they become this mark and nothing else),
        and whether it may be inserted before them (they do not become a space and more: with a character that
        does, the text cannot tell the two apart). Kept per ``chars``: a text has few distinct ones."""
        rule = self.mark_rules.get(chars)
        if rule is None:
            becomes = self.spaced(chars)
            owned = len(becomes) == 1 and becomes in self.marks
            rule = owned, not (len(becomes) > 1 and any(c.isspace() or c in self.marks for c in becomes))
            if len(self.mark_rules) < 1 << 12:
                self.mark_rules[chars] = rule
        return rule

    def _unk_text(self, text: str, spans: SpanList, i: int) -> bytes | None:
        """The normalized text unknown token ``i`` replaced, or None when it cannot be told from its characters."""
        s, e = spans[i]
        if not self.unk_shown or e <= s:
            return None
        if i > 0 and spans[i - 1][1] > s and spans[i - 1][1] > spans[i - 1][0]:
            return None
        if i + 1 < len(spans) and spans[i + 1][0] < e and spans[i + 1][1] > spans[i + 1][0]:
            return None
        return self.unk_shown_text(text[s:e])

    def unk_shown_text(self, chars: str) -> bytes | None:
        """What an unknown token over ``chars`` (sharing none of them) shows: their normalized text, spaces as the
        mark (without the spaces BertNormalizer puts around CJK characters where the first step drops them)."""
        shown = self.spaced(chars)
        if self.strip:
            shown = shown.strip(" ")
        return shown.encode("utf-8") or None

    def added_indices(self, text: str, ids: list[int], spans: SpanList, *,
                      among: Callable[[list[int]], Iterable[int]] | None = None) -> set[int] | None:
        """The indices of the tokens that are added tokens the pure pipeline cuts out of the text; None when they are
        not where the engine's tokens put them. ``among(ids of the added tokens found)``, when given, names the
        indices worth looking at (the tokens with those ids: no other can match)."""
        if not self.has_added:
            return set()
        found = [(tid, s, e) for tid, s, e in self.tok.find_added(text) if tid is not None]
        out: set[int] = set()
        if not found:
            return out
        k = 0
        for i in range(len(ids)) if among is None else among([tid for tid, _, _ in found]):
            if k < len(found) and ids[i] == found[k][0] and spans[i] == found[k][1:]:
                out.add(i)
                k += 1
        return out if k == len(found) else None
