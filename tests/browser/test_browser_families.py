"""The other families in a real browser: WordPiece, Unigram and SentencePiece BPE tokenizer.json files loaded by path
on Load & diff, then drawn on Tokenize next to GPT-2, with a hover card open on a WordPiece continuation. Writes
``docs/screenshot-families.png`` (``$TOKVIZ_SCREENSHOT_DIR`` elsewhere).

Marked ``browser``; the browser fixtures are tests/conftest.py's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import (
    HF_TRAIN_TEXT,
    ROOT,
    _full_page_screenshot,
    _png_size,
    assert_no_exception,
    new_page,
    streamlit_server,
    token_ids,
    train_family_json,
)

from tokviz import load_tokenizer
from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.defaults import GPT2_NAME, GPT4_NAME, GPT4O_NAME

pytestmark = pytest.mark.browser
pytest.importorskip("tokenizers")

SHOTS = Path(os.environ.get("TOKVIZ_SCREENSHOT_DIR", ROOT / "docs"))
TIMEOUT = 30_000  # ms
TEXT = "Tokenization isn't magic: naïve café, 1885 hello hello 🌍 龘"
FILES = {"wordpiece": "bert-wordpiece.json", "unigram": "t5-unigram.json", "bpe-sp": "llama-sp-bpe.json"}


@pytest.fixture(scope="module")
def files(cs336_dir, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("families")
    texts = (HF_TRAIN_TEXT, (cs336_dir / "corpus.en").read_text(encoding="utf-8"))
    return {f: train_family_json(d / name, f, texts=texts, vocab_size=1500) for f, name in FILES.items()}


@pytest.fixture(scope="module")
def server(browser, files, tmp_path_factory):
    # The files are read by the Load page's "Local path" field, which the server allows for their folder only.
    env = {"TOKVIZ_CACHE_DIR": str(tmp_path_factory.mktemp("tokviz-cache")),
           "TOKVIZ_LOCAL_PATHS": str(next(iter(files.values())).parent)}
    with streamlit_server(env=env, log=tmp_path_factory.mktemp("logs") / "streamlit.log") as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with new_page(browser, width=1280, height=800, timeout=TIMEOUT) as pg:
        yield pg


def test_families_drawn_in_the_browser(page, server, files):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?view=compare")
    names = {}
    for family, path in files.items():
        page.get_by_role("tab", name="Local path").click()
        field = page.get_by_label("Path on the machine running the app", exact=True)
        field.fill(str(path))
        field.press("Enter")
        page.get_by_role("button", name="Load from path").click()
        stem = path.stem
        expect(page.locator('[data-testid="stAlert"]', has_text=f"Loaded {stem}")).to_be_visible()
        names[family] = stem
    sidebar = page.locator('[data-testid="stSidebar"]')
    for name in ("bpe-gpt2-8k", GPT4_NAME, GPT4O_NAME):  # GPT-2 next to the three families: one row of four
        button = sidebar.get_by_role("button", name=f"Remove {name}", exact=True)
        if button.count():
            button.click()
            expect(button).to_have_count(0)
    sidebar.get_by_text("Tokenize", exact=True).click()
    expect(page.get_by_role("heading", name="Tokenize", exact=True)).to_be_visible()
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.fill(TEXT)
    area.press("Control+Enter")
    expect(area).to_have_value(TEXT)
    page.wait_for_url("**text=Tokenization*")  # the script ran with the new text (the link carries it)
    for family, name in names.items():
        tok = load_tokenizer(files[family])
        page.wait_for_function(
            "([n, k]) => document.querySelectorAll(`.tv-tokens .tok[data-tokenizer=\"${n}\"]`).length === k",
            arg=[name, len(encode_as_shown(tok, TEXT))])
        assert token_ids(page, name) == encode_as_shown(tok, TEXT), family
    expect(page.locator(f'.tv-tokens[data-tokenizer="{GPT2_NAME}"]')).to_be_visible()
    expect(page.locator('.tv-roundtrip.tv-lossy[data-tokenizer="bert-wordpiece"]')).to_contain_text(
        "WordPiece does not keep the text")
    # The marks are drawn apart from the text, in grey; a byte-fallback character is one group under it; the
    # spaces WordPiece drops are drawn between its tokens, in no token.
    assert page.locator('.tv-tokens[data-tokenizer="bert-wordpiece"] .tv-gap').count() == TEXT.count(" ")
    assert page.locator('.tv-tokens[data-tokenizer="bert-wordpiece"] .tv-mark-piece').count() > 0
    assert page.locator('.tv-tokens[data-tokenizer="llama-sp-bpe"] .tv-mark-piece').first.inner_text() == "▁"
    expect(page.locator('.tv-tokens[data-tokenizer="llama-sp-bpe"] .tv-group[data-chars="龘"]')).to_be_visible()
    # Hover a WordPiece continuation: its card names the family and the rule.
    cont = page.locator('.tv-tokens[data-tokenizer="bert-wordpiece"] .tok',
                        has=page.locator(".tv-mark-piece")).first
    _full_page_screenshot(page, SHOTS / "screenshot-families.png")
    cont.hover()
    page.wait_for_timeout(250)
    card = cont.locator(":scope > .tv-card")
    assert card.is_visible()
    assert "rule WordPiece · continuation of a word (##)" in card.inner_text()
    page.screenshot(path=str(SHOTS / "screenshot-families.png"), full_page=True)
    w, h = _png_size(SHOTS / "screenshot-families.png")
    assert w == 1280 and h >= 700, (w, h)  # README's screenshots are taken in a 1280 x 800 window
    assert_no_exception(page)
