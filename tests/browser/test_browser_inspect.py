"""Looking inside a tokenizer in a real browser: clicking a token opens its anatomy in the sidebar, and the Inspect
page draws its health checks and the language chart. The README's screenshots of them are taken here."""

from __future__ import annotations

import pytest
from helpers import (
    SHOTS,
    TIMEOUT,
    _full_page_screenshot,
    assert_no_exception,
    chart_text_clashes,
    wait_for_token_listeners,
)

pytestmark = pytest.mark.browser


def test_clicking_a_token_opens_its_anatomy(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?text=" + "The%20lowest%20tokenization%20of%201885")
    # All four default panels drawn (GPT-4o's rank file is read on first use).
    expect(page.locator(".tv-tokens")).to_have_count(4, timeout=60_000)
    first = page.locator('.tv-tokens .tok[data-tokenizer="bpe-gpt2-8k"]').nth(1)  # " lowest" or its start
    token_id = first.get_attribute("data-token-id")
    wait_for_token_listeners(page)
    first.click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(f"Token {int(token_id):,}", exact=False)).to_be_visible(timeout=TIMEOUT)
    expect(sidebar.locator(".tv-merge-tree")).to_be_visible(timeout=TIMEOUT)
    expect(sidebar.get_by_text("BPE on its pre-token, step by step")).to_be_visible()
    assert_no_exception(page)
    page.wait_for_timeout(800)
    _full_page_screenshot(page, SHOTS / "screenshot-anatomy.png")
    # A real rank file's token too: GPT-4o's first token of the text.
    page.locator('.tv-tokens .tok[data-tokenizer="GPT-4o · o200k_base"]').first.click()
    expect(sidebar.get_by_text("GPT-4o · o200k_base", exact=False).first).to_be_visible(timeout=TIMEOUT)
    assert_no_exception(page)


def test_inspect_page_health_and_languages(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/inspect")
    expect(page.get_by_text("regular tokens checked", exact=False)).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stMetric"]').nth(3)).to_be_visible(timeout=TIMEOUT)  # one per check
    assert_no_exception(page)
    page.wait_for_timeout(500)
    _full_page_screenshot(page, SHOTS / "screenshot-health.png")
    page.get_by_role("tab", name="Languages").click()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=TIMEOUT)
    assert_no_exception(page)
    page.wait_for_timeout(800)
    _full_page_screenshot(page, SHOTS / "screenshot-languages.png")
    assert chart_text_clashes(page) == []  # the slanted language names clear the axis title
    page.get_by_role("tab", name="Measures").click()
    # The Zipf plot drawn and shown (offsetParent: not in a hidden tab).
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(g => g.offsetParent"
                           " && g.querySelector('.trace')"
                           " && g.querySelector('.gtitle')?.textContent.startsWith('Zipf'))", timeout=60_000)
    page.wait_for_timeout(500)
    assert_no_exception(page)
    assert chart_text_clashes(page) == []


def test_the_sidebar_picker_shows_every_choice(page, server):
    # Nine chosen tokenizers: the picker grows to show them all, none clipped at its bottom edge.
    from urllib.parse import quote

    from playwright.sync_api import expect

    names = ["bpe-gpt2-512", "bpe-gpt2-2k", "bpe-gpt2-8k", "bpe-gpt4-512", "bpe-gpt4-2k", "bpe-gpt4-8k", "character",
             "byte", "word"]
    page.goto(f"{server.url}/?" + "&".join(f"tok={quote(n)}" for n in names))
    page.wait_for_selector("[data-token-id]", timeout=TIMEOUT)
    container = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelectTagsContainer"]').first
    tags = container.locator("[data-tag]")
    # The tokens can be drawn a moment before the sidebar's tags are: wait for the tags, then count them.
    expect(tags).to_have_count(len(names), timeout=TIMEOUT)
    assert tags.count() == len(names)
    box, last = container.bounding_box(), tags.nth(len(names) - 1).bounding_box()
    assert box is not None and last is not None
    assert last["y"] + last["height"] <= box["y"] + box["height"] + 1


def test_hover_cards_stay_inside_the_window(page, server):
    # The last token of the rightmost panel sits near the right edge; its card opens leftwards, fully visible, and
    # a token near the bottom of the window opens its card upwards.
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1100, "height": 700})
    page.goto(f"{server.url}/?text=" + "word%20" * 60)
    expect(page.locator(".tv-tokens")).to_have_count(4, timeout=60_000)
    panel = page.locator(".tv-tokens").nth(3)
    tokens = panel.locator(".tok")
    rightmost = max(range(tokens.count()), key=lambda i: (tokens.nth(i).bounding_box() or {"x": 0})["x"])
    tokens.nth(rightmost).scroll_into_view_if_needed()
    wait_for_token_listeners(page)
    tokens.nth(rightmost).hover()
    page.wait_for_timeout(200)
    card = tokens.nth(rightmost).locator(".tv-card").bounding_box()
    assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= 1100
    assert card["y"] >= 0 and card["y"] + card["height"] <= 700


def test_a_token_at_a_line_end_is_one_box(page, server):
    # A narrow window wraps the text many times; no token without a line break of its own is split across lines.
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(f"{server.url}/?tok=bpe-gpt2-8k&text=" + "In%201885%2C%20people%20said%20hello%20" * 20)
    expect(page.locator(".tv-tokens")).to_have_count(1, timeout=60_000)
    split = page.eval_on_selector_all(
        ".tv-tokens .tok:not(.tv-nl):not(.tv-part)",
        "els => els.filter(e => e.getClientRects().length > 1).map(e => e.textContent)")
    lines = page.eval_on_selector(".tv-tokens", "e => Math.round(e.getBoundingClientRect().height)")
    assert lines > 60  # the text did wrap onto several lines
    assert split == []
