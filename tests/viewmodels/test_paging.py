"""Pages of a long text: they cover it at token boundaries, each panel's page holds exactly the tokens that start in
it (so the pages together are the whole encoding), pages after an edit shift with it, and the strip measures bytes
per token along the whole text."""

from __future__ import annotations

import re

import pytest
from helpers import HF_TRAIN_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import train_bpe
from tokviz.core.protocol import TokenizerLike
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.pipelines.incremental import SegmentCache, find_anchors
from tokviz.viewmodels.paging import (
    draw_page,
    encode_panel,
    page_bounds,
    page_of,
    strip_pages,
    strip_points,
)
from tokviz.viewmodels.render import render_tokens
from tokviz.viewmodels.strip import SHADES, strip_html


def _prose(n: int) -> str:
    from pydoc_data.topics import topics

    return "".join(topics[k] for k in sorted(topics))[:n]


@pytest.fixture(scope="module")
def toks() -> dict[str, TokenizerLike]:
    return {
        "bpe-gpt2": train_bpe([HF_TRAIN_TEXT], vocab_size=400, pattern="gpt2", special_tokens=["<|endoftext|>"]),
        "bpe-custom": train_bpe([HF_TRAIN_TEXT], vocab_size=400, pattern=r"\w+(?=\s)|\w+|\s+|[^\w\s]+"),
        "byte": ByteTokenizer(),
        "character": CharacterTokenizer(),
        "word": WordTokenizer.from_corpus([HF_TRAIN_TEXT]),
    }


def _pages_cover(text: str, pages: list[tuple[int, int]], page_chars: int) -> None:
    assert [a for a, _ in pages[1:]] == [b for _, b in pages[:-1]]
    assert (pages[0][0], pages[-1][1]) == (0, len(text))
    assert all(0 < b - a <= page_chars for a, b in pages)


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab \n\t.é🌍")), max_size=400), page_chars=st.integers(1, 50))
def test_pages_cover_the_text_within_their_size(text: str, page_chars: int) -> None:
    pages = page_bounds(text, page_chars=page_chars, anchors=find_anchors(text, target=8))
    if text:
        _pages_cover(text, pages, page_chars)
    else:
        assert pages == []


def test_pages_end_at_segment_cuts_where_they_can() -> None:
    text = _prose(50_000)
    anchors = find_anchors(text)
    pages = page_bounds(text, page_chars=5000, anchors=anchors)
    _pages_cover(text, pages, 5000)
    at_anchor = sum(b in set(anchors) for _, b in pages[:-1])
    assert at_anchor >= len(pages) // 2
    assert all(text[b] == " " and not text[b - 1].isspace() for _, b in pages[:-1])
    with pytest.raises(ValueError, match="page_chars"):
        page_bounds(text, page_chars=0)


@pytest.mark.slow  # 1.4 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", ["bpe-gpt2", "bpe-custom", "byte", "character", "word"])
def test_pages_together_are_the_whole_encoding(toks: dict[str, TokenizerLike], name: str) -> None:
    tok = toks[name]
    text = _prose(12_000) + " <|endoftext|> 🌍 " + _prose(2000)
    cache = SegmentCache()
    anchors = find_anchors(text)
    panel = encode_panel(tok, text, key=name, cache=cache, anchors=anchors)
    pages = page_bounds(text, page_chars=1500, anchors=anchors)
    whole = tok.encode_with_offsets(text)
    ids: list[int] = []
    for a, b in pages:
        page = draw_page(panel, (a, b), cache=cache)
        assert page.first == len(ids)
        assert page.text == text[a:a + len(page.text)] and len(page.text) >= b - a
        assert [(s + a, e + a) for s, e in page.encoding.char_spans] == \
            whole.char_spans[page.first:page.first + len(page.encoding)]
        ids += page.encoding.ids
    assert ids == whole.ids == panel.segments.ids


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_page_after_an_edit_is_the_fresh_encoding_shifted(toks: dict[str, TokenizerLike],
                                                            data: st.DataObject) -> None:
    tok = toks["bpe-gpt2"]
    text = _prose(20_000)
    cache = SegmentCache()
    encode_panel(tok, text, key="k", cache=cache)
    pos = data.draw(st.integers(0, len(text) - 1))
    edited = text[:pos] + data.draw(st.sampled_from(["x", " ", "\n", "é", ""])) + text[pos + 1:]
    anchors = find_anchors(edited)
    panel = encode_panel(tok, edited, key="k", cache=cache, anchors=anchors)
    pages = page_bounds(edited, page_chars=2500, anchors=anchors)
    fresh = tok.encode_with_offsets(edited)
    k = data.draw(st.integers(0, len(pages) - 1))
    page = draw_page(panel, pages[k], cache=cache)
    a = pages[k][0]
    assert page.encoding.ids == fresh.ids[page.first:page.first + len(page.encoding)]
    assert [(s + a, e + a) for s, e in page.encoding.char_spans] == \
        fresh.char_spans[page.first:page.first + len(page.encoding)]
    assert [p.text for p in page.encoding.pieces] == [p.text for p in fresh.pieces if a <= p.start < pages[k][1]]


def test_a_drawn_page_renders_with_its_own_text(toks: dict[str, TokenizerLike]) -> None:
    text = "🌍 " * 3000
    panel = encode_panel(toks["bpe-gpt2"], text, key="k", cache=SegmentCache())
    pages = page_bounds(text, page_chars=1001)
    page = draw_page(panel, pages[1], cache=SegmentCache())
    html_ = render_tokens(page.encoding, page.text, tokenizer="bpe")
    assert html_.count('data-chars="🌍"') == (pages[1][1] - pages[1][0]) // 2  # every emoji grouped, none cut


def test_strip_measures_bytes_per_token_along_the_text(toks: dict[str, TokenizerLike]) -> None:
    text = _prose(20_000) + " " + " ".join(["0123456789abcdef" * 4] * 300)  # prose, then hex the BPE never saw
    cache = SegmentCache()
    anchors = find_anchors(text)
    panels = {n: encode_panel(toks[n], text, key=n, cache=cache, anchors=anchors) for n in ("bpe-gpt2", "byte")}
    points = strip_points(panels, bins=40)
    byte = [p for p in points if p.tokenizer == "byte"]
    bpe = [p for p in points if p.tokenizer == "bpe-gpt2"]
    assert {round(p.bytes_per_token, 6) for p in byte} == {1.0}
    assert sum(p.n_tokens for p in bpe) == panels["bpe-gpt2"].n_tokens
    assert sum(p.n_bytes for p in bpe) == len(text.encode())
    assert len(bpe) <= 40 and bpe[0].start == 0 and bpe[-1].end == len(text)
    prose = [p.bytes_per_token for p in bpe if p.end <= 20_000]
    hexes = [p.bytes_per_token for p in bpe if p.start > 21_000]
    assert min(prose) > max(hexes)  # where it compresses badly shows
    pages = page_bounds(text, page_chars=5000, anchors=anchors)
    numbers = strip_pages(points, pages=pages)
    assert [len(n) for n in numbers] == [len(bpe), len(byte)]
    assert numbers[0][0] == 1 and len(pages) - 1 <= numbers[0][-1] <= len(pages)
    assert numbers[0] == sorted(numbers[0])
    markup = strip_html(points, pages=pages, current=2)
    rows = re.findall(r'<div class="tv-strip-row"><span class="tv-strip-name">([^<]+)</span>(.*?)</div>', markup, re.S)
    assert [r[0] for r in rows] == ["bpe-gpt2", "byte"]
    bins = re.findall(r'<span class="([^"]+)" data-tv-page="(\d+)" style="flex:(\d+);background:(#[0-9a-f]+)"',
                      rows[0][1])
    assert [int(k) for _, k, _, _ in bins] == numbers[0]  # each stretch opens the page it lies in
    assert sum(int(w) for _, _, w, _ in bins) == len(text)  # widths follow the text
    assert {c for c, k, _, _ in bins if k == "3"} == {"tv-bin tv-bin-current"} != {c for c, k, _, _ in bins if k == "1"}
    shade = [SHADES.index(s) for _, _, _, s in bins]
    assert shade[0] > shade[-1]  # the prose is darker (more bytes per token) than the hex at the end
    with pytest.raises(ValueError, match="bins"):
        strip_points(panels, bins=0)


def test_strip_names_are_escaped() -> None:
    text = "ab " * 2000
    panels = {"<b>x</b>": encode_panel(ByteTokenizer(), text, key="b", cache=SegmentCache())}
    markup = strip_html(strip_points(panels), pages=page_bounds(text, page_chars=1000), current=0)
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "<b>x" not in markup


def test_page_of() -> None:
    pages = [(0, 10), (10, 20), (20, 25)]
    assert [page_of(pages, p) for p in (0, 9, 10, 24, 25, 1000)] == [0, 0, 1, 2, 2, 2]
    assert page_of([], 3) == 0


def test_a_page_untouched_by_an_edit_is_kept_as_it_was(toks: dict[str, TokenizerLike]) -> None:
    tok = toks["bpe-gpt2"]
    text = _prose(30_000)
    cache = SegmentCache()
    pages = page_bounds(text, page_chars=3000)
    one = draw_page(encode_panel(tok, text, key="k", cache=cache), pages[1])
    edited = text[:25_000] + "x" + text[25_000:]  # a later page
    panel = encode_panel(tok, edited, key="k", cache=cache)
    again = draw_page(panel, page_bounds(edited, page_chars=3000)[1])
    assert again.encoding is one.encoding and again.source == one.source and again.first == one.first
    edited = "x" + text  # an earlier page: the page's segments are the same, its first token's index moves
    panel = encode_panel(tok, edited, key="k", cache=cache)
    moved = draw_page(panel, page_bounds(edited, page_chars=3000)[1])
    fresh = tok.encode(edited)
    assert moved.encoding.ids == fresh[moved.first:moved.first + len(moved.encoding)]


def test_hover_cards_number_tokens_from_the_start_of_the_text(toks: dict[str, TokenizerLike]) -> None:
    from tokviz.viewmodels.render import RenderOptions

    text = _prose(8000)
    panel = encode_panel(toks["bpe-gpt2"], text, key="k", cache=SegmentCache())
    pages = page_bounds(text, page_chars=2000)
    page = draw_page(panel, pages[2])
    assert page.first > 0
    html_ = render_tokens(page.encoding, page.text, tokenizer="bpe",
                          options=RenderOptions(first_index=page.first))
    assert f"(token #{page.first})" in html_ and "(token #0)" not in html_
    assert f"(token #{page.first + len(page.encoding) - 1})" in html_
