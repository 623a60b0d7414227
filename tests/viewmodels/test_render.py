"""Rendering: the markup is read back with a real HTML parser, and compared with the tokenizer's own output."""

from __future__ import annotations

import html
from itertools import pairwise

import pytest
from helpers import Node, parse, token_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import train_bpe
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.viewmodels.display import TokenView
from tokviz.viewmodels.render import (
    CSS,
    LINE_BLOCK_CHARS,
    PALETTE,
    SCROLL_AFTER_CHARS,
    RenderOptions,
    color_index,
    id_color,
    preview_length,
    render_chips,
    render_header,
    render_observation,
    render_pattern_chunks,
    render_tokens,
    style_tag,
    token_rows,
)
from tokviz.viewmodels.summary import count_tokens

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
CORPUS = ("the quick brown fox jumps over the lazy dog. hello world, hello there! 1234 5678\n\t"
          "Ünïcödé text: héllo wörld, 你好世界 🌍🌍 ") * 30










@pytest.fixture(scope="module")
def bpe():
    return train_bpe([CORPUS], vocab_size=400, pattern="gpt2", name="tiny")


@pytest.fixture(scope="module", params=["bpe", "byte", "character", "word"])
def any_tok(request, bpe):
    return {
        "bpe": bpe,
        "byte": ByteTokenizer(),
        "character": CharacterTokenizer(),
        "word": WordTokenizer.from_corpus([CORPUS]),
    }[request.param]


TEXTS = ["Hello, 🌍! 你好!", "hello hello", "a  b\t\tc\n\nd", XSS, "x" * 5, "🌍🌍 é\u0301 👩‍👩‍👧"]


@pytest.mark.parametrize("text", TEXTS)
def test_every_token_is_one_span_with_its_id_and_tokenizer(any_tok, text):
    enc = any_tok.encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="T<\"x\">"))
    spans = root.find_all("tok")
    assert [int(s.attrs["data-token-id"]) for s in spans] == enc.ids
    assert {s.attrs["data-tokenizer"] for s in spans} == {'T<"x">'}
    assert "\ufffd" not in root.text()


@pytest.mark.parametrize("text", TEXTS)
def test_drawn_text_reads_back_as_the_input(any_tok, text):
    # Whole tokens show their text, groups show their characters once: together they spell the input.
    enc = any_tok.encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="t"))
    container = root.first("tv-tokens")
    shown = []
    for child in container.children:
        assert isinstance(child, Node)
        shown.append(child.first("tv-glyph").text() if "tv-group" in child.classes else token_text(child))
    assert "".join(shown) == text


def test_hover_card_has_id_hex_bytes_and_repr(bpe):
    text = "hello world"
    enc = bpe.encode_with_offsets(text)
    spans = parse(render_tokens(enc, text, tokenizer="t")).find_all("tok")
    for i, (span, tid, tok) in enumerate(zip(spans, enc.ids, enc.tokens)):
        lines = span.first("tv-card").text().split("\n")
        values = dict(line.split(" ", 1) for line in lines)
        assert values["id"] == f"{tid}  (token #{i})"
        assert bytes.fromhex(values["bytes"]) == tok
        assert values["repr"] == repr(tok)


def test_split_character_is_one_group_with_its_byte_pieces():
    text = "a🌍b"
    enc = ByteTokenizer().encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="byte"))
    groups = root.find_all("tv-group")
    assert len(groups) == 1
    group = groups[0]
    assert group.attrs["data-chars"] == "🌍"
    assert group.first("tv-glyph").text() == "🌍"
    parts = group.find_all("tok")
    assert [int(p.attrs["data-token-id"]) for p in parts] == list("🌍".encode())
    assert [bytes.fromhex(token_text(p)) for p in parts] == [bytes([b]) for b in "🌍".encode()]
    # Each piece's card says which character it belongs to.
    assert all("🌍" in p.first("tv-card").text() for p in parts)


def test_gpt2_split_emoji_groups_pieces_that_carry_a_space(gpt2_tokenizer):
    text = "Hello, 🌍! 你好!"
    enc = gpt2_tokenizer.encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="gpt2"))
    partial = [enc.ids[i] for i, p in enumerate(enc.partial) if p]
    in_groups = [int(t.attrs["data-token-id"]) for g in root.find_all("tv-group") for t in g.find_all("tok")]
    assert in_groups == partial
    assert len(root.find_all("tok")) == len(enc)
    assert "\ufffd" not in root.text()


def test_hostile_text_is_escaped_everywhere(bpe):
    enc = bpe.encode_with_offsets(XSS)
    markup = render_tokens(enc, XSS, tokenizer=XSS)
    assert "<script" not in markup and "<img" not in markup
    root = parse(markup)
    assert not [n for n in _walk(root) if n.tag in ("script", "img")]
    assert "".join(token_text(s) for s in root.find_all("tok")) == XSS
    for fn in (lambda: render_header(XSS, count_tokens(XSS, enc.ids)),
               lambda: render_chips([TokenView.of(1, XSS.encode())], tokenizer=XSS),
               lambda: render_observation(XSS, [TokenView.of(1, XSS.encode())], XSS, mark="yes"),
               lambda: render_pattern_chunks(XSS, [XSS])):
        out = fn()
        assert "<script" not in out and "<img" not in out
        assert XSS in parse(out).text()


def _walk(node: Node):
    for c in node.children:
        if isinstance(c, Node):
            yield c
            yield from _walk(c)


def _color(span: Node) -> int:
    (cls,) = [c for c in span.classes if c.startswith("tv-c")]
    return int(cls[4:])


def test_position_colors_cycle_and_neighbours_differ():
    text = "abcdefghijklmnopqrstuvwxyz" * 2
    enc = ByteTokenizer().encode_with_offsets(text)
    colors = [_color(s) for s in parse(render_tokens(enc, text, tokenizer="b")).find_all("tok")]
    assert all(a != b for a, b in pairwise(colors))
    assert colors == [color_index(position=i, token_id=0, color_by="position") for i in range(len(colors))]
    assert len(set(colors)) == len(PALETTE)


def test_id_colors_follow_the_id():
    text = "abcabcxyzzy aaa"
    enc = ByteTokenizer().encode_with_offsets(text)
    spans = parse(render_tokens(enc, text, tokenizer="b", options=RenderOptions(color_by="id"))).find_all("tok")
    by_id: dict[int, set[int]] = {}
    for s in spans:
        by_id.setdefault(int(s.attrs["data-token-id"]), set()).add(_color(s))
    assert all(len(c) == 1 for c in by_id.values())
    assert {i: c.pop() for i, c in by_id.items()} == {i: id_color(i) for i in by_id}


def test_id_color_is_spread_over_the_palette():
    counts = [0] * len(PALETTE)
    for i in range(5000):
        counts[id_color(i)] += 1
    assert min(counts) > 5000 / len(PALETTE) / 2


def test_palette_has_dark_text_contrast():
    def luminance(hex_color: str) -> float:
        rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    text = luminance("#111827")
    for c in PALETTE:
        assert (luminance(c) + 0.05) / (text + 0.05) >= 7.0, c  # WCAG AAA for normal text
        assert f"background:{c}" in CSS


def test_whitespace_marks_and_real_newlines():
    text = "a b\tc\nd"
    enc = CharacterTokenizer().encode_with_offsets(text)
    plain = "".join(token_text(s) for s in parse(render_tokens(enc, text, tokenizer="c")).find_all("tok"))
    assert plain == text
    marked = parse(render_tokens(enc, text, tokenizer="c", options=RenderOptions(show_whitespace=True)))
    assert "".join(token_text(s) for s in marked.find_all("tok")) == "a·b→c↵\nd"


def test_control_characters_are_drawn_as_pictures():
    text = "a\x00b\x1b"
    enc = ByteTokenizer().encode_with_offsets(text)
    shown = "".join(token_text(s) for s in parse(render_tokens(enc, text, tokenizer="b")).find_all("tok"))
    assert shown == "a␀b␛"


def test_chunk_layer_wraps_each_pretokenizer_piece(bpe):
    text = "hello world, 1234 你好 🌍!"
    enc = bpe.encode_with_offsets(text)
    plain = parse(render_tokens(enc, text, tokenizer="t"))
    assert plain.find_all("tv-chunk") == []
    root = parse(render_tokens(enc, text, tokenizer="t", options=RenderOptions(show_chunks=True)))
    assert "tv-chunks" in root.first("tv-tokens").classes
    chunks = root.find_all("tv-chunk")
    assert [p.text for p in enc.pieces] == bpe.pretokenizer.findall(text)
    assert len(chunks) == len(enc.pieces)
    for chunk, piece in zip(chunks, enc.pieces):
        spelled = "".join(c.first("tv-glyph").text() if "tv-group" in c.classes else token_text(c)
                          for c in chunk.children if isinstance(c, Node))
        assert spelled == piece.text


def test_unknown_words_and_special_tokens_are_marked(gpt2_tokenizer):
    word = WordTokenizer.from_corpus(["the cat"])
    enc = word.encode_with_offsets("the zebra")
    spans = parse(render_tokens(enc, "the zebra", tokenizer="w", unknown_id=word.unk_id)).find_all("tok")
    assert [("tv-unk" in s.classes) for s in spans] == [i == word.unk_id for i in enc.ids]
    text = "a<|endoftext|>b"
    enc = gpt2_tokenizer.encode_with_offsets(text)
    spans = parse(render_tokens(enc, text, tokenizer="g")).find_all("tok")
    assert [("tv-special" in s.classes) for s in spans] == enc.special


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_long_text_scrolls():
    short = "a" * SCROLL_AFTER_CHARS
    long = short + "a"
    b = ByteTokenizer()
    assert "tv-long" not in parse(render_tokens(b.encode_with_offsets(short), short, tokenizer="b")).first(
        "tv-tokens").classes
    assert "tv-long" in parse(render_tokens(b.encode_with_offsets(long), long, tokenizer="b")).first(
        "tv-tokens").classes


def test_empty_encoding_renders_an_empty_container():
    root = parse(render_tokens(ByteTokenizer().encode_with_offsets(""), "", tokenizer="b"))
    assert root.first("tv-tokens").children == []


def test_header_shows_the_counts():
    text = "héllo wörld"
    ids = ByteTokenizer().encode(text)
    counts = count_tokens(text, ids)
    root = parse(render_header("byte", counts, vocab_size=256))
    assert root.first("tv-name").text() == "byte"
    assert root.first("tv-vocab").text() == "vocab 256"
    stats = [s.text() for s in root.find_all("tv-stat")]
    assert stats == [f"{len(ids)} tokens", f"{len(text)} chars", f"{len(text.encode())} bytes",
                     f"{counts.bytes_per_token:.2f} bytes/token"]


def test_chips_and_observation_rows():
    views = [TokenView.of(7, b" hi"), TokenView.of(8, b"\xf0\x9f")]
    root = parse(render_chips(views, tokenizer="t"))
    spans = root.find_all("tok")
    assert [int(s.attrs["data-token-id"]) for s in spans] == [7, 8]
    assert [token_text(s) for s in spans] == ["·hi", "⟨f0 9f⟩"]
    row = parse(render_observation("t", views, "a verdict", mark="lost"))
    assert row.first("tv-verdict").text().endswith("a verdict")
    assert "tv-lost" in row.first("tv-mark").classes
    with pytest.raises(ValueError, match="mark must be one of"):
        render_observation("t", views, "v", mark="maybe")  # type: ignore[arg-type]


def test_pattern_chunks_draw_one_bracket_per_piece():
    root = parse(render_pattern_chunks("gpt4", ["123", "456", " x"]))
    assert [c.text() for c in root.find_all("tv-chunk")] == ["123", "456", "·x"]


def test_options_are_checked():
    with pytest.raises(ValueError, match="color_by must be one of"):
        RenderOptions(color_by="rainbow")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RenderOptions("id")  # type: ignore[misc]  # keyword-only


def test_style_tag_holds_the_css_and_hover_rule():
    tag = style_tag()
    assert tag.startswith("<style>") and tag.endswith("</style>") and CSS in tag
    assert ".tok:hover>.tv-card{display:block !important}" in CSS and ".tv-card{display:none" in CSS


def test_every_card_is_hidden_by_its_own_markup():
    # Streamlit may draw the tokens a moment before the page's stylesheet: the cards must not show then.
    text = "héllo 🌍 <b>"
    root = parse(render_tokens(ByteTokenizer().encode_with_offsets(text), text, tokenizer="b"))
    cards = root.find_all("tv-card")
    assert len(cards) == len(text.encode()) and all("hidden" in c.attrs for c in cards)
    chips = parse(render_chips([TokenView.of(995, b" world"), TokenView.of(64, b"a")], tokenizer="gpt2"))
    assert chips.find_all("tv-card") and all("hidden" in c.attrs for c in chips.find_all("tv-card"))


def test_token_rows_describe_each_token():
    text = "a🌍"
    enc = ByteTokenizer().encode_with_offsets(text)
    rows = token_rows(enc, text)
    assert [r["id"] for r in rows] == enc.ids
    assert [r["#"] for r in rows] == list(range(len(enc)))
    assert [bytes.fromhex(str(r["bytes"])) for r in rows] == enc.tokens
    assert [r["part of"] for r in rows] == ["", "🌍", "🌍", "🌍", "🌍"]
    assert rows[0]["chars"] == "0–1"


def test_preview_length_bounds():
    assert preview_length("short", limit=100) == 5
    assert preview_length("x" * 50, limit=10) == 10  # no space at all: cut at the limit
    with pytest.raises(ValueError, match="positive"):
        preview_length("abc", limit=0)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 1\n\t!é🌍")), min_size=0, max_size=120), st.integers(5, 100))
def test_preview_tokens_are_those_of_the_whole_text(text, limit):
    tok = _preview_tokenizer()
    cut = preview_length(text, limit=limit)
    assert cut <= limit
    if cut == len(text):
        return
    assert cut >= limit // 2  # never throws away more than half the window
    if text[cut] == " " and not text[cut - 1].isspace():
        # A cut before a space that follows a non-space: the head's tokens start the whole text's tokens.
        head = tok.encode(text[:cut])
        assert tok.encode(text)[: len(head)] == head
    else:
        assert cut == limit  # no such place in the window: the fallback


_TOK_CACHE: dict[str, object] = {}


def _preview_tokenizer():
    if "t" not in _TOK_CACHE:
        _TOK_CACHE["t"] = train_bpe(["ab ab  1 11 \n\t!! éé 🌍 " * 20], vocab_size=300, pattern="gpt2")
    return _TOK_CACHE["t"]


def test_escape_is_html_escape():
    # The token text in the markup is exactly html.escape of the shown text: no double escaping.
    text = "a&b"
    enc = CharacterTokenizer().encode_with_offsets(text)
    markup = render_tokens(enc, text, tokenizer="c")
    assert f'<span class="tv-text">{html.escape("&")}</span>' in markup


def test_observation_chips_group_the_byte_pieces_under_their_character():
    from tokviz.viewmodels.observations import byte_fallback
    from tokviz.viewmodels.render import render_observation

    r = byte_fallback(ByteTokenizer(), "🌍🌍 é")
    root = parse(render_observation("byte", r.tokens, r.verdict, mark=r.mark))
    groups = root.find_all("tv-group")
    assert [g.attrs["data-chars"] for g in groups] == ["🌍", "🌍", "é"]
    assert [[int(t.attrs["data-token-id"]) for t in g.find_all("tok")] for g in groups] == [
        list("🌍".encode()), list("🌍".encode()), list("é".encode())]
    assert len(root.find_all("tok")) == 11  # every token drawn once: 4 + 4 pieces, the space, 2 pieces
    assert all("part of" in t.first("tv-card").text() for g in groups for t in g.find_all("tok"))


def test_stylesheet_survives_the_pages_html_sanitizer():
    # The browser's sanitizer drops a whole <style> whose text holds "<" before a letter or "/" (a comment saying
    # "tvwrap<n>" once took every style of the app with it).
    import re

    assert re.search(r"<[/\w]", CSS) is None


def test_a_long_page_is_cut_into_blocks_of_whole_lines(any_tok):
    # Each block ends after a line break and holds at least LINE_BLOCK_CHARS characters (the last may hold fewer);
    # the blocks' tokens, read in order, are every token once, and their text spells the input.
    text = "".join(f"line {i}: héllo wörld, 你好 🌍\n" for i in range(120))
    enc = any_tok.encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="t"))
    container = root.first("tv-tokens")
    blocks = [c for c in container.children if isinstance(c, Node)]
    assert len(blocks) >= 3 and all("tv-lines" in b.classes for b in blocks)
    shown = [(c.first("tv-glyph").text() if "tv-group" in c.classes else token_text(c))
             for b in blocks for c in b.children if isinstance(c, Node)]
    assert "".join(shown) == text
    texts = ["".join(c.first("tv-glyph").text() if "tv-group" in c.classes else token_text(c)
                     for c in b.children if isinstance(c, Node)) for b in blocks]
    assert all(t.endswith("\n") for t in texts[:-1])
    assert all(len(t) >= LINE_BLOCK_CHARS for t in texts[:-1])
    assert [int(s.attrs["data-token-id"]) for s in root.find_all("tok")] == enc.ids
    # A page shorter than a block, or drawn with its pre-tokenizer chunks, is not cut.
    assert "tv-lines" not in render_tokens(enc, text, tokenizer="t", options=RenderOptions(show_chunks=True))
    short = text[:LINE_BLOCK_CHARS - 1]
    assert "tv-lines" not in render_tokens(any_tok.encode_with_offsets(short), short, tokenizer="t")


@pytest.mark.parametrize("sums", ["numpy", "python"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60) | st.sampled_from(TEXTS))
def test_an_encoding_of_columns_draws_as_one_of_lists(text: str, sums: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # An engine's Encoding holds its spans as columns (lists, or numpy's for long texts) and its tokens as a view
    # of the ids (core.encoding): the page must be the one drawn from plain lists of the same values.
    from dataclasses import replace

    import tokviz.core.id_offsets as id_offsets
    from tokviz.core.encoding import Spans, TokenBytes
    from tokviz.core.id_offsets import ByteTables, encoding_from_ids

    if sums == "numpy":
        pytest.importorskip("numpy")
        from tokviz.core.array_offsets import ArraySpans

    monkeypatch.setattr(id_offsets, "ARRAY_AT", 0 if sums == "numpy" else 1 << 62)

    tok = ByteTokenizer()
    vocab = {i: bytes([i]) for i in range(256)}
    ids = list(text.encode("utf-8"))
    plain = tok.encode_with_offsets(text)
    columns = encoding_from_ids(ids, vocab, ByteTables.of(vocab), ascii_text=text.isascii(),
                                special=[False] * len(ids), pieces=plain.pieces)
    assert isinstance(columns.char_spans, ArraySpans if sums == "numpy" else Spans)
    assert isinstance(columns.tokens, TokenBytes)
    lists = replace(columns, tokens=list(columns.tokens), byte_spans=list(columns.byte_spans),
                    char_spans=list(columns.char_spans))
    assert columns == lists == plain
    assert render_tokens(columns, text, tokenizer="byte") == render_tokens(lists, text, tokenizer="byte")
