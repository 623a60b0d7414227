"""A long text on the Tokenize page: pages cut at token boundaries, each panel's tokens of one page, and the
bytes-per-token strip along the whole text.

Every chosen tokenizer encodes the text in segments (:mod:`tokviz.pipelines.incremental`), so an edit re-encodes one or
two
of them; only the segments of the page in view are encoded with offsets. Pages are shared by all panels and cut, where
the text allows, at the places segments are cut at (a token boundary for every tokenizer whose cuts they are), else
before a space that follows a non-space character; a tokenizer whose token crosses a page's end draws that token on
the page where it starts.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz.pipelines.incremental import SegmentCache
    >>> text = " ".join(f"word{i}" for i in range(2000))
    >>> pages = page_bounds(text, page_chars=1000)
    >>> pages[0][0], pages[-1][1] == len(text), all(b - a <= 1000 for a, b in pages)
    (0, True, True)
    >>> panel = encode_panel(ByteTokenizer(), text, key="byte", cache=SegmentCache())
    >>> page = draw_page(panel, pages[1])
    >>> page.encoding.ids == list(text[slice(*pages[1])].encode()), page.first == pages[1][0]
    (True, True)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from tokviz.core.encoding import Encoding
from tokviz.core.protocol import TokenizerLike
from tokviz.pipelines.incremental import (
    DEFAULT_TARGET,
    SegmentCache,
    SegmentedIds,
    find_anchors,
    segment_spans,
    slice_segments,
)

#: Most points a tokenizer's line on the strip has: more would be narrower than a pixel on a laptop screen.
STRIP_BINS = 120


def page_bounds(text: str, *, page_chars: int, anchors: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """``[(start, end), ...]``: pages of at most ``page_chars`` characters covering ``text`` in order.

    Each page ends at the last of ``anchors`` (segment cuts) in the second half of its window, else at the last
    space there that follows a non-space character, else at the window's end.

    >>> page_bounds("aaaa bbbb cccc", page_chars=11)
    [(0, 9), (9, 14)]
    >>> page_bounds("", page_chars=5)
    []
    """
    if page_chars < 1:
        raise ValueError(f"page_chars must be a positive number of characters, got {page_chars}.")
    if anchors is None:
        anchors = find_anchors(text)
    n = len(text)
    out: list[tuple[int, int]] = []
    a = 0
    while a < n:
        limit = a + page_chars
        if limit >= n:
            out.append((a, n))
            break
        half = a + page_chars // 2
        k = bisect_right(anchors, limit) - 1
        if k >= 0 and anchors[k] > half:
            b = anchors[k]
        else:
            b = _space_cut(text, half, limit)
        out.append((a, b))
        a = b
    return out


def _space_cut(text: str, lo: int, hi: int) -> int:
    """The last ``i`` in ``(lo, hi]`` with ``text[i] == " "`` after a non-space character, else ``hi``."""
    i = text.rfind(" ", lo + 1, hi + 1)
    while i > lo:
        if not text[i - 1].isspace():
            return i
        i = text.rfind(" ", lo + 1, i)
    return hi


def page_of(pages: Sequence[tuple[int, int]], pos: int) -> int:
    """The index of the page holding character ``pos`` (the last page for a position past the end).

    >>> page_of([(0, 5), (5, 9)], 5), page_of([(0, 5), (5, 9)], 99)
    (1, 1)
    """
    if not pages:
        return 0
    return max(0, min(len(pages) - 1, bisect_right([a for a, _ in pages], pos) - 1))


@dataclass(frozen=True)
class Panel:
    """One tokenizer's view of the whole text: where its segments are, and their ids and offsets through ``cache``
    (each segment encoded once, when first asked for: a page can be drawn before the rest is counted)."""

    tokenizer: TokenizerLike
    key: Hashable
    text: str
    spans: list[tuple[int, int]]
    cache: SegmentCache

    def segment_ids(self, k: int) -> list[int]:
        s, e = self.spans[k]
        return self.cache.ids(self.tokenizer, self.key, self.text[s:e])

    @property
    def segments(self) -> SegmentedIds:
        """Every segment's ids (encoding those not held yet)."""
        return SegmentedIds(self.text, self.spans, [self.segment_ids(k) for k in range(len(self.spans))])

    @property
    def n_tokens(self) -> int:
        return sum(len(self.segment_ids(k)) for k in range(len(self.spans)))


def plan_panel(tok: TokenizerLike, text: str, *, key: Hashable, cache: SegmentCache,
               anchors: Sequence[int] | None = None, target: int = DEFAULT_TARGET) -> Panel:
    """``tok``'s segments of ``text``, nothing encoded yet."""
    return Panel(tok, key, text, segment_spans(tok, text, anchors=anchors, target=target), cache)


def encode_panel(tok: TokenizerLike, text: str, *, key: Hashable, cache: SegmentCache,
                 anchors: Sequence[int] | None = None, target: int = DEFAULT_TARGET) -> Panel:
    """:func:`plan_panel` with every segment's ids encoded (or found in ``cache``)."""
    panel = plan_panel(tok, text, key=key, cache=cache, anchors=anchors, target=target)
    panel.segments  # noqa: B018  (encodes every segment into the cache)
    return panel


@dataclass(frozen=True)
class DrawnPage:
    """The tokens of one page: ``encoding`` spans index ``text`` (the page's characters, up to the end of its last
    token), and ``first`` is the index of its first token in the whole text's encoding. ``source`` is what the page
    is made from, ``(key, text of its segments)``: the same source, the same page, so markup built from it can be
    kept under it (:meth:`tokviz.pipelines.incremental.SegmentCache.memo`)."""

    first: int
    encoding: Encoding
    text: str
    source: tuple[Hashable, str] = ((), "")


def draw_page(panel: Panel, page: tuple[int, int], *, cache: SegmentCache | None = None) -> DrawnPage:
    """The tokens of ``panel`` that start in ``page``, ready for :func:`tokviz.viewmodels.render.render_tokens`.

    Only the segments of the page are encoded with offsets, and only those before it for their ids (none for the
    first page), so a page is drawn before the rest of a long text is encoded. A page whose segments did not change
    (an edit elsewhere) is taken from the cache as it was.
    """
    cache = cache or panel.cache
    start, end = page
    spans = panel.spans
    k0 = bisect_right([e for _, e in spans], start)
    k1 = max(k0, bisect_left([s for s, _ in spans], end))
    base = spans[k0][0] if k0 < len(spans) else start
    stretch = panel.text[base:spans[k1 - 1][1]] if k1 > k0 else ""
    key = ("page", panel.key, start - base, end - base)

    def build() -> tuple[int, Encoding, str]:
        _, lo, enc = slice_segments(panel.text, spans, start, end, tok=panel.tokenizer, key=panel.key, cache=cache)
        stop = max([end - start, *(e for _, e in enc.char_spans)])
        return lo, enc, panel.text[start:start + stop]

    lo, enc, text = cache.memo(key, stretch, build)
    first = sum(len(panel.segment_ids(j)) for j in range(k0)) + lo
    return DrawnPage(first, enc, text, (key, stretch))


@dataclass(frozen=True)
class StripPoint:
    """Bytes per token of one stretch of the text, for one tokenizer."""

    tokenizer: str
    start: int
    end: int
    n_bytes: int
    n_tokens: int

    @property
    def bytes_per_token(self) -> float:
        return self.n_bytes / self.n_tokens if self.n_tokens else 0.0


def strip_points(panels: dict[str, Panel], *, bins: int = STRIP_BINS) -> list[StripPoint]:
    """Bytes per token along the text for each panel: its segments gathered into at most ``bins`` stretches of about
    equal length (a segment counts in the stretch where it starts), so no offsets are needed.

    A tokenizer encoded whole (its family cannot be cut) has one stretch: the whole text.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz.pipelines.incremental import SegmentCache
    >>> p = encode_panel(ByteTokenizer(), "ab " * 3000, key="b", cache=SegmentCache(), target=64)
    >>> {round(s.bytes_per_token, 2) for s in strip_points({"byte": p}, bins=10)}
    {1.0}
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}.")
    out: list[StripPoint] = []
    for name, panel in panels.items():
        seg = panel.segments
        n = len(seg.text)
        if not n:
            continue
        width = max(1, -(-n // bins))
        current: list[int] = []  # start, end, bytes, tokens of the stretch being gathered
        for (s, e), ids in zip(seg.spans, seg.ids_by_segment):
            nbytes = len(seg.text[s:e].encode("utf-8", "surrogatepass"))
            if current and s // width == current[0] // width:
                current[1] = e
                current[2] += nbytes
                current[3] += len(ids)
            else:
                if current:
                    out.append(StripPoint(name, *current))
                current = [s, e, nbytes, len(ids)]
        if current:
            out.append(StripPoint(name, *current))
    return out


def strip_pages(points: Sequence[StripPoint], *, pages: Sequence[tuple[int, int]]) -> list[list[int]]:
    """For each tokenizer's line of the strip (in order), the page number (from 1) of each of its points.

    >>> strip_pages([StripPoint("a", 0, 4, 4, 2), StripPoint("a", 4, 9, 5, 5), StripPoint("b", 0, 9, 9, 3)],
    ...             pages=[(0, 5), (5, 9)])
    [[1, 2], [1]]
    """
    names = list(dict.fromkeys(p.tokenizer for p in points))
    return [[page_of(pages, (p.start + p.end) // 2) + 1 for p in points if p.tokenizer == name] for name in names]
