"""Marks of tokviz.viewmodels.render for the vocab-size view: tokens changed from the size before, the legend, and extra
counts in the header. Markup is read back with the HTML tree of tests/helpers.py."""

from __future__ import annotations

import pytest
from helpers import parse, token_text

from tokviz import train_bpe
from tokviz.analysis.sweep import sizes_side_by_side
from tokviz.models.baselines import ByteTokenizer
from tokviz.viewmodels.render import (
    CHANGED_COLOR,
    CSS,
    render_changed_legend,
    render_header,
    render_tokens,
)
from tokviz.viewmodels.summary import count_tokens

XSS = "<script>alert(1)</script>"
TEXT = "hello hello world 🌍 你好, hello!"


@pytest.fixture(scope="module")
def tok():
    return train_bpe([("hello world hello there 🌍 你好 " * 40)], vocab_size=300, pattern="gpt2", name="t")


def test_without_changed_the_markup_is_unchanged(tok) -> None:
    enc = tok.encode_with_offsets(TEXT)
    plain = render_tokens(enc, TEXT, tokenizer="t")
    assert render_tokens(enc, TEXT, tokenizer="t", changed=()) == plain
    assert "tv-changed" not in plain


def test_changed_tokens_get_the_class_and_a_card_line(tok) -> None:
    views = sizes_side_by_side(tok, TEXT, [256, 262, tok.vocab_size])
    for v in views[1:]:
        marked = {i for i, c in enumerate(v.changed) if c}
        assert marked, "the text must change between these sizes for the test to mean anything"
        spans = parse(render_tokens(v.encoding, TEXT, tokenizer="t", changed=marked)).find_all("tok")
        assert len(spans) == len(v.encoding)
        assert [("tv-changed" in s.classes) for s in spans] == list(v.changed)
        for s, c in zip(spans, v.changed):
            assert ("new at this size" in s.first("tv-card").text()) == c


def test_byte_pieces_of_a_split_character_can_be_marked() -> None:
    text = "a🌍b"
    enc = ByteTokenizer().encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="b", changed={2, 5}))
    spans = root.find_all("tok")
    assert [i for i, s in enumerate(spans) if "tv-changed" in s.classes] == [2, 5]
    group = root.first("tv-group")
    assert [("tv-changed" in s.classes) for s in group.find_all("tok")] == [False, True, False, False]
    assert "".join(token_text(s) for s in root.find_all("tok") if "tv-part" not in s.classes) == "ab"


def test_css_and_legend_explain_the_mark() -> None:
    assert f".tok.tv-changed{{box-shadow:inset 0 -3px 0 {CHANGED_COLOR}" in CSS
    assert ".tok.tv-changed:hover" in CSS
    legend = parse(render_changed_legend(XSS))
    assert legend.first("tv-legend").text() == XSS  # escaped: shows as text
    assert legend.first("tv-swatch").children == []


def test_header_extra_counts_are_escaped_and_optional() -> None:
    counts = count_tokens("abc", [1, 2])
    base = render_header("n", counts, vocab_size=300)
    assert render_header("n", counts, vocab_size=300, extra=()) == base
    stats = [s.text() for s in parse(render_header("n", counts, extra=[("7", "changed"), (XSS, XSS)])).find_all(
        "tv-stat")]
    assert stats[-2:] == ["7 changed", f"{XSS} {XSS}"]
