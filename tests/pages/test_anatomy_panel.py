"""The anatomy side panel under AppTest: a clicked token's card, merge tree and BPE replay for our BPE and a real
rank file, and a plain note for a tokenizer without merges. (The click itself is tested in a real browser.)"""

from __future__ import annotations

import pytest
from helpers import ROOT, plain
from streamlit.testing.v1 import AppTest

from tokviz.analysis.anatomy import anatomy, trace_text
from tokviz.pages.anatomy_panel import INSPECT
from tokviz.viewmodels.defaults import GPT4O_NAME, build_defaults

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow


@pytest.fixture
def at(cache_dir) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def sidebar_html(app: AppTest) -> str:
    return "\n".join(h.proto.body for h in app.sidebar.html) if hasattr(app.sidebar, "html") else ""


def test_a_clicked_bpe_token_shows_its_card_tree_and_replay(at, cache_dir):
    tok = build_defaults(directory=cache_dir).tokenizers["bpe-gpt2-8k"]
    at.run()
    text = at.text_area(key="text").value
    enc = tok.encode_with_offsets(text)
    k = max(range(len(enc)), key=lambda i: len(enc.tokens[i]))  # the longest token drawn: it has a real tree
    at.session_state[INSPECT] = ("bpe-gpt2-8k", enc.ids[k], enc.char_spans[k][0], "tokenize")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Token {enc.ids[k]:,}" in plain(m.value) for m in at.sidebar.markdown)
    card = at.sidebar.dataframe[0].value
    expected = anatomy(tok, enc.ids[k])
    assert list(card["value"])[0] == str(expected.id) and "merge" in list(card["value"])
    assert "tv-merge-tree" in sidebar_html(at)
    steps = at.sidebar.dataframe[1].value if len(at.sidebar.dataframe) > 1 else None
    trace = trace_text(tok, text, enc.char_spans[k][0])
    assert steps is not None and len(steps) == trace.n_steps  # one row per merge of its pre-token


def test_a_rank_file_token_and_a_baseline(at):
    at.run()
    at.session_state[INSPECT] = (GPT4O_NAME, 13225, -1, "observations")  # "Hello" in o200k_base
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Token 13,225" in plain(m.value) for m in at.sidebar.markdown)
    at.session_state[INSPECT] = ("byte", 104, 0, "tokenize")
    at.run()
    assert not at.exception
    assert any("merges" in plain(i.value) for i in at.sidebar.info)  # said plainly, not an exception
    at.sidebar.button(key="inspect_close").click().run()
    assert INSPECT not in at.session_state


def test_a_joiner_names_itself_and_the_grapheme_it_is_part_of(at):
    # GPT-4o cuts 👩‍💻 into woman | ZWJ | laptop: the joiner's card names the character that draws nothing, and the
    # panel says which character a reader sees it in, with the code points.
    at.run()
    at.text_area(key="text").set_value("🌍 👩\u200d💻 🇯🇵").run()
    at.session_state[INSPECT] = (GPT4O_NAME, 2524, 3, "tokenize")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    card = at.sidebar.dataframe[0].value
    assert "⟨ZWJ⟩  (U+200D ZERO WIDTH JOINER)" in list(card["value"])
    assert any("U+1F469 U+200D U+1F4BB" in c.value for c in at.sidebar.caption)
