"""Encode a long text in segments, so that an edit re-encodes only the segment or two it touches.

The text is cut at places where every tokenizer family that allows it starts afresh: encoding each segment on its
own and joining the results gives exactly the ids (and offsets) of encoding the whole text. Which places are safe
depends on the family, and the proofs are the ones streaming already relies on
(:mod:`tokviz.pre_tokenizers.pretokenizer`):

- our BPE (:class:`~tokviz.models.bpe.Tokenizer`, the built-in OpenAI encodings) with a named pattern (gpt2, gpt4,
  o200k): before a ``" "`` that follows a non-space character, unless a special token covers it (no named pattern
  puts the two in one piece, and BPE never merges across pieces);
- the same with a custom pattern: where :meth:`~tokviz.pre_tokenizers.pretokenizer.PreTokenizer.safe_cut` proves a cut
(verified
  match ends for a pattern without lookaround or anchors; only special-token starts otherwise);
- the prefix-space variant: those cuts where a space or a special token follows (so no space is added there);
- the character, byte and word baselines: before a ``" "`` that follows a non-space character;
- every other family (a ``tokenizer.json`` pipeline, WordPiece, Unigram, SentencePiece): nowhere, since a normalizer
  or a pre-tokenizer may look at where a stretch starts; such a text is encoded whole.

Cuts are chosen by content, not by position: a candidate space is taken when a hash of the few characters before it
falls in a fixed bucket. An edit therefore moves no cut outside the segment it lands in (plus one neighbour when it
creates or removes a chosen space), and :class:`SegmentCache`, keyed by the segment's own text, finds every other
segment already encoded.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> tok, text = ByteTokenizer(), " ".join(f"word{i}" for i in range(300))
    >>> spans = segment_spans(tok, text, target=64)
    >>> len(spans) > 1, spans[0][0] == 0 and spans[-1][1] == len(text)
    (True, True)
    >>> cache = SegmentCache()
    >>> sum((cache.ids(tok, "byte", text[s:e]) for s, e in spans), []) == tok.encode(text)
    True
"""

from __future__ import annotations

import threading
import zlib
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial as partial_fn
from itertools import accumulate
from typing import TypeVar

import regex

from tokviz.core.encoding import Encoding, LazyPieces, Piece
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

T = TypeVar("T")

#: Characters per segment aimed at, on prose: small enough that re-encoding one is instant, large enough that a
#: megabyte is a few hundred segments.
DEFAULT_TARGET = 2048
_REGEX_SPACE = regex.compile(r"\s")


def find_anchors(text: str, *, target: int = DEFAULT_TARGET) -> list[int]:
    """Positions of spaces chosen by content, about ``target`` characters apart on prose, each before a ``" "`` that
    follows a non-space character.

    A space is chosen when the CRC-32 of the text since the space before it (the word it ends) falls in one of
    ``target // 8`` buckets (about one character in eight of prose is a space), so whether a place is chosen depends
    on that word alone. Stretches that this leaves without a place (a text repeating a few words) get places
    every ``2 * target`` characters.

    >>> text = " ".join(f"word{i}" for i in range(1000))
    >>> a = find_anchors(text, target=100)
    >>> len(a) > 10, all(text[i] == " " and text[i - 1] != " " for i in a)
    (True, True)
    >>> find_anchors("Hello " + text, target=100) == [i + 6 for i in a]  # an edit moves no other place
    True
    """
    if target < 1:
        raise ValueError(f"target must be at least 1 character, got {target}.")
    buckets = max(1, target // 8)
    # One C-level pass per step (encode, split, CRC, running lengths): a megabyte takes a few hundredths of a
    # second, where a Python loop over its spaces took a fifth. Bucket 1, not 0: an empty word (two spaces in a row)
    # has CRC 0 and is never a place to cut. UTF-8 holds a space only as the byte 0x20, so the words of the bytes
    # are the words of the text.
    data = text.encode("utf-8", "surrogatepass")
    byte_words = data.split(b" ")
    chosen = [k for k, h in enumerate(map(zlib.crc32, byte_words)) if h % buckets == 1 % buckets]
    if not chosen:
        return _fill_gaps(text, [], target=target)
    lengths = map(len, byte_words) if len(data) == len(text) else map(len, text.split(" "))
    ends = list(accumulate(lengths))
    out: list[int] = []
    for k in chosen[:-1] if chosen[-1] == len(byte_words) - 1 else chosen:  # the last word has no space after it
        i = ends[k] + k  # the space after word k
        if i > 0 and _safe_space(text, i):
            out.append(i)
    return _fill_gaps(text, out, target=target)


def _safe_space(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a space after a character that no engine calls whitespace."""
    c = text[i - 1]
    return not c.isspace() and _REGEX_SPACE.match(c) is None


def _fill_gaps(text: str, anchors: list[int], *, target: int) -> list[int]:
    """``anchors`` with extra places in every stretch longer than ``4 * target`` characters that has none.

    A text that repeats a few words ("hello world " * 10000) gives every chosen word everywhere or nowhere; where it
    gives nowhere, places are taken every ``2 * target`` characters from the last chosen one. Those move with an
    edit before them, but in a repeating text the segments they cut are the same strings, so the cache still
    finds them.
    """
    step, out = 2 * target, []
    bounds = [0, *anchors, len(text)]
    for a, b in zip(bounds, bounds[1:]):
        t = a + step
        while b - a > 2 * step and t < b - step:
            i = text.find(" ", t, b - step)
            while i != -1 and not _safe_space(text, i):
                i = text.find(" ", i + 1, b - step)
            if i == -1:
                break
            out.append(i)
            t = i + step
        if b < len(text):
            out.append(b)
    return out


def segment_cuts(tok: TokenizerLike, text: str, *, anchors: Sequence[int] | None = None,
                 target: int = DEFAULT_TARGET) -> list[int]:
    """The positions strictly inside ``text`` where ``tok``'s encoding of ``text`` may be cut, in order.

    ``anchors`` (from :func:`find_anchors`, computed once per text for all tokenizers) are the places looked at;
    the result is those proven safe for ``tok``'s family (see the module docstring), empty where none is.

    >>> from tokviz import Tokenizer
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)}, [], special_tokens=["<|a b|>"])
    >>> text = "x <|a b|> y"
    >>> segment_cuts(tok, text, anchors=[1, 4, 9])  # 4 lies inside the special token
    [1, 9]
    """
    if anchors is None:
        anchors = find_anchors(text, target=target)
    anchors = [a for a in anchors if 0 < a < len(text)]
    kind = type(tok)
    if kind in (ByteTokenizer, CharacterTokenizer, WordTokenizer):
        return anchors
    if kind not in (Tokenizer, PrefixSpaceTokenizer):
        return []  # a family whose reach cannot be bounded here: encoded whole
    if not isinstance(tok, Tokenizer):
        return []
    pt = tok.pretokenizer
    specials = _special_spans(pt, text)
    if pt.name is not None:
        return _outside(anchors, specials)
    cuts = _custom_cuts(pt, text, anchors, specials)
    if kind is PrefixSpaceTokenizer:
        # A stretch that starts without a space gets one; a cut before a space or a special token adds none.
        starts = {s for s, _ in specials}
        cuts = [c for c in cuts if text[c] == " " or c in starts]
    return cuts


def segment_spans(tok: TokenizerLike, text: str, *, anchors: Sequence[int] | None = None,
                  target: int = DEFAULT_TARGET) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` covering ``text`` in order, cut at :func:`segment_cuts` (one span for short texts or
    families that cannot be cut; none for an empty text)."""
    if not text:
        return []
    bounds = [0, *segment_cuts(tok, text, anchors=anchors, target=target), len(text)]
    return list(zip(bounds, bounds[1:]))


def _special_spans(pt: PreTokenizer, text: str) -> list[tuple[int, int]]:
    """Where the special tokens are in ``text``, as one pass over it finds them."""
    if not pt.special_tokens:
        return []
    out: list[tuple[int, int]] = []
    pos = 0
    for seg, is_special in pt.segments(text):
        if is_special:
            out.append((pos, pos + len(seg)))
        pos += len(seg)
    return out


def _outside(cuts: Sequence[int], spans: Sequence[tuple[int, int]]) -> list[int]:
    """``cuts`` that no span covers (a cut at a span's start or end is kept)."""
    if not spans:
        return list(cuts)
    starts = [s for s, _ in spans]
    out = []
    for c in cuts:
        k = bisect_left(starts, c) - 1  # the last span starting before c
        if k < 0 or spans[k][1] <= c:
            out.append(c)
    return out


def _custom_cuts(pt: PreTokenizer, text: str, anchors: Sequence[int],
                 specials: Sequence[tuple[int, int]]) -> list[int]:
    """Cuts for a custom pattern, found as streaming finds them: each one proven for the text from the previous."""
    starts = [s for s, _ in specials if s > 0]
    if not pt.context_free:
        return starts  # a special token's start is always a cut; nothing else is proven for such a pattern
    margin = max((len(s) for s in pt.special_tokens), default=0)
    cuts: list[int] = []
    prev = 0
    retry_at = 0  # after a failed search, wait until the stretch has doubled, so the searches stay linear
    for a in anchors:
        if a <= prev or a - prev < retry_at:
            continue
        end = a + margin + 1
        if end > len(text):
            break
        cut = pt.safe_cut(text[prev:end])
        if cut == 0:
            retry_at = 2 * (a - prev)
            continue
        retry_at = 0
        prev += cut
        cuts.append(prev)
    return sorted(set(cuts) | set(starts))


# -- joining ---------------------------------------------------------------------------------------------------------


def shift_encoding(enc: Encoding, *, chars: int, bytes_: int) -> Encoding:
    """``enc`` with every character span (and piece) moved by ``chars`` and every byte span by ``bytes_``.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> shift_encoding(ByteTokenizer().encode_with_offsets("é"), chars=3, bytes_=5).char_spans
    [(3, 4), (3, 4)]
    """
    if chars == 0 and bytes_ == 0:
        return enc
    return Encoding(
        list(enc.ids), list(enc.tokens),
        [(s + bytes_, e + bytes_) for s, e in enc.byte_spans],
        [(s + chars, e + chars) for s, e in enc.char_spans],
        list(enc.partial),
        [Piece(p.text, p.start + chars, p.end + chars, p.special) for p in enc.pieces],
        list(enc.special),
    )


def join_encodings(parts: Iterable[tuple[int, Encoding]]) -> Encoding:
    """One encoding from ``(character start, encoding of the segment there)`` pairs in text order.

    Each segment's character spans move by its start; its byte spans by the bytes of the segments before it.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> b = ByteTokenizer()
    >>> join_encodings([(0, b.encode_with_offsets("ab")), (2, b.encode_with_offsets(" é"))]) \\
    ...     == b.encode_with_offsets("ab é")
    True
    """
    ids: list[int] = []
    tokens: list[bytes] = []
    byte_spans: list[tuple[int, int]] = []
    char_spans: list[tuple[int, int]] = []
    partial: list[bool] = []
    special: list[bool] = []
    byte_pos = 0
    parts = list(parts)
    for start, enc in parts:
        ids += enc.ids
        tokens += enc.tokens
        byte_spans += [(s + byte_pos, e + byte_pos) for s, e in enc.byte_spans]
        char_spans += [(s + start, e + start) for s, e in enc.char_spans]
        partial += enc.partial
        special += enc.special
        byte_pos += enc.n_bytes
    # Pieces only when a view reads them (the pre-tokenizer's chunks): an engine's encoding has none made yet.
    return Encoding(ids, tokens, byte_spans, char_spans, partial, LazyPieces(partial_fn(_moved_pieces, parts)),
                    special)


def _moved_pieces(parts: list[tuple[int, Encoding]]) -> list[Piece]:
    return [Piece(p.text, p.start + start, p.end + start, p.special) for start, enc in parts for p in enc.pieces]


# -- the cache -------------------------------------------------------------------------------------------------------


class SegmentCache:
    """Encodings of segments, keyed by (tokenizer key, segment text), least recently used out first.

    ``max_chars`` bounds the characters of the segments held for ids, ``max_offset_chars`` those held with offsets
    (an :class:`Encoding` costs far more memory per character than a list of ids). Safe to share between threads:
    encoding runs outside the lock, so two threads asking for the same new segment may both encode it.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> c = SegmentCache(max_chars=4)
    >>> c.ids(ByteTokenizer(), "b", "hi"), c.ids(ByteTokenizer(), "b", "there"), len(c)
    ([104, 105], [116, 104, 101, 114, 101], 1)
    """

    def __init__(self, *, max_chars: int = 8_000_000, max_offset_chars: int = 2_000_000) -> None:
        if max_chars < 0 or max_offset_chars < 0:
            raise ValueError("cache bounds must be zero or more characters.")
        # Drawn pages (see :meth:`memo`) are held under the offsets' bound: they are offsets too.
        self._bounds = {"ids": max_chars, "offsets": max_offset_chars, "memo": max_offset_chars}
        self._entries: OrderedDict[tuple[str, Hashable, str], object] = OrderedDict()
        self._held = {"ids": 0, "offsets": 0, "memo": 0}
        self._lock = threading.Lock()
        #: Segments encoded (cache misses) since creation, by kind: what a benchmark or a test reads.
        self.misses = {"ids": 0, "offsets": 0, "memo": 0}

    def __len__(self) -> int:
        return len(self._entries)

    def _get(self, kind: str, key: Hashable, segment: str) -> object:
        k = (kind, key, segment)
        with self._lock:
            hit = self._entries.get(k)
            if hit is not None:
                self._entries.move_to_end(k)
            return hit

    def _put(self, kind: str, key: Hashable, segment: str, value: object) -> None:
        k = (kind, key, segment)
        with self._lock:
            self.misses[kind] += 1
            if len(segment) > self._bounds[kind] or k in self._entries:
                return
            self._entries[k] = value
            self._held[kind] += len(segment)
            while self._held[kind] > self._bounds[kind]:
                old = next(k2 for k2 in self._entries if k2[0] == kind)
                del self._entries[old]
                self._held[kind] -= len(old[2])

    def ids(self, tok: TokenizerLike, key: Hashable, segment: str) -> list[int]:
        """``tok.encode(segment)``, from the cache when this tokenizer key has encoded this text before."""
        hit = self._get("ids", key, segment)
        if isinstance(hit, list):
            return hit
        out = encode_as_shown(tok, segment)
        self._put("ids", key, segment, out)
        return out

    def memo(self, key: Hashable, text: str, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``(key, text)`` (``text`` is what the result is made from, and what it costs
        in the bound): for results built from segments, such as a drawn page or its markup.

        >>> c = SegmentCache()
        >>> c.memo("k", "ab", lambda: [1]) is c.memo("k", "ab", lambda: [2])
        True
        """
        hit = self._get("memo", key, text)
        if hit is not None:
            return hit  # type: ignore[return-value]  # stored by this method under this key: a T
        out = compute()
        self._put("memo", key, text, out)
        return out

    def encoding(self, tok: TokenizerLike, key: Hashable, segment: str) -> Encoding:
        """``tok.encode_with_offsets(segment)`` (spans relative to the segment), cached as :meth:`ids`."""
        hit = self._get("offsets", key, segment)
        if isinstance(hit, Encoding):
            return hit
        out = tok.encode_with_offsets(segment)
        self._put("offsets", key, segment, out)
        return out


# -- a segmented text ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentedIds:
    """One tokenizer's ids of a text, segment by segment: ``spans[k]`` holds the ids ``ids_by_segment[k]``."""

    text: str
    spans: list[tuple[int, int]]
    ids_by_segment: list[list[int]]

    @property
    def ids(self) -> list[int]:
        """All ids, equal to encoding the whole text."""
        return [i for seg in self.ids_by_segment for i in seg]

    @property
    def n_tokens(self) -> int:
        return sum(map(len, self.ids_by_segment))


def slice_segments(text: str, spans: Sequence[tuple[int, int]], start: int, end: int, *, tok: TokenizerLike,
                   key: Hashable, cache: SegmentCache) -> tuple[int, int, Encoding]:
    """The tokens that start in characters ``[start, end)`` of ``text`` cut at ``spans``, from the segment spans
    alone (no ids of the other segments needed, so a page can be drawn before the rest of the text is encoded):
    ``(index of the first segment overlapping [start, end), index of the first token in it, encoding)``. The
    encoding's character spans (and pieces) are relative to ``start``; its byte spans to the first token's first
    byte. A token that starts before ``end`` may reach past it (where ``end`` is not a cut for ``tok``).

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> k, lo, enc = slice_segments("ab cd ef", [(0, 2), (2, 5), (5, 8)], 3, 6, tok=ByteTokenizer(), key="b",
    ...                             cache=SegmentCache())
    >>> k, lo, enc.ids, enc.char_spans
    (1, 1, [99, 100, 32], [(0, 1), (1, 2), (2, 3)])
    """
    first = bisect_right([e for _, e in spans], start)
    last = max(first, bisect_left([s for s, _ in spans], end))
    parts = [(spans[k][0], cache.encoding(tok, key, text[spans[k][0]:spans[k][1]])) for k in range(first, last)]
    whole = join_encodings(parts)
    starts = [a for a, _ in whole.char_spans]
    lo, hi = bisect_left(starts, start), bisect_left(starts, end)
    if lo >= hi:
        return first, lo, Encoding([], [], [], [], [], [], [])
    b0 = whole.byte_spans[lo][0]
    last = whole.char_spans[hi - 1][1]
    pieces = LazyPieces(partial_fn(_page_pieces, whole.pieces, start, last))
    page = Encoding(
        whole.ids[lo:hi], whole.tokens[lo:hi],
        [(a - b0, b - b0) for a, b in whole.byte_spans[lo:hi]],
        [(a - start, b - start) for a, b in whole.char_spans[lo:hi]],
        whole.partial[lo:hi], pieces, whole.special[lo:hi] if whole.special else [],
    )
    return first, lo, page


def _page_pieces(pieces: Sequence[Piece], start: int, last: int) -> list[Piece]:
    return [Piece(p.text, max(p.start, start) - start, p.end - start, p.special)
            for p in pieces if p.end > start and p.start < last]
