"""CLIP-style BPE: byte-level symbols with an end-of-word suffix (``</w>``), as Hugging Face ``tokenizers`` runs a
``BPE`` model with ``end_of_word_suffix`` behind CLIP's normalizer and pre-tokenizer.

The steps (CLIP's ``tokenizer.json``): special tokens are cut out of the text first; each stretch between them is
normalized (CLIP: NFC, runs of whitespace to one space, lowercase) and cut into words by the pre-tokenizer's
pattern (CLIP: ``'s|'t|...|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+``, whitespace dropped); each word's UTF-8 bytes
become GPT-2's byte characters, the last with the suffix appended (``"hi"`` starts as ``h``, ``i</w>``), and the
merges join the best-ranked adjacent pair first. A symbol missing from the vocabulary becomes the unknown token.

Offsets point into the user's text through the normalizer's alignment; a token's bytes are the word's real bytes
(the suffix is a mark, not text). ``decode`` joins the tokens, turns each suffix into a space and strips the last,
as CLIP's own decoder does.

Example:
    >>> from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE
    >>> from tokviz.pre_tokenizers.splits import WhitespaceSplit
    >>> chars = list(BYTE_TO_UNICODE.values())
    >>> vocab = {c: i for i, c in enumerate(chars + [c + "</w>" for c in chars] + ["hi</w>"])}
    >>> tok = ClipBPETokenizer(vocab, [("h", "i</w>")], splitter=WhitespaceSplit(), name="clip")
    >>> [tok.piece(i) for i in tok.encode("hi ho")], tok.decode(tok.encode("hi ho"))
    (['hi</w>', 'h', 'o</w>'], 'hi ho')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import regex

from tokviz.core.encoding import Encoding, EncodingBuilder, Piece
from tokviz.models.bpe_rules import merge_by_pairs
from tokviz.normalizers.components import Normalizer
from tokviz.pipelines.space_cuts import local_normalizer, stream_parts
from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE, UNICODE_TO_BYTE
from tokviz.pre_tokenizers.splits import PieceSplitter

_CACHE_LIMIT = 100_000


class ClipBPETokenizer:
    """BPE over byte characters with an end-of-word suffix (see the module docstring)."""

    family = "clip"

    def __init__(self, vocab: Mapping[str, int], merges: Sequence[tuple[str, str]], *, suffix: str = "</w>",
                 normalizer: Normalizer | None = None, splitter: PieceSplitter | None = None,
                 special_tokens: Mapping[str, int] | None = None, unk_id: int | None = None,
                 name: str = "clip") -> None:
        if not suffix:
            raise ValueError("end_of_word_suffix must be a non-empty string (e.g. \"</w>\").")
        self.name = name
        #: The splitter's word (its ``keeps_no_space``, as formats.clip's says of CLIP's pattern): no word it keeps
        #: holds whitespace, so a stream may be cut before a space (see :meth:`encode_iterable`).
        self.cut_at_spaces = bool(getattr(splitter, "keeps_no_space", False))
        self.suffix = suffix
        self.normalizer = normalizer
        self.splitter = splitter
        self.unk_id = unk_id
        self.pieces_by_id = {i: p for p, i in vocab.items()}
        self._vocab = dict(vocab)
        self._special_ids = dict(special_tokens or {})
        for s, i in self._special_ids.items():
            self.pieces_by_id.setdefault(i, s)
        self._rank: dict[tuple[int, int], int] = {}
        self._merged: list[int] = []
        for k, (a, b) in enumerate(merges):
            ia, ib, iab = vocab.get(a), vocab.get(b), vocab.get(a + b)
            if ia is None or ib is None or iab is None:
                missing = next(x for x, i in ((a, ia), (b, ib), (a + b, iab)) if i is None)
                raise ValueError(f"merge {k + 1} ({a!r} {b!r}) names {missing!r}, which is not in the vocabulary.")
            self._rank.setdefault((ia, ib), len(self._merged))
            if self._rank[(ia, ib)] == len(self._merged):
                self._merged.append(iab)
        self._special_re = (regex.compile("|".join(regex.escape(s) for s in
                                                   sorted(self._special_ids, key=len, reverse=True)))
                            if self._special_ids else None)
        self._cache: dict[bytes, list[tuple[int, int, int]]] = {}

    # -- the protocol ------------------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.pieces_by_id)

    @property
    def special_ids(self) -> dict[str, int]:
        return dict(self._special_ids)

    def piece(self, i: int) -> str:
        """The vocabulary string of id ``i`` (``"hello</w>"``)."""
        return self.pieces_by_id[i]

    def encode(self, text: str) -> list[int]:
        return self.encode_with_offsets(text).ids

    def encode_iterable(self, chunks: Iterable[str], *, chunk_chars: int = 1 << 16) -> Iterator[int]:
        """Ids of the joined chunks, equal to ``encode("".join(chunks))``.

        With ``cut_at_spaces`` (CLIP's word pattern, which never puts whitespace in a word, behind a normalizer
        that works character by character) the text is encoded in parts of about ``chunk_chars`` characters cut
        before a space, away from special tokens (:mod:`tokviz.pipelines.space_cuts`); otherwise whole (the
        normalizer may join whitespace across a boundary).
        """
        if not (self.cut_at_spaces and local_normalizer(self.normalizer)):
            yield from self.encode("".join(chunks))
            return
        margin = max(map(len, self._special_ids), default=0) + 1
        for part, _ in stream_parts(chunks, target=chunk_chars, margin=margin,
                                    allowed=self._away_from_specials if self._special_re else None):
            yield from self.encode(part)

    def _away_from_specials(self, buf: str, p: int) -> bool:
        w = max(map(len, self._special_ids)) + 1
        return self._special_re is None or self._special_re.search(buf, max(0, p - w), p + w + 1) is None

    def encode_with_offsets(self, text: str) -> Encoding:
        if not isinstance(text, str):
            raise ValueError(f"encode_with_offsets expects str, got {type(text).__name__}.")
        out = EncodingBuilder()
        pos = 0
        for m in (self._special_re.finditer(text) if self._special_re else ()):
            self._stretch(text, pos, m.start(), out)
            s = m.group()
            out.add(self._special_ids[s], s.encode("utf-8"), m.span(), special=True)
            out.add_piece(Piece(s, m.start(), m.end(), True))
            pos = m.end()
        self._stretch(text, pos, len(text), out)
        return out.build()

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self.decode(ids).encode("utf-8")

    def decode(self, ids: Iterable[int]) -> str:
        parts = []
        for i in ids:
            try:
                parts.append(self.pieces_by_id[i])
            except (KeyError, TypeError) as e:
                raise ValueError(f"id {i!r} is not in the vocabulary (size {self.vocab_size}).") from e
        # As CLIP's decoder: byte characters back to bytes, each suffix a space, the last space stripped.
        text = "".join(parts).replace(self.suffix, " ")
        data = b"".join(bytes([UNICODE_TO_BYTE[c]]) if c in UNICODE_TO_BYTE else c.encode("utf-8") for c in text)
        return data.decode("utf-8", errors="replace").strip()

    # -- the steps ---------------------------------------------------------------------------------------------------
    def _stretch(self, text: str, start: int, end: int, out: EncodingBuilder) -> None:
        """Encode ``text[start:end]`` (no special tokens in it) into ``out``."""
        if start >= end:
            return
        seg = text[start:end]
        if self.normalizer is not None:
            norm, align = self.normalizer.normalize(seg)
        else:
            norm, align = seg, [(i, i + 1) for i in range(len(seg))]
        words = self.splitter.split(norm) if self.splitter is not None else ([(0, len(norm))] if norm else [])
        for a, b in words:
            if a >= b:
                continue
            word = norm[a:b]
            data = word.encode("utf-8")
            char_of: list[int] = []  # the character of the word each byte belongs to
            for ci, ch in enumerate(word):
                char_of.extend([ci] * len(ch.encode("utf-8")))
            starts = {0}
            for k in range(1, len(char_of)):
                if char_of[k] != char_of[k - 1]:
                    starts.add(k)
            starts.add(len(data))
            spans = [align[a + ci] for ci in range(len(word))]
            p0, p1 = min(s for s, _ in spans) + start, max(e for _, e in spans) + start
            out.add_piece(Piece(text[p0:p1], p0, p1, False))
            for tid, b0, b1 in self._tokens(data):
                c0, c1 = char_of[b0], char_of[b1 - 1]
                lo = min(s for s, _ in spans[c0:c1 + 1]) + start
                hi = max(e for _, e in spans[c0:c1 + 1]) + start
                out.add(tid, data[b0:b1], (lo, hi), cut=b0 not in starts or b1 not in starts)

    def _tokens(self, data: bytes) -> list[tuple[int, int, int]]:
        """``(id, start byte, end byte)`` of each token of one word's bytes."""
        cached = self._cache.get(data)
        if cached is None:
            chars = [BYTE_TO_UNICODE[b] for b in data]
            chars[-1] += self.suffix
            ids: list[int] = []
            for c in chars:
                tid = self._vocab.get(c)
                if tid is None:
                    if self.unk_id is None:
                        continue  # no unknown token: tokenizers drops the symbol
                    tid = self.unk_id
                ids.append(tid)
            merged, _ = merge_by_pairs(ids, self._rank, self._merged)
            cached = []
            pos = 0
            for tid in merged:  # each byte character is one byte of the word
                n = 1 if tid == self.unk_id else len(self.pieces_by_id[tid].removesuffix(self.suffix))
                cached.append((tid, pos, pos + n))
                pos += n
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[data] = cached
        return [(tid, b0, min(b1, len(data))) for tid, b0, b1 in cached if b0 < len(data)]

    def __repr__(self) -> str:
        return f"ClipBPETokenizer(name={self.name!r}, vocab_size={self.vocab_size})"
