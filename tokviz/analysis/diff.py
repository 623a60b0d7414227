"""Compare two tokenizers: vocabulary overlap, where their merge lists part, and where their tokens differ on a text.

Two BPE tokenizers trained on the same data with different tie rules agree merge for merge until the first tie
that they break differently. With a corpus, :func:`first_departure` counts both candidate pairs on it at that
point (after the merges they share), so a tie is recognisable as one: equal counts mean "tie broken differently".

On a sample text, :func:`align` cuts the text wherever both tokenizers have a token boundary; each piece between
such cuts is a :class:`Segment` with each side's tokens, so an app can draw the two tokenizations side by side.

Tokenizers of different families write the same text differently: SentencePiece's ``▁`` is a space, WordPiece's
``##`` marks a piece inside a word, a byte-fallback piece ``<0xF0>`` is one byte (and GPT-2's ``Ġ`` is a space
byte, which the readers already map). :func:`plain_vocab` maps every token to the plain text bytes it stands for,
so :func:`mapped_overlap` says how many tokens two families share once their conventions are set aside.

Example:
    >>> base = {i: bytes([i]) for i in range(256)}
    >>> a = Tokenizer(base | {256: b"ab"}, [(b"a", b"b")])
    >>> b = Tokenizer(base | {256: b"cd"}, [(b"c", b"d")])
    >>> d = diff_tokenizers(a, b, corpus=["ab cd"], text="ab cd")
    >>> d.departure.index, d.departure.count_a, d.departure.count_b, d.departure.verdict
    (0, 1, 1, 'tie broken differently')
    >>> [(s.text, s.same) for s in d.text_diff.segments]
    [('ab', False), (' ', True), ('cd', False)]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tokviz.models.bpe import Tokenizer
from tokviz.models.piece_model import piece_bytes
from tokviz.pre_tokenizers.metaspace import SPACE_MARK
from tokviz.training.counting import count_chunks
from tokviz.training.trainer import corpus_chunks

Pair = tuple[bytes, bytes]
Corpus = str | os.PathLike[str] | Iterable[str]


@dataclass(frozen=True)
class VocabOverlap:
    """Tokens (as bytes) both vocabularies hold, and those only one holds; ``same_id`` shared tokens keep their id."""

    size_a: int
    size_b: int
    shared: int
    only_a: list[bytes]
    only_b: list[bytes]
    same_id: int

    @property
    def jaccard(self) -> float:
        """Shared tokens over all distinct tokens (1.0 for equal vocabularies)."""
        union = self.shared + len(self.only_a) + len(self.only_b)
        return self.shared / union if union else 1.0


@dataclass(frozen=True)
class MergeDeparture:
    """The first merge rank where the lists differ; a pair is None where that list has already ended.

    ``count_a``/``count_b`` are the pairs' counts on the corpus after the shared merges (None without a corpus).
    """

    index: int
    pair_a: Pair | None
    pair_b: Pair | None
    count_a: int | None = None
    count_b: int | None = None
    verdict: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of the text between two boundaries both tokenizers share, with each side's tokens."""

    byte_start: int
    byte_end: int
    char_start: int
    char_end: int
    text: str
    a_ids: list[int]
    a_tokens: list[bytes]
    b_ids: list[int]
    b_tokens: list[bytes]

    @property
    def same(self) -> bool:
        """True when both sides cut this stretch into the same tokens (their ids may still differ)."""
        return self.a_tokens == self.b_tokens


@dataclass(frozen=True)
class TextDiff:
    """The text cut at shared boundaries; ``segments`` cover it in order."""

    text: str
    segments: list[Segment]
    n_tokens_a: int
    n_tokens_b: int

    @property
    def differing(self) -> list[Segment]:
        return [s for s in self.segments if not s.same]


@dataclass(frozen=True)
class TokenizerDiff:
    """Everything :func:`diff_tokenizers` found."""

    name_a: str
    name_b: str
    vocab: VocabOverlap
    shared_merges: int
    departure: MergeDeparture | None
    same_pattern: bool
    same_specials: bool
    text_diff: TextDiff | None = None
    notes: list[str] = field(default_factory=list)


def vocab_overlap(a: Tokenizer, b: Tokenizer) -> VocabOverlap:
    """Compare the vocabularies as sets of byte strings (lists in id order)."""
    return _overlap(a.vocab, b.vocab)


def _overlap(va: Mapping[int, bytes], vb: Mapping[int, bytes]) -> VocabOverlap:
    ta, tb = set(va.values()), set(vb.values())
    ids_b = {t: i for i, t in vb.items()}
    only_a = [t for _, t in sorted(va.items()) if t not in tb]
    only_b = [t for _, t in sorted(vb.items()) if t not in ta]
    same_id = sum(1 for i, t in va.items() if ids_b.get(t) == i)
    return VocabOverlap(len(va), len(vb), len(ta & tb), list(dict.fromkeys(only_a)),
                        list(dict.fromkeys(only_b)), same_id)


class HasVocab(Protocol):
    """A tokenizer with a vocabulary: ``vocab`` (id -> the bytes its encodings show)."""

    @property
    def vocab(self) -> Mapping[int, bytes]: ...


def plain_token(piece: str, *, family: str, prefix: str = "##") -> bytes:
    """The plain text bytes a vocabulary piece of another family stands for: ``▁`` is a space (SentencePiece
    BPE, Unigram), a leading ``##`` is dropped (WordPiece: it only says the piece continues a word), a byte piece
    ``<0xNN>`` is its byte.

    >>> plain_token("▁hello", family="unigram"), plain_token("##llo", family="wordpiece"), plain_token(
    ...     "<0xF0>", family="bpe-sp")
    (b' hello', b'llo', b'\\xf0')
    """
    if family == "wordpiece":
        return (piece[len(prefix):] if piece.startswith(prefix) and len(piece) > len(prefix) else piece).encode()
    data = piece_bytes(piece)
    return data if len(data) == 1 and piece.startswith("<0x") else piece.replace(SPACE_MARK, " ").encode()


def family_kind(tok: object) -> str:
    """``"wordpiece"``, ``"unigram"``, ``"bpe-sp"`` for another family, ``"byte-level"`` for any other."""
    family = getattr(tok, "family", None)
    return family if family in ("wordpiece", "unigram", "bpe-sp") else "byte-level"


def plain_vocab(tok: HasVocab) -> dict[int, bytes]:
    """Every id's token as plain text bytes (see :func:`plain_token`); a byte-level tokenizer's tokens are
    already bytes (GPT-2's ``Ġ`` was mapped when its file was read).

    >>> base = {i: bytes([i]) for i in range(256)}
    >>> plain_vocab(Tokenizer(base | {256: b" a"}, [(b" ", b"a")]))[256]
    b' a'
    """
    family = family_kind(tok)
    if family == "byte-level":
        return dict(tok.vocab)
    piece = getattr(tok, "piece")  # noqa: B009  # every tokenizer of these families names its pieces
    prefix = getattr(getattr(tok, "wordpiece", None), "prefix", "##")
    return {i: plain_token(piece(i), family=family, prefix=prefix) for i in tok.vocab}


def mapped_overlap(a: HasVocab, b: HasVocab) -> VocabOverlap:
    """The vocabularies of any two tokenizers compared as plain text (:func:`plain_vocab`): ``shared`` counts the
    distinct texts both hold; a WordPiece ``a`` and ``##a`` are one text."""
    return _overlap(plain_vocab(a), plain_vocab(b))


def _apply_merges(word: bytes, ranks: dict[Pair, int]) -> list[bytes]:
    """BPE with the given merges: the lowest-ranked adjacent pair first (leftmost on ties), as training applied them."""
    parts = [word[i : i + 1] for i in range(len(word))]
    while len(parts) > 1:
        best, at = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get((parts[i], parts[i + 1]))
            if r is not None and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        parts[at : at + 2] = [parts[at] + parts[at + 1]]
    return parts


def pair_counts_after(
    merges: Sequence[Pair], pairs: Sequence[Pair], word_counts: dict[bytes, int]
) -> list[int]:
    """How often each of ``pairs`` occurs adjacently in the corpus once ``merges`` are applied (as training counts).

    >>> pair_counts_after([(b"a", b"b")], [(b"ab", b"c"), (b"b", b"c")], {b"abc": 2, b"bc": 1})
    [2, 1]
    """
    ranks = {m: r for r, m in reversed(list(enumerate(merges)))}
    wanted = set(pairs)
    found: Counter[Pair] = Counter()
    for word, n in word_counts.items():
        parts = _apply_merges(word, ranks)
        for p in zip(parts, parts[1:]):
            if p in wanted:
                found[p] += n
    return [found[p] for p in pairs]


def _corpus_word_counts(tok: Tokenizer, corpus: Corpus | Sequence[str | os.PathLike[str]]) -> dict[bytes, int]:
    counts = count_chunks(corpus_chunks(corpus), tok.pretokenizer)
    return {w.encode("latin-1"): c for w, c in counts.items()}


def first_departure(
    a: Tokenizer, b: Tokenizer, *, corpus: Corpus | Sequence[str | os.PathLike[str]] | None = None
) -> MergeDeparture | None:
    """Where the merge lists first differ (None if they are equal), with both pairs' counts when given a corpus.

    The corpus is pre-tokenized with ``a``'s pattern and special tokens, the merges both lists share are applied,
    and each pair is counted the way training counts it (every adjacent occurrence, times the pre-token's count).
    """
    k = 0
    n = min(len(a.merges), len(b.merges))
    while k < n and a.merges[k] == b.merges[k]:
        k += 1
    if k == len(a.merges) == len(b.merges):
        return None
    pa = a.merges[k] if k < len(a.merges) else None
    pb = b.merges[k] if k < len(b.merges) else None
    if pa is None or pb is None:
        ended = "A" if pa is None else "B"
        return MergeDeparture(k, pa, pb, verdict=f"{ended}'s merge list ends here; the other goes on")
    if corpus is None:
        return MergeDeparture(k, pa, pb, verdict="give a corpus to tell a tie from a real difference")
    words = _corpus_word_counts(a, corpus)
    ca, cb = pair_counts_after(a.merges[:k], [pa, pb], words)
    if ca == cb:
        verdict = "tie broken differently"
    else:
        more = "A" if ca > cb else "B"
        verdict = (f"different counts: {more}'s pair is the more frequent on this corpus; the tokenizers saw different "
                   "data (or count differently)")
    return MergeDeparture(k, pa, pb, ca, cb, verdict)


def align(a: Tokenizer, b: Tokenizer, text: str) -> TextDiff:
    """Both tokenizations of ``text``, cut at the byte boundaries they share (see :class:`Segment`).

    With a tokenizer of another family on a side, its tokens' bytes are not the text's (``▁``, ``##`` are marks),
    so the cuts are where both have a token end in the text's characters, and each side's tokens are given as
    plain text bytes (:func:`plain_token`), so that ``Segment.same`` compares what the tokens stand for.
    """
    if family_kind(a) != "byte-level" or family_kind(b) != "byte-level":
        return _align_by_chars(a, b, text)
    ea, eb = a.encode_with_offsets(text), b.encode_with_offsets(text)
    n_bytes = len(text.encode("utf-8"))
    shared = sorted(({0, n_bytes} | {e for _, e in ea.byte_spans}) & ({0, n_bytes} | {e for _, e in eb.byte_spans}))
    segments: list[Segment] = []
    ia = ib = 0
    for start, end in zip(shared, shared[1:]):
        a_idx: list[int] = []
        while ia < len(ea) and ea.byte_spans[ia][1] <= end:
            a_idx.append(ia)
            ia += 1
        b_idx: list[int] = []
        while ib < len(eb) and eb.byte_spans[ib][1] <= end:
            b_idx.append(ib)
            ib += 1
        spans = [ea.char_spans[i] for i in a_idx] + [eb.char_spans[i] for i in b_idx]
        c0 = min((s for s, _ in spans), default=0)
        c1 = max((e for _, e in spans), default=0)
        segments.append(Segment(start, end, c0, c1, text[c0:c1], [ea.ids[i] for i in a_idx],
                                [ea.tokens[i] for i in a_idx], [eb.ids[i] for i in b_idx],
                                [eb.tokens[i] for i in b_idx]))
    return TextDiff(text, segments, len(ea), len(eb))


def _plain_tokens(tok: object, ids: Sequence[int], tokens: Sequence[bytes]) -> list[bytes]:
    family = family_kind(tok)
    if family == "byte-level":
        return list(tokens)
    piece = getattr(tok, "piece")  # noqa: B009  # every tokenizer of these families names its pieces
    prefix = getattr(getattr(tok, "wordpiece", None), "prefix", "##")
    return [plain_token(piece(i), family=family, prefix=prefix) for i in ids]


def _align_by_chars(a: Tokenizer, b: Tokenizer, text: str) -> TextDiff:
    ea, eb = a.encode_with_offsets(text), b.encode_with_offsets(text)
    n = len(text)
    ends_a = {0, n} | {e for _, e in ea.char_spans}
    ends_b = {0, n} | {e for _, e in eb.char_spans}
    shared = sorted(ends_a & ends_b)
    plain_a = _plain_tokens(a, ea.ids, ea.tokens)
    plain_b = _plain_tokens(b, eb.ids, eb.tokens)
    # Byte offset of each character boundary, for the segments' byte spans over the text's UTF-8.
    byte_at = [0] * (n + 1)
    for i, ch in enumerate(text):
        byte_at[i + 1] = byte_at[i] + len(ch.encode("utf-8"))
    segments: list[Segment] = []
    ia = ib = 0
    for start, end in zip(shared, shared[1:]):
        a_idx: list[int] = []
        while ia < len(ea) and ea.char_spans[ia][1] <= end:
            a_idx.append(ia)
            ia += 1
        b_idx: list[int] = []
        while ib < len(eb) and eb.char_spans[ib][1] <= end:
            b_idx.append(ib)
            ib += 1
        segments.append(Segment(byte_at[start], byte_at[end], start, end, text[start:end],
                                [ea.ids[i] for i in a_idx], [plain_a[i] for i in a_idx],
                                [eb.ids[i] for i in b_idx], [plain_b[i] for i in b_idx]))
    return TextDiff(text, segments, len(ea), len(eb))


def diff_tokenizers(
    a: Tokenizer,
    b: Tokenizer,
    *,
    corpus: Corpus | Sequence[str | os.PathLike[str]] | None = None,
    text: str | None = None,
) -> TokenizerDiff:
    """Vocabulary overlap, first merge departure (with counts on ``corpus``), and an aligned diff of ``text``."""
    notes: list[str] = []
    same_pattern = a.pretokenizer.source == b.pretokenizer.source
    same_specials = a.special_ids == b.special_ids
    if not same_pattern:
        notes.append("the pre-tokenizer patterns differ, so pieces (and therefore tokens) can differ on any text")
    if corpus is not None and not same_pattern:
        notes.append("pair counts use A's pattern")
    departure = first_departure(a, b, corpus=corpus)
    shared = departure.index if departure is not None else len(a.merges)
    return TokenizerDiff(a.name, b.name, vocab_overlap(a, b), shared, departure, same_pattern, same_specials,
                         align(a, b, text) if text is not None else None, notes)


__all__ = ["HasVocab", "MergeDeparture", "Segment", "TextDiff", "TokenizerDiff", "VocabOverlap", "align",
           "diff_tokenizers", "family_kind", "first_departure", "mapped_overlap", "pair_counts_after", "plain_token",
           "plain_vocab", "vocab_overlap"]
