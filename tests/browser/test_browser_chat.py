"""The Tokenize page's Chat mode in a real browser: GPT-4 (ChatML over cl100k_im) and GPT-4o (harmony over
o200k_harmony) render the default conversation with apply_chat_template's ids, special tokens as chips, and the page
reads cleanly at 1024 and 1280 px. Writes ``docs/screenshot-chat.png`` (``$TOKVIZ_SCREENSHOT_DIR`` elsewhere).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from helpers import SHOTS, _full_page_screenshot, assert_no_exception, laptop_faults, new_page, token_ids

from tokviz.chat import apply_chat_template, cl100k_im, o200k_harmony
from tokviz.viewmodels.chat_display import DEFAULT_MESSAGES

pytestmark = pytest.mark.browser

TIMEOUT = 90_000  # ms: the first run trains the built-ins, GPT-4o is read on first use
GPT4, GPT4O = "GPT-4 · cl100k_base", "GPT-4o · o200k_base"


@pytest.fixture
def page(browser, server):
    with new_page(browser, width=1280, height=800, timeout=TIMEOUT) as pg:
        yield pg


def test_chat_mode_in_a_browser(page, server, tmp_path) -> None:
    page.goto(f"{server.url}/?tok={quote(GPT4)}&tok={quote(GPT4O)}")
    page.get_by_text("Chat", exact=True).click()
    page.wait_for_selector(f'.tv-tokens .tok[data-tokenizer="{GPT4O}"]')
    page.wait_for_function(f"() => document.querySelectorAll('.tv-tokens .tok[data-tokenizer=\"{GPT4O}\"]').length"
                           f" > 20")  # the panel drawn whole, not a run in progress
    messages = [dict(m) for m in DEFAULT_MESSAGES]
    assert token_ids(page, GPT4) == apply_chat_template(cl100k_im(), messages, add_generation_prompt=True)
    assert token_ids(page, GPT4O) == apply_chat_template(o200k_harmony(), messages, add_generation_prompt=True)
    specials = page.eval_on_selector_all(f'.tv-tokens .tok.tv-special[data-tokenizer="{GPT4}"]', "els => els.length")
    assert specials == 2 * len(messages) + 1
    assert_no_exception(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(500)
        assert laptop_faults(page) == [], width
        page.screenshot(path=str(tmp_path / f"chat-{width}.png"), full_page=True)
    _full_page_screenshot(page, SHOTS / "screenshot-chat.png")
