"""The "Load & diff" view in a real browser: upload GPT-2's two files, use the tokenizer in the Tokenize view, and
diff it against ours side by side. Writes ``docs/screenshot-compare.png`` (``$TOKVIZ_SCREENSHOT_DIR`` elsewhere).

Marked ``browser``; the browser fixtures and screenshot helpers are ``test_browser.py``'s, the server
:mod:`browser_support`'s.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import ROOT, _full_page_screenshot, _png_size, assert_no_exception, new_page, streamlit_server, token_ids

from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("TOKVIZ_SCREENSHOT_DIR", ROOT / "docs"))
TIMEOUT = 30_000  # ms


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    env = {"TOKVIZ_CACHE_DIR": str(tmp_path_factory.mktemp("tokviz-cache")),
           # An empty tiktoken cache: the named encodings show as unavailable, and nothing is downloaded.
           "TIKTOKEN_CACHE_DIR": str(tmp_path_factory.mktemp("tiktoken-empty"))}
    with streamlit_server(env=env, log=tmp_path_factory.mktemp("logs") / "streamlit.log") as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with new_page(browser, width=1280, height=800, timeout=TIMEOUT) as pg:
        yield pg


def pick(page, index: int, option: str) -> None:
    """Choose ``option`` in the index-th selectbox of the page's main area (the sidebar has its own, the model box's
    gallery)."""
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').nth(index).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_upload_use_in_tokenize_and_diff(page, server, cs336_dir, gpt2_tokenizer):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?view=compare")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(cs336_dir / "gpt2_vocab.json"), str(cs336_dir / "gpt2_merges.txt")])
    expect(page.get_by_text("gpt2_merges.txt")).to_be_visible()
    page.get_by_role("button", name="Load uploaded files").click()
    expect(page.locator('[data-testid="stAlert"]', has_text="Loaded gpt2 (50,257 tokens)")).to_be_visible()
    # In the sidebar's choice, chosen (each chosen tokenizer has its own remove button there).
    expect(page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Remove gpt2", exact=True)
           ).to_be_visible()

    # Used in the Tokenize view next to ours.
    page.locator('[data-testid="stSidebar"]').get_by_text("Tokenize", exact=True).click()
    page.wait_for_selector('.tv-tokens .tok[data-tokenizer="gpt2"]')
    assert token_ids(page, "gpt2") == encode_as_shown(gpt2_tokenizer, SAMPLES[DEFAULT_SAMPLE].text)
    assert_no_exception(page)

    # The diff: ours against the uploaded GPT-2, both sides drawn with their differences marked.
    page.locator('[data-testid="stSidebar"]').get_by_text("Load & diff", exact=True).click()
    pick(page, 1, "gpt2")
    page.wait_for_selector('.tv-tokens[data-tokenizer="gpt2"]')
    expect(page.locator('.tv-tokens[data-tokenizer="bpe-gpt2-8k"]')).to_be_visible()
    for name in ("bpe-gpt2-8k", "gpt2"):
        assert len(token_ids(page, name)) > 10, name
        assert page.locator(f'.tv-tokens[data-tokenizer="{name}"] .tok.tv-changed').count() > 0, name
    expect(page.get_by_text("not a tie", exact=False)).to_be_visible()
    assert "\ufffd" not in page.inner_text('.tv-tokens[data-tokenizer="gpt2"]')
    assert_no_exception(page)

    # The screenshot: no focus ring left on the selectbox, and the card of a marked token open.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    _full_page_screenshot(page, SHOTS / "screenshot-compare.png")
    marked = page.locator('.tv-tokens[data-tokenizer="gpt2"] .tok.tv-changed').nth(2)
    marked.hover()
    expect(marked.locator(":scope > .tv-card")).to_contain_text("changed cut differently")
    page.screenshot(path=str(SHOTS / "screenshot-compare.png"), full_page=True)
    w, h = _png_size(SHOTS / "screenshot-compare.png")
    assert w == 1280 and h >= 900, (w, h)  # README's screenshots are taken in a 1280 x 800 window
    assert_no_exception(page)


def test_bad_upload_is_a_message(page, server, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "Unigram", "vocab": []}}', encoding="utf-8")
    page.goto(f"{server.url}/?view=compare")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(bad)])
    page.get_by_role("button", name="Load uploaded files").click()
    expect(page.locator('[data-testid="stAlert"]', has_text="needs at least one piece")).to_be_visible()
    # The message shows the file's name as typed: escaped Markdown, not backslashes or formatting.
    expect(page.locator('[data-testid="stAlert"]', has_text="tokenizer.json")).to_be_visible()
    assert page.locator('.tv-tokens').count() == 2  # the diff below is still drawn
    assert_no_exception(page)
