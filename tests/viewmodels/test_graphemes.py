"""Tokens grouped under the grapheme a reader sees, on GPT-2's, GPT-4's and GPT-4o's own tokens."""

from __future__ import annotations

import pytest
import regex
from helpers import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.formats.pretrained import load_encoding
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
from tokviz.viewmodels.graphemes import cluster_starts, grapheme_groups
from tokviz.viewmodels.render import render_tokens

ENCODINGS = ("r50k_base", "cl100k_base", "o200k_base")
# woman technologist (ZWJ sequence), a flag, a keycap, a skin tone, England's flag (tags), a decomposed é
CLUSTERS = ["👩\u200d💻", "🇯🇵", "1\ufe0f\u20e3", "👍🏽",
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "e\u0301"]


@pytest.fixture(scope="module", params=ENCODINGS)
def tok(request):
    return load_encoding(request.param)


def test_every_cluster_is_one_group_over_its_tokens(tok):
    text = "x " + " ".join(CLUSTERS) + " y"
    enc = tok.encode_with_offsets(text)
    groups = grapheme_groups(enc, text)
    assert [i for g in groups for i in g] == list(range(len(enc)))  # every token once, in order
    root = parse(render_tokens(enc, text, tokenizer=tok.name))
    drawn = {g.attrs["data-chars"].strip() for g in root.find_all("tv-group")}
    for cluster in CLUSTERS:
        cut = any(s < text.index(cluster) + len(cluster) and e > text.index(cluster) for s, e in enc.char_spans
                  if not (s <= text.index(cluster) and e >= text.index(cluster) + len(cluster)))
        if cut:  # cut into several tokens: one group drawn under the whole cluster
            assert cluster in drawn, (tok.name, cluster, drawn)
    assert len(root.find_all("tok")) == len(enc)
    # the hover cards of a group's tokens give the cluster and its code points
    for g in root.find_all("tv-group"):
        for t in g.find_all("tok"):
            card = t.first("tv-card").text()
            assert "part of" in card and "code points U+" in card


def test_gpt4o_woman_technologist_is_one_group_with_its_joiner():
    tok = load_encoding("o200k_base")
    text = "🌍 👩\u200d💻 🇯🇵"
    enc = tok.encode_with_offsets(text)
    root = parse(render_tokens(enc, text, tokenizer="o200k_base"))
    groups = root.find_all("tv-group")
    assert [g.attrs["data-chars"] for g in groups] == ["🌍", " 👩\u200d💻", " 🇯🇵"]
    # the joiner (its own token, id 2524 in the issue) is drawn as a chip inside the group
    zwj = [t for t in groups[1].find_all("tok") if t.first("tv-text").text() == "ZWJ"]
    assert len(zwj) == 1 and zwj[0].find_all("tv-inv")
    assert "U+1F469 U+200D U+1F4BB" in zwj[0].first("tv-card").text()


def test_ascii_has_no_groups_and_cr_lf_stays_apart():
    assert cluster_starts("plain text\r\n") is None
    starts = cluster_starts("é\r\n")
    assert starts is not None and list(starts) == [1, 1, 1, 1]
    enc = CharacterTokenizer().encode_with_offsets("a\r\nb")
    assert grapheme_groups(enc, "a\r\nb") == [[0], [1], [2], [3]]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", " ", "é", "e", "\u0301", "\u200d", "👩", "💻", "🇯", "🇵", "\ufe0f",
                                         "\u200b", "\r", "\n", "1", "\u20e3"]), max_size=20))
def test_groups_never_cut_a_cluster(text):
    for enc in (ByteTokenizer().encode_with_offsets(text), CharacterTokenizer().encode_with_offsets(text)):
        groups = grapheme_groups(enc, text)
        assert [i for g in groups for i in g] == list(range(len(enc)))
        bounds = {0, len(text)} | {m.start() for m in regex.finditer(r"\X", text)} | {
            m.start() + 1 for m in regex.finditer("\r\n", text)}
        for g in groups:  # a group starts and ends where clusters do
            assert enc.char_spans[g[0]][0] in bounds and max(enc.char_spans[i][1] for i in g) in bounds
