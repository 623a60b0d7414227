"""The app in a real browser: Playwright drives Debian's Chromium against ``streamlit run app.py`` on a free port.

Marked ``browser`` (run by ``.ci/run``; deselect with ``-m "not browser"``). Without Chromium they skip with the
install hint, except under ``CI=true``, where that is a failure. The screenshots land in ``docs/`` for the README
(``$TOKVIZ_SCREENSHOT_DIR`` to put them elsewhere).
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from helpers import (
    SHOTS,
    TIMEOUT,
    _full_page_screenshot,
    _png_size,
    assert_no_exception,
    chart_text_clashes,
    charts_drawn,
    clipped_labels,
    streamlit_server,
)

from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.defaults import build_defaults, default_selection
from tokviz.viewmodels.observations import OBSERVATIONS
from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"




@pytest.fixture(scope="module")
def tokenizers(server, browser, cache_dir):
    # Open the app once so the server trains and caches; then read the same cache files here.
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(server.url)
    pg.wait_for_selector("[data-token-id]", timeout=60_000)
    ctx.close()
    return build_defaults(directory=cache_dir).tokenizers


def load(page, server, query: str = "") -> None:
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector("[data-token-id]")


def ids(page, name: str, scope: str = ".tv-tokens") -> list[int]:
    sel = f'{scope} .tok[data-tokenizer="{name}"]'
    return page.eval_on_selector_all(sel, "els => els.map(e => Number(e.dataset.tokenId))")


def type_text(page, text: str) -> None:
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.fill(text)
    area.press("Control+Enter")  # Streamlit commits a text area on Ctrl+Enter (or blur)




def test_load_shows_every_tokenizer_with_its_ids(page, server, tokenizers):
    load(page, server)
    text = SAMPLES[DEFAULT_SAMPLE].text
    chosen = default_selection(list(tokenizers))
    page.wait_for_function(
        "n => document.querySelectorAll('.tv-tokens').length === n", arg=len(chosen))
    for name in chosen:
        assert ids(page, name) == encode_as_shown(tokenizers[name], text), name
    # Split emoji and CJK characters are drawn as groups: no replacement character anywhere.
    assert page.locator(".tv-group").count() >= len(chosen)
    assert "\ufffd" not in page.inner_text(".tv-tokens >> nth=0")
    assert_no_exception(page)


def test_typed_text_is_tokenized(page, server, tokenizers):
    from playwright.sync_api import expect

    # The default selection and the byte baseline (whose ids are the text's bytes).
    chosen = [*default_selection(list(tokenizers)), "byte"]
    load(page, server, "?" + "&".join(f"tok={quote(n)}" for n in chosen))
    type_text(page, "hello hello 1885")
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(len(b"hello hello 1885"),
                                                                                  timeout=TIMEOUT)
    for name in chosen:
        page.wait_for_function(
            "([n, k]) => document.querySelectorAll(`.tv-tokens .tok[data-tokenizer=\"${n}\"]`).length === k",
            arg=[name, len(encode_as_shown(tokenizers[name], "hello hello 1885"))])
        assert ids(page, name) == encode_as_shown(tokenizers[name], "hello hello 1885"), name
    assert "text=hello+hello+1885" in page.url or "text=hello%20hello%201885" in page.url  # shareable
    assert_no_exception(page)


def test_hover_shows_the_token_card(page, server, tokenizers):
    load(page, server)
    token = page.locator('.tv-tokens .tok[data-tokenizer="bpe-gpt2-8k"]').first
    card = token.locator(":scope > .tv-card")
    # The card hides itself (the page's sanitizer keeps the attribute), so it never shows before the stylesheet.
    assert card.get_attribute("hidden") is not None
    assert not card.is_visible(), token.evaluate(
        "t => ({hovered: t.matches(':hover'), sheet: [...document.querySelectorAll('style')]"
        ".some(s => s.textContent.includes('.tv-card{display:none'))})")
    token.hover()
    page.wait_for_timeout(150)
    assert card.is_visible()
    tid = int(token.get_attribute("data-token-id"))
    tok_bytes = tokenizers["bpe-gpt2-8k"].vocab[tid]
    text = card.inner_text()
    assert str(tid) in text and " ".join(f"{b:02x}" for b in tok_bytes) in text and repr(tok_bytes) in text
    # The card is drawn above its neighbours, inside the page.
    box = card.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 30


def test_hostile_text_runs_no_script(page, server):
    from playwright.sync_api import expect

    load(page, server, "?tok=bpe-gpt2-8k&tok=byte")
    type_text(page, XSS)
    expect(page.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(len(XSS.encode()),
                                                                                  timeout=TIMEOUT)
    page.wait_for_timeout(1000)  # time for an onerror handler to fire, if one had been injected
    assert page.dialogs == []
    assert page.locator(".tv-tokens script, .tv-tokens img").count() == 0
    shown = page.eval_on_selector_all('.tv-tokens .tok[data-tokenizer="byte"] > .tv-text',
                                      "els => els.map(e => e.textContent).join('')")
    assert shown == XSS
    assert_no_exception(page)


def test_toggles_and_observations_raise_nothing(page, server):
    from playwright.sync_api import expect

    load(page, server)
    for label in ("Show whitespace", "Pre-tokenizer chunks", "Table and ids"):
        page.get_by_text(label, exact=True).click()
        page.wait_for_timeout(300)
    page.get_by_text("same id, same color", exact=True).click()
    expect(page.locator(".tv-tokens.tv-chunks").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=TIMEOUT)
    assert page.locator(".tv-tokens .tok .tv-text", has_text="·").count() > 0
    assert_no_exception(page)
    n_chosen = page.locator(".tv-tokens").count()
    page.get_by_text("Observations", exact=True).click()
    expect(page.locator(".tv-obs")).to_have_count(len(OBSERVATIONS) * n_chosen, timeout=TIMEOUT)
    assert "/observations" in page.url  # each page has its own path
    assert_no_exception(page)


def test_one_megabyte_paste_stays_responsive(page, server):
    from playwright.sync_api import expect

    load(page, server)
    unit = "The year 1885 saw 1234567 people 🌍 say hello, 你好!\n\tdef f(x): return x\n"
    text = (unit * (2**20 // len(unit.encode()) + 1))[: 2**20]
    area = page.locator('[data-testid="stTextArea"] textarea')
    t0 = time.perf_counter()
    # Paste-like: set the whole value at once (typing a megabyte key by key would take minutes).
    area.evaluate("(el, v) => { Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')"
                  ".set.call(el, v); el.dispatchEvent(new Event('input', {bubbles: true})); }", text)
    area.press("Control+Enter")
    expect(page.get_by_text("Long text", exact=False)).to_be_visible(timeout=60_000)
    expect(page.locator(".tv-stats").first).to_contain_text(f"{len(text):,} chars", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.tv-tokens .tok').length > 1000", timeout=60_000)
    print(f"a 1 MB paste drawn in {time.perf_counter() - t0:.1f} s (bench/bigtext.py measures it)")
    token = page.locator(".tv-tokens .tok").nth(200)
    token.hover()
    expect(token.locator(":scope > .tv-card")).to_be_visible(timeout=5_000)
    assert page.locator(".tv-tokens .tok").count() < len(text) // 10  # only the first part is drawn
    assert "text=" not in page.url  # too long for a link; the rest of the state is still there
    assert_no_exception(page)






SHOWCASE = "Hello, 🌍! 你好!\nhello hello: in 1885, 1234567890 people said “héllo wörld” 👋🏽\n"


def test_screenshots_for_the_readme(page, server):
    from urllib.parse import quote

    from playwright.sync_api import expect

    load(page, server, "?text=" + quote(SHOWCASE))  # also proves that a link carries the text
    expect(page.locator('[data-testid="stTextArea"] textarea')).to_have_value(SHOWCASE, timeout=TIMEOUT)
    # Hover a byte piece of a split emoji so the screenshot shows a card and the grouping.
    piece = page.locator(".tv-tokens .tv-group .tok").nth(1)
    _full_page_screenshot(page, SHOTS / "screenshot-tokenize.png")
    piece.hover()
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / "screenshot-tokenize.png"), full_page=True)
    assert_no_exception(page)
    page.get_by_text("Observations", exact=True).click()
    expect(page.locator(".tv-obs").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    _full_page_screenshot(page, SHOTS / "screenshot-observations.png")
    assert_no_exception(page)
    for name in ("screenshot-tokenize.png", "screenshot-observations.png"):
        w, h = _png_size(SHOTS / name)
        assert w >= 1280 and h >= 700, (name, w, h)  # a laptop window's width, as the README says


# Each page, and what shows that it has drawn what it draws by default.
_PAGES_DRAWN = {
    "": "() => document.querySelectorAll('[data-token-id]').length > 0",
    "sizes": charts_drawn(3),  # compression, tokens in the text, token lengths
    "train": "() => document.querySelectorAll('[data-testid=\"stCheckbox\"]').length > 0",
    "compare": "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 4",
    "inspect": "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 6",
}


@pytest.mark.parametrize("width", [1024, 1280])
def test_a_laptop_window_cuts_no_label_and_no_chart_text(browser, server, tokenizers, width):
    """At common laptop widths every label reads whole (the toggles once became "Pre-tokenizer c…", the colour
    choice "same id, sa", the health checks "Not round-…") and the charts' texts neither overlap nor run past an
    edge, on every page as it first opens."""
    ctx = browser.new_context(viewport={"width": width, "height": 2000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT)
        for path, drawn in _PAGES_DRAWN.items():
            page.goto(f"{server.url}/{path}")
            page.wait_for_function(drawn, timeout=90_000)
            page.wait_for_timeout(800)
            assert_no_exception(page)
            assert (path, clipped_labels(page)) == (path, [])
            assert (path, chart_text_clashes(page)) == (path, [])
    finally:
        ctx.close()


def test_cold_start_trains_and_a_restart_reads_the_cache(browser, tmp_path):
    """With an empty cache folder the first page trains the built-ins; after a restart they come from the cache
    files. (How long each takes is measured in bench/, not asserted here: timings flake on a loaded machine.)"""
    said: dict[str, str] = {}
    for phase in ("cold", "restart"):
        with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(tmp_path / "cache")}, log=tmp_path / f"{phase}.log") as srv:
            ctx = browser.new_context()
            pg = ctx.new_page()
            pg.goto(srv.url)
            pg.wait_for_selector("[data-token-id]", timeout=60_000)
            said[phase] = pg.locator('[data-testid="stSidebar"]').inner_text()
            assert_no_exception(pg)
            ctx.close()
    assert "trained at this start and cached" in said["cold"]
    assert "read from the cache folder" in said["restart"]
    assert any((tmp_path / "cache").iterdir())
