"""The Inspect page under AppTest: each tab draws from the library's own numbers, and bad input is a message."""

from __future__ import annotations

import pytest
from helpers import ROOT, plain
from streamlit.testing.v1 import AppTest

from tokviz.analysis.budget import chunk_by_tokens
from tokviz.viewmodels.defaults import build_defaults
from tokviz.viewmodels.languages import builtin_parallel_text

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow


@pytest.fixture
def at(cache_dir) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params["view"] = "inspect"
    return app


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_tab(app: AppTest, label: str) -> AppTest:
    app.session_state["inspect_tab"] = label
    return ok(app.run())


def test_health_of_our_bpe(at, cache_dir):
    ok(at.run())
    at.selectbox(key="inspect_health_tok").set_value("bpe-gpt2-8k")
    ok(at.run())
    assert any("regular tokens checked" in plain(c.value) for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert "Not round-trip" in metrics and "Longest" in metrics
    tok = build_defaults(directory=cache_dir).tokenizers["bpe-gpt2-8k"]
    longest = at.dataframe[0].value
    assert len(longest) > 0 and all(int(i) in tok.vocab for i in longest["id"])


def test_languages_table_covers_every_language(at):
    ok(at.run())
    open_tab(at, "Languages")
    table = at.dataframe[0].value
    assert set(table["Language"]) >= {t.name for t in builtin_parallel_text().languages}
    assert len(at.get("plotly_chart")) == 1


def test_token_budgets_of_the_text(at):
    ok(at.run())
    open_tab(at, "Token budgets")
    at.number_input(key="inspect_budget_n").set_value(8)
    ok(at.run())
    name = at.selectbox(key="inspect_budget_tok").value
    text = at.session_state["text"]
    from tokviz.pages.registry import all_tokenizers  # noqa: F401 - the menu the page used

    rows = at.dataframe[0].value
    assert max(rows["tokens"]) <= 8 and rows["start"].iloc[0] == 0 and rows["end"].iloc[-1] == len(text)
    assert name and len(rows) == len(chunk_by_tokens(build_defaults().tokenizers[name], text, max_tokens=8))


def test_measures_tab(at):
    ok(at.run())
    open_tab(at, "Measures")
    assert len(at.dataframe[0].value) == len(at.multiselect(key="chosen").value)



def test_languages_from_one_upload_per_language(at):
    ok(at.run())
    open_tab(at, "Languages")
    ok(at.radio(key="inspect_lang_source").set_value("files").run())
    texts = {"English": "The cat sat on the mat.", "Deutsch": "Die Katze saß auf der Matte.",
             "Thai": "แมวนั่งบนเสื่อ"}
    at.file_uploader(key="inspect_lang_files").set_value(
        [(f"{k}.txt", v.encode(), "text/plain") for k, v in texts.items()])
    ok(at.run())
    table = at.dataframe[0].value
    assert set(table["Language"]) == set(texts)
    english = table[table["Language"] == "English"]
    assert all(float(p) == 1.0 for p in english["Premium (x reference)"])  # English is the reference
    # A file that is not UTF-8 is a message naming it, not an exception.
    at.file_uploader(key="inspect_lang_files").set_value([("Latin1.txt", b"caf\xe9", "text/plain")])
    ok(at.run())
    assert any("Latin1.txt" in plain(e.value) for e in at.error)
