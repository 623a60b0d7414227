"""A long text in a real browser: paste 100 KB, edit one character, and page to the end of the text.

What is drawn must be what a fresh encode of the edited text gives: the first page's ids are the first ids of the
whole text, and the last page's ids its last ones, for each of the four default tokenizers (our BPE, GPT-2, GPT-4,
GPT-4o). Marked ``browser`` (and ``slow``: the server trains the built-ins on its first start).
"""

from __future__ import annotations

import pytest
from helpers import assert_no_exception, wait_for_token_listeners

from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.defaults import build_defaults, default_selection

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET_VALUE = ("(el, v) => { Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')"
             ".set.call(el, v); el.dispatchEvent(new Event('input', {bubbles: true})); }")


def _prose(n: int) -> str:
    from pydoc_data.topics import topics

    text = "".join(topics[k] for k in sorted(topics))
    # A special token, an emoji and CJK in the middle, so cuts near them and split characters are drawn too.
    text = text[:40_000] + " <|endoftext|> 🌍👍🏽 你好，世界 " + text[40_000:]
    return text[:n]


def _ids(page, name: str) -> list[int]:
    sel = f'.tv-tokens .tok[data-tokenizer="{name}"]'
    return page.eval_on_selector_all(sel, "els => els.map(e => Number(e.dataset.tokenId))")


def _drawn(page, name: str, fresh: list[int], *, from_end: bool = False) -> list[int]:
    """The ids a panel draws, once they are a page of ``fresh`` (its first page, or with ``from_end`` its last): a
    panel's markup is set by its component a moment after the header that counts the new text. A panel that never
    draws them fails here, after the timeout."""
    sel = f'.tv-tokens .tok[data-tokenizer="{name}"]'
    page.wait_for_function(
        "([sel, want, fromEnd]) => { const ids = [...document.querySelectorAll(sel)]"
        ".map(e => Number(e.dataset.tokenId)); if (!ids.length || ids.length >= want.length) return false;"
        " const part = fromEnd ? want.slice(want.length - ids.length) : want.slice(0, ids.length);"
        " return ids.every((x, i) => x === part[i]); }",
        arg=[sel, fresh, from_end], timeout=60_000)
    return _ids(page, name)


def _commit(page, text: str) -> None:
    from playwright.sync_api import expect

    area = page.locator('[data-testid="stTextArea"] textarea')
    area.evaluate(SET_VALUE, text)  # a paste: the whole value at once
    area.press("Control+Enter")
    stats = page.locator(".tv-stats")
    expect(stats.first).to_contain_text(f"{len(text):,} chars", timeout=60_000)
    for i in range(stats.count()):
        expect(stats.nth(i)).to_contain_text(f"{len(text):,} chars", timeout=60_000)


@pytest.fixture(scope="module")
def tokenizers(server, browser, cache_dir):
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(server.url)
    pg.wait_for_selector("[data-token-id]", timeout=120_000)
    ctx.close()
    menu = build_defaults(directory=cache_dir).tokenizers
    return {name: menu[name] for name in default_selection(list(menu))}


def test_paste_edit_and_page_to_the_end(page, server, tokenizers):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.wait_for_selector("[data-token-id]", timeout=60_000)
    names = list(tokenizers)
    assert len(names) == 4
    text = _prose(100_000)
    _commit(page, text)
    expect(page.get_by_text("Long text", exact=False)).to_be_visible()

    edited = text[:1200] + "Q" + text[1200:]  # on the page in view
    _commit(page, edited)
    for name, tok in tokenizers.items():
        fresh = encode_as_shown(tok, edited)
        drawn = _drawn(page, name, fresh)
        assert 100 < len(drawn) < len(fresh)
        assert drawn == fresh[:len(drawn)], name
        # The header counts the whole edited text.
        stats = page.locator(f'.tv-stats[data-tokenizer="{name}"]')
        expect(stats).to_contain_text(f"{len(fresh):,} tokens")

    box = page.locator('[data-testid="stNumberInput"] input')
    label = page.locator('[data-testid="stNumberInput"]').inner_text()
    n_pages = int(label.split("of ")[1].split(")")[0].replace(",", ""))
    assert n_pages >= 40  # 100 KB over pages of at most 2,000 characters (four panels)
    first_page = {name: _ids(page, name) for name in names}
    box.fill(str(n_pages))
    box.press("Enter")
    # The caption under the picker says the last page ends where the text ends.
    expect(page.get_by_text(f"–{len(edited):,} of {len(edited):,}.", exact=False)).to_be_visible()
    page.wait_for_function(
        "([name, first]) => { const ids = [...document.querySelectorAll(`.tv-tokens .tok[data-tokenizer=\"${name}\"]`)]"
        ".map(e => Number(e.dataset.tokenId)); return ids.length > 0 && ids.join() !== first.join(); }",
        arg=[names[0], first_page[names[0]]], timeout=60_000)
    for name, tok in tokenizers.items():
        fresh = encode_as_shown(tok, edited)
        drawn = _drawn(page, name, fresh, from_end=True)
        assert 0 < len(drawn) < len(fresh)
        assert drawn == fresh[-len(drawn):], name
    assert page.locator(".tv-strip").count() == 1  # the bytes-per-token strip
    assert_no_exception(page)

    # The link carries the page (and the long text, by its hash on this server): a fresh browser opens the same page.
    page.wait_for_function(f"() => location.search.includes('tok_page={n_pages}')", timeout=30_000)
    last_page = {name: _ids(page, name) for name in names}
    ctx = page.context.browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        other = ctx.new_page()
        other.goto(page.url)
        expect(other.get_by_text(f"–{len(edited):,} of {len(edited):,}.", exact=False)).to_be_visible(timeout=60_000)
        for name in names:
            expect(other.locator(f'.tv-tokens .tok[data-tokenizer="{name}"]').first).to_be_attached(timeout=60_000)
        assert {name: _ids(other, name) for name in names} == last_page
    finally:
        ctx.close()


def test_a_click_on_the_strip_opens_its_page(page, server, tokenizers):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.wait_for_selector("[data-token-id]", timeout=60_000)
    text = _prose(100_000)
    _commit(page, text)
    box = page.locator('[data-testid="stNumberInput"] input')
    expect(box).to_have_value("1")
    bins = page.locator(".tv-strip .tv-strip-row").first.locator("[data-tv-page]")
    expect(bins.first).to_be_visible()
    last = bins.last
    n = int(last.get_attribute("data-tv-page"))
    assert n > 40 and bins.count() > 40
    row = page.locator(".tv-strip-bins").first.bounding_box()
    assert row is not None and row["width"] > 300  # drawn across the column, not collapsed
    wait_for_token_listeners(page)
    last.click()  # the last stretch of the first row: the end of the text
    expect(box).to_have_value(str(n), timeout=30_000)
    expect(page.locator(f'.tv-strip-row >> nth=0 >> [data-tv-page="{n}"]').first).to_have_class("tv-bin tv-bin-current")
    expect(page.get_by_text(f"of {len(text):,}.", exact=False)).to_be_visible()
    assert_no_exception(page)
