"""Query-parameter state: a link round-trips the text (up to the limit) and the tokenizers; old ?view= links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokviz.viewmodels.share import TEXT_LIMIT, ShareState, legacy_view, read_state, shareable_text, to_params

VIEWS = ["tokenize", "observations"]
NAMES = ["bpe-gpt2-8k", "gpt2 (OpenAI)", "byte", "word, with comma"]


def read(params):
    return read_state(params, tokenizers=NAMES, default_tokenizers=["byte"])


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@given(st.text(max_size=TEXT_LIMIT), st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
def test_round_trip(text, chosen):
    state = ShareState(text=text, tokenizers=tuple(chosen))
    assert read(to_params(state)) == state


def test_long_text_is_left_out_of_the_link():
    long = "x" * (TEXT_LIMIT + 1)
    params = to_params(ShareState(text=long, tokenizers=("byte",)))
    assert "text" not in params
    assert read(params).text is None
    assert shareable_text(long) is None and shareable_text("x" * TEXT_LIMIT) == "x" * TEXT_LIMIT


def test_hand_made_long_text_is_cut():
    assert read({"text": "y" * (TEXT_LIMIT + 50)}).text == "y" * TEXT_LIMIT


def test_unknown_names_fall_back():
    s = read({"tok": ["gone", "byte", "byte"]})
    assert s.tokenizers == ("byte",)
    assert read({"tok": "gone"}).tokenizers == ("byte",)  # nothing known: the defaults
    assert read({"view": ["observations"], "tok": "word, with comma"}).tokenizers == ("word, with comma",)


def test_defaults_are_filtered_too():
    s = read_state({}, tokenizers=["byte"], default_tokenizers=["gpt2 (OpenAI)", "byte"])
    assert s.tokenizers == ("byte",)


@pytest.mark.parametrize(("params", "expected"), [
    ({"view": "observations"}, "observations"),
    ({"view": ["tokenize", "observations"]}, "observations"),  # the last value wins, as for every key
    ({"view": "nope"}, None),
    ({}, None),
])
def test_legacy_view_links(params, expected):
    assert legacy_view(params, views=VIEWS) == expected
