"""Counts above each tokenization."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tokviz.core.ratios import compression_ratio
from tokviz.models.baselines import ByteTokenizer
from tokviz.viewmodels.summary import count_tokens


@given(st.text(max_size=50))
def test_counts_match_the_text_and_the_stats_module(text):
    ids = ByteTokenizer().encode(text)
    c = count_tokens(text, ids)
    assert (c.tokens, c.characters, c.bytes) == (len(ids), len(text), len(text.encode("utf-8")))
    assert c.bytes_per_token == compression_ratio(text, ByteTokenizer())


def test_empty_text_has_ratio_zero():
    assert count_tokens("", []).bytes_per_token == 0.0
