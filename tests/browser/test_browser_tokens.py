"""Every token drawn can be seen, hovered and clicked, in a real browser: characters that draw nothing (ZWJ, ZWSP,
U+FE0F, soft hyphen, BOM, bidi controls, tags, lone combining marks) get a chip with a width, and the number of
token boxes drawn is the number of tokens stated in each panel's header."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers import TIMEOUT, assert_no_exception, wait_for_token_listeners

from tokviz.core.protocol import encode_as_shown
from tokviz.formats.pretrained import load_encoding

pytestmark = pytest.mark.browser

HARD = ("🌍 👩\u200d💻 🇯🇵\n"
        "a\u200bb ❤️ x\u00ady \ufeffstart\n"
        "\u202eevil\u202c \u2066iso\u2069 \u200emark\n"
        "tag\U000e0067\U000e0062 \U000e0067 \u0301alone \u0301\u0302 \u20e3 \ufe0f\ufe0f 1\ufe0f\u20e3 👍🏽 end")
PANELS = {"GPT-2 · r50k_base": "r50k_base", "GPT-4 · cl100k_base": "cl100k_base", "GPT-4o · o200k_base": "o200k_base",
          "character": None}
SHOTS = Path(os.environ.get("TOKVIZ_REVIEW_DIR", "/tmp/tokviz-review"))

# Every token's box, and the count its panel's header states.
_BOXES = """() => [...document.querySelectorAll('.tv-tokens')].map(p => ({
  name: p.dataset.tokenizer,
  stated: Number((document.querySelector(`.tv-stats[data-tokenizer="${CSS.escape(p.dataset.tokenizer)}"] b`)
                  || {textContent: 'NaN'}).textContent.replace(/,/g, '')),
  boxes: [...p.querySelectorAll('.tok')].map(t => { const r = t.getBoundingClientRect();
    return {id: Number(t.dataset.tokenId), w: r.width, h: r.height, x: r.left + r.width / 2, y: r.top + r.height / 2,
            text: t.querySelector('.tv-text').textContent}; })}))"""


@pytest.mark.parametrize("show_ws", [False, True])
def test_every_token_has_a_box_to_see_and_click(page, server, show_ws):
    from playwright.sync_api import expect

    query = "?text=" + quote(HARD) + "".join(f"&tok={quote(n)}" for n in PANELS) + ("&show_ws=1" if show_ws else "")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server.url}/{query}")
    expect(page.locator(".tv-tokens")).to_have_count(len(PANELS), timeout=120_000)  # the first load trains
    page.wait_for_function("() => [...document.querySelectorAll('.tv-stats b')].length >= 4")
    wait_for_token_listeners(page)
    panels = page.evaluate(_BOXES)
    assert [p["name"] for p in panels] == list(PANELS)
    for p in panels:
        file = PANELS[p["name"]]
        if file is not None:
            assert [b["id"] for b in p["boxes"]] == encode_as_shown(load_encoding(file), HARD), p["name"]
        assert len(p["boxes"]) == p["stated"], p["name"]  # the count drawn is the count stated
        for b in p["boxes"]:
            if b["text"] in ("\n", ""):
                continue  # a line break (drawn as the line's end) is the one token with nothing to draw
            assert b["w"] >= 4 and b["h"] >= 8, (p["name"], b)
    # A zero-width joiner, alone in its GPT-4o token, is hovered and clicked like any token.
    zwj = page.locator('.tv-tokens .tok[data-tokenizer="GPT-4o · o200k_base"]', has_text="ZWJ").first
    zwj.hover()
    card = zwj.locator(":scope > .tv-card")
    expect(card).to_be_visible(timeout=TIMEOUT)
    assert "U+200D" in card.inner_text()
    zwj.click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Token 2,524", exact=False)).to_be_visible(timeout=TIMEOUT)
    assert_no_exception(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"invisible-{'ws' if show_ws else 'plain'}.png"))


def test_the_tokenize_path_opens_tokenize(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/tokenize?text=hello%20world")
    expect(page.locator(".tv-tokens").first).to_be_visible(timeout=120_000)  # the first load trains the built-ins
    expect(page.get_by_role("heading", name="Tokenize")).to_be_visible()
    assert "Page not found" not in page.inner_text("body")
    assert "text=hello" in page.url  # the link's text went along
    assert_no_exception(page)


def test_tokens_follow_typing_without_ctrl_enter(page, server):
    from playwright.sync_api import expect

    names = ["GPT-4o · o200k_base", "byte"]
    page.goto(f"{server.url}/?text=x" + "".join(f"&tok={quote(n)}" for n in names))
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(1, timeout=120_000)
    wait_for_token_listeners(page)
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.click()
    area.press("End")
    # Typed a key at a time, slower than the pause that commits the box: the page reruns while typing goes on,
    # and no key may be lost to a rerun. A tag typed in is drawn as text.
    typed = " <b>bold</b> 👩\u200d💻 typed live"
    page.keyboard.type(typed, delay=90)
    text = "x" + typed
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(len(text.encode()), timeout=TIMEOUT)
    assert area.input_value() == text
    want = encode_as_shown(load_encoding("o200k_base"), text)
    page.wait_for_function(
        "n => document.querySelectorAll('.tv-tokens .tok[data-tokenizer=\"GPT-4o · o200k_base\"]').length === n",
        arg=len(want), timeout=TIMEOUT)
    got = page.eval_on_selector_all('.tv-tokens .tok[data-tokenizer="GPT-4o · o200k_base"]',
                                    "els => els.map(e => Number(e.dataset.tokenId))")
    assert got == want
    assert page.locator(".tv-tokens b").count() == 0 and page.dialogs == []
    assert_no_exception(page)


# Every commit of the Text box (the synthetic Ctrl+Enter the page's script sends), with its time, and every input.
_WATCH_COMMITS = """() => { window.__commits = []; window.__inputs = [];
  document.addEventListener('input', e => { if (e.target.closest('.st-key-text'))
    window.__inputs.push(performance.now()); }, true);
  document.addEventListener('keydown', e => { if (e.ctrlKey && e.key === 'Enter' && e.target.closest('.st-key-text'))
    window.__commits.push(performance.now()); }, true); }"""


def test_one_key_is_committed_at_once_and_a_burst_once_more(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?text=x&tok=byte")
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(1, timeout=120_000)
    wait_for_token_listeners(page)
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.click()
    area.press("End")
    page.evaluate(_WATCH_COMMITS)
    # One key after a pause: committed as soon as its input event is done, not after the burst pause (150 ms).
    page.keyboard.type("a")
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(2, timeout=TIMEOUT)
    inputs, commits = page.evaluate("[window.__inputs, window.__commits]")
    assert len(inputs) == 1 and len(commits) == 1, (inputs, commits)
    assert commits[0] - inputs[0] < 120, (inputs, commits)
    page.wait_for_timeout(600)  # a pause: the next key starts a new burst
    # A burst of keys 30 ms apart: its first key at once, the rest once, after the last key and the pause.
    page.evaluate("window.__commits = []; window.__inputs = []")
    page.keyboard.type("bcdefg", delay=30)
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(8, timeout=TIMEOUT)
    inputs, commits = page.evaluate("[window.__inputs, window.__commits]")
    assert len(inputs) == 6 and len(commits) == 2, (inputs, commits)
    assert commits[1] - inputs[-1] >= 140, (inputs, commits)
    assert area.input_value() == "xabcdefg"
    assert_no_exception(page)


# Each token's place on the page, in page coordinates.
_PLACES = """() => [...document.querySelectorAll('.tv-tokens .tok')].map(t => { const r = t.getBoundingClientRect();
  return [Math.round(r.left), Math.round(r.top + window.scrollY), Math.round(r.width)]; })"""
# Whether what is drawn at the middle of a token's card is the card (no later block painted over it).
_CARD_ON_TOP = """t => { const c = t.querySelector(':scope > .tv-card').getBoundingClientRect();
  const hit = document.elementFromPoint(c.left + c.width / 2, Math.min(c.top + c.height / 2, innerHeight - 2));
  return !!hit && !!hit.closest('.tv-card') && hit.closest('.tok') === t; }"""


def test_a_long_page_is_drawn_in_line_blocks_that_change_nothing_seen(page, server):
    from playwright.sync_api import expect

    # Blocks of lines far from the screen are not laid out until scrolled near; drawn, every token is where it is
    # without blocks, and a hovered token's card is drawn over the next block, not under it.
    line = "tokens are drawn in blocks of whole lines, 🌍 and 你好 too\n"
    text = "".join(f"line {i}: {line}" for i in range(25))  # one page of text
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server.url}/?text={quote(text)}&tok={quote('GPT-4o · o200k_base')}")
    expect(page.locator(".tv-tokens .tv-lines").first).to_be_attached(timeout=120_000)
    wait_for_token_listeners(page)
    blocks = page.locator(".tv-tokens .tv-lines")
    assert blocks.count() >= 3
    # The first block's last token before its line break, hovered: its card reaches over the second block.
    last = blocks.first.locator(":scope > .tok:not(.tv-nl)").last
    last.scroll_into_view_if_needed()
    last.hover()
    expect(last.locator(":scope > .tv-card")).to_be_visible(timeout=TIMEOUT)
    assert last.evaluate(_CARD_ON_TOP)
    page.mouse.move(0, 0)
    with_blocks = page.evaluate(_PLACES)
    page.add_style_tag(content=".tv-lines{display:contents !important}")
    assert page.evaluate(_PLACES) == with_blocks
    assert len(with_blocks) == len(encode_as_shown(load_encoding("o200k_base"), text))
    assert_no_exception(page)
