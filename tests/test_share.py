"""Query-parameter state: a link round-trips the view, the text (up to the limit) and the tokenizers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokviz.share import TEXT_LIMIT, ShareState, read_state, shareable_text, to_params

VIEWS = ["tokenize", "observations"]
NAMES = ["bpe-gpt2-8k", "gpt2 (OpenAI)", "byte", "word, with comma"]


def read(params):
    return read_state(params, views=VIEWS, tokenizers=NAMES, default_tokenizers=["byte"])


@given(st.sampled_from(VIEWS), st.text(max_size=TEXT_LIMIT), st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
def test_round_trip(view, text, chosen):
    state = ShareState(view=view, text=text, tokenizers=tuple(chosen))
    assert read(to_params(state)) == state


def test_long_text_is_left_out_of_the_link():
    long = "x" * (TEXT_LIMIT + 1)
    params = to_params(ShareState(view="tokenize", text=long, tokenizers=("byte",)))
    assert "text" not in params
    assert read(params).text is None
    assert shareable_text(long) is None and shareable_text("x" * TEXT_LIMIT) == "x" * TEXT_LIMIT


def test_hand_made_long_text_is_cut():
    assert read({"text": "y" * (TEXT_LIMIT + 50)}).text == "y" * TEXT_LIMIT


def test_unknown_names_fall_back():
    s = read({"view": "nope", "tok": ["gone", "byte", "byte"]})
    assert s.view == "tokenize" and s.tokenizers == ("byte",)
    assert read({"tok": "gone"}).tokenizers == ("byte",)  # nothing known: the defaults
    assert read({"view": ["observations"], "tok": "word, with comma"}).tokenizers == ("word, with comma",)
    assert read({"view": ["observations"]}).view == "observations"


def test_defaults_are_filtered_too():
    s = read_state({}, views=VIEWS, tokenizers=["byte"], default_tokenizers=["gpt2 (OpenAI)", "byte"])
    assert s.tokenizers == ("byte",)


def test_needs_views():
    with pytest.raises(ValueError, match="at least one view"):
        read_state({}, views=[], tokenizers=NAMES, default_tokenizers=[])
