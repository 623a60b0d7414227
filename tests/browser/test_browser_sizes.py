"""The "Vocab sizes" view in a real browser (Playwright + Debian's Chromium against ``streamlit run``): every chart is
drawn, hover shows exact values, every CSV downloads, and the README screenshot ``docs/screenshot-sizes.png``.

Reuses the fixtures and helpers of test_browser (same skip/fail rules without Chromium); this module starts its own
server with an empty cache folder, so its first page load includes training, and prints the cold and warm times.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from helpers import (
    SHOTS,
    TIMEOUT,
    _full_page_screenshot,
    _png_size,
    assert_no_exception,
    chart_text_clashes,
    charts_drawn,
    new_page,
    random_words,
)

from tokviz.analysis.sweep import sizes_side_by_side
from tokviz.pages.sizes import DEFAULT_TEXT
from tokviz.viewmodels.defaults import default_corpus
from tokviz.viewmodels.size_curves import DEFAULT_MAX_SIZE
from tokviz.viewmodels.size_runs import pattern_runs

pytestmark = pytest.mark.browser

# test_browser's fixtures (the same Chromium, skip and fail rules); module-scoped, so this module starts its own server.

N_CHARTS = 3
SIZES = (256, 512, 1024, 4096, 8192)
# The pixel position of one data point of a chart on the page: hover there as a user would.
_POINT_XY = """(gd, [i, j]) => {
    const fl = gd._fullLayout, r = gd.getBoundingClientRect(), x = gd.data[i].x[j];
    const px = fl.xaxis.type === 'log' ? fl.xaxis.l2p(Math.log10(x)) : fl.xaxis.l2p(x);
    return [r.left + fl.xaxis._offset + px, r.top + fl.yaxis._offset + fl.yaxis.l2p(gd.data[i].y[j])];
}"""


def open_sizes(page, server) -> float:
    """Open the view; seconds until every chart and the side by side are drawn."""
    t0 = time.perf_counter()
    page.goto(f"{server.url}/?view=sizes")
    page.wait_for_function(charts_drawn(N_CHARTS), timeout=60_000)
    page.wait_for_function("n => document.querySelectorAll('.tv-tokens').length === n", arg=len(SIZES))
    return time.perf_counter() - t0


def hover_text(page, chart: int, trace: int, point: int) -> str:
    gd = page.locator(".js-plotly-plot").nth(chart)
    gd.scroll_into_view_if_needed()
    x, y = gd.evaluate(_POINT_XY, [trace, point])
    page.mouse.move(x, y)
    page.wait_for_function("g => g.querySelector('.hoverlayer .hovertext')", arg=gd.element_handle())
    return gd.locator(".hoverlayer").text_content() or ""


def test_every_chart_and_the_side_by_side_draw_with_exact_hovers(page, server, cache_dir):
    cold = open_sizes(page, server)
    warm = open_sizes(page, server)
    print(f"vocab sizes view, all charts drawn (s): cold {cold:.2f} (training), warm {warm:.2f}")  # not asserted
    assert_no_exception(page)
    # no error or warning at the defaults; one notice: the built-in corpus stops our runs short of 64k
    alerts = page.locator('[data-testid="stAlert"]')
    assert alerts.count() == 1 and "Not every run reaches 65,536 tokens" in alerts.first.inner_text()
    kinds = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(g => g.data.map(t => t.type))")
    assert kinds[0][:3] == ["scatter"] * 3 and kinds[1][:3] == ["scatter"] * 3 and set(kinds[2]) == {"bar"}
    # Hover gives the exact numbers of the data (4 decimals of bytes per token, the token count with separators).
    gd = page.locator(".js-plotly-plot").first
    name, x, y, tokens = gd.evaluate("g => [g.data[0].name, g.data[0].x[100], g.data[0].y[100], "
                                     "g.data[0].customdata[100]]")
    text = hover_text(page, 0, 0, 100)
    assert name in text and f"vocab size {x:,}" in text
    assert f"{y:.4f} bytes per token" in text and f"{tokens:,} tokens" in text
    assert "tokens" in hover_text(page, 1, 0, 50)
    # The side by side: the ids of each prefix tokenizer, and the changed marks where the previous size differs.
    corpus = default_corpus()
    tok = pattern_runs(corpus.text, source=corpus.source, max_size=DEFAULT_MAX_SIZE, patterns=("gpt2",),
                       directory=cache_dir).runs[0]
    for v in sizes_side_by_side(tok, DEFAULT_TEXT, SIZES):
        sel = f'.tv-tokens[data-tokenizer="bpe gpt2@{v.vocab_size}"] .tok'
        marks = page.eval_on_selector_all(
            sel, "els => els.map(e => [Number(e.dataset.tokenId), e.classList.contains('tv-changed')])")
        assert [m[0] for m in marks] == v.encoding.ids
        assert [m[1] for m in marks] == list(v.changed)
    assert page.locator(".tok.tv-changed").count() > 0
    assert_no_exception(page)


# Each chart's curves: name, first and last size; the main x axis's right end; the character point's axis; and
# whether the chart draws a legend.
_CURVES = """() => [...document.querySelectorAll('.js-plotly-plot')].slice(0, 2).map(g => ({
    curves: g.data.filter(t => t.mode === 'lines').map(t => [t.name, t.x[0], t.x[t.x.length - 1]]),
    right: g._fullLayout.xaxis.range[1], character: (g.data.find(t => t.name === 'character') || {}).xaxis,
    legend: !!g.querySelector('.legend')}))"""


def test_the_openai_tokenizers_are_curves_the_character_sits_apart_and_labels_read(page, server):
    open_sizes(page, server)
    charts = page.evaluate(_CURVES)
    for chart in charts:
        ends = {name: (first, last) for name, first, last in chart["curves"]}
        assert ends["GPT-2 · r50k_base"] == (256, 50256) and ends["GPT-4 · cl100k_base"] == (256, 100256)
        assert ends["GPT-4o · o200k_base"] == (256, 199998)
        assert {"bpe gpt2", "bpe gpt4", "bpe o200k"} <= set(ends)
        assert 10 ** chart["right"] < 400_000 and chart["character"] == "x2"
    assert [c["legend"] for c in charts] == [True, False]  # one legend for the pair
    assert chart_text_clashes(page) == []
    assert_no_exception(page)


def test_every_csv_downloads(page, server):
    open_sizes(page, server)
    expected = {
        "Compression CSV": ["series", "kind", "pattern", "vocab_size", "tokens", "bytes", "bytes_per_token"],
        "Token counts CSV": ["series", "kind", "pattern", "vocab_size", "tokens", "bytes", "bytes_per_token"],
        "Lengths CSV": ["series", "kind", "vocab_size", "length_bytes", "count", "share"],
        "Side by side CSV": ["vocab_size", "index", "id", "token_hex", "byte_start", "byte_end", "changed"],
    }
    for label, header in expected.items():
        with page.expect_download(timeout=TIMEOUT) as info:
            page.get_by_role("button", name=label).click()
        download = info.value
        assert download.suggested_filename.endswith(".csv")
        rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
        assert rows[0] == header, label
        assert len(rows) > 5, label
    assert_no_exception(page)


def test_changing_options_redraws_without_errors(page, server):
    from playwright.sync_api import expect

    open_sizes(page, server)
    page.get_by_text("gpt4", exact=True).last.click()  # the Run control
    expect(page.locator('.tv-tokens[data-tokenizer="bpe gpt4@8192"]')).to_have_count(1, timeout=TIMEOUT)
    page.get_by_text("held-out tokens", exact=True).click()
    expect(page.locator(".js-plotly-plot .gtitle-subtitle").last).to_contain_text("held-out tokens", timeout=TIMEOUT)
    page.wait_for_function(charts_drawn(N_CHARTS))
    assert_no_exception(page)


def test_screenshot_for_the_readme(browser, server):
    # README's screenshots are taken in a 1280 x 800 window, opened at that size (the charts are drawn for it).
    with new_page(browser, width=1280, height=800, timeout=TIMEOUT) as page:
        open_sizes(page, server)
        _full_page_screenshot(page, SHOTS / "screenshot-sizes.png")
        # The charts read cleanly: no legend entry into its neighbour, no point label over another, nothing cut off.
        assert chart_text_clashes(page) == []
        # Hover one point of the compression chart so the screenshot shows the exact values a user sees.
        hover_text(page, 0, 1, 40)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "screenshot-sizes.png"), full_page=True)
        w, h = _png_size(SHOTS / "screenshot-sizes.png")
        assert w == 1280 and h >= 1500, (w, h)
        assert_no_exception(page)


# The two charts' boxes: (left, top, width) of the compression chart and of the token-count chart.
_PAIR_BOXES = """() => [...document.querySelectorAll('.st-key-sizes_charts .js-plotly-plot')].map(g => {
    const r = g.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top), Math.round(r.width)]; })"""


@pytest.mark.parametrize(("width", "stacked"), [(1024, True), (1500, False)])
def test_the_two_charts_stack_in_a_narrow_window(browser, server, width, stacked):
    """Side by side in a wide window; one above the other, each the full width, where side by side each would be
    about 260 px wide (a 1024-pixel laptop window with the sidebar open)."""
    ctx = browser.new_context(viewport={"width": width, "height": 1400})
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{server.url}/sizes")
        page.wait_for_function(charts_drawn(N_CHARTS), timeout=90_000)
        page.wait_for_timeout(500)  # plotly redraws to its column's width after the first draw
        (l1, t1, w1), (l2, t2, w2) = page.evaluate(_PAIR_BOXES)
        if stacked:
            assert l1 == l2 and t2 > t1 and min(w1, w2) >= 500, ((l1, t1, w1), (l2, t2, w2))
        else:
            assert t1 == t2 and l2 > l1 + w1 - 1 and min(w1, w2) >= 400, ((l1, t1, w1), (l2, t2, w2))
        assert chart_text_clashes(page) == []
        assert_no_exception(page)
    finally:
        ctx.close()


def upload_corpus(page, path) -> None:
    """Open the Corpus popover and pick ``path`` in its uploader."""
    page.get_by_role("button", name="Corpus").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))


def test_an_upload_trains_while_another_session_tokenizes(browser, server, tmp_path):
    """Session 1 trains an uploaded corpus on this view; meanwhile session 2's Tokenize view answers an edit. Order of
    events only: session 2's new tokens are drawn while session 1 still shows its progress, then session 1's charts."""
    from playwright.sync_api import expect

    corpus = tmp_path / "words.txt"
    corpus.write_text(random_words(40_000, seed=5), encoding="utf-8")
    ctx1 = browser.new_context(viewport={"width": 1500, "height": 1000})
    ctx2 = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        first, second = ctx1.new_page(), ctx2.new_page()
        for pg in (first, second):
            pg.set_default_timeout(TIMEOUT)
        first.goto(f"{server.url}/sizes?sizes_max=16384")
        first.wait_for_function(charts_drawn(N_CHARTS), timeout=60_000)
        second.goto(f"{server.url}/?tok=byte")
        second.wait_for_selector('.tv-tokens .tok[data-tokenizer="byte"]')
        upload_corpus(first, corpus)
        progress = first.locator('[data-testid="stProgress"]')
        expect(progress).to_be_visible(timeout=TIMEOUT)
        expect(progress).to_contain_text("Training 1 of 3 (gpt2)")
        # Session 2 edits its text: new tokens are drawn ...
        edit = "session two edits while session one trains"
        area = second.locator('[data-testid="stTextArea"] textarea')
        area.fill(edit)
        area.press("Control+Enter")
        expect(second.locator('.tv-tokens .tok[data-tokenizer="byte"]')).to_have_count(len(edit.encode()))
        # ... before session 1 is done: its progress is still on the page, and no chart of the upload yet.
        still_training = progress.count() == 1 and first.get_by_text("(uploaded)").count() == 0
        seen = progress.inner_text() if still_training else ""
        assert still_training, "session 1 had finished before session 2's edit was drawn: the order is not shown"
        print(f"session 2 drew its edit while session 1 showed: {seen!r}")
        # Then session 1 finishes and draws the upload's runs.
        expect(first.get_by_text("(uploaded)")).to_be_visible(timeout=300_000)
        first.wait_for_function(charts_drawn(N_CHARTS), timeout=60_000)
        assert progress.count() == 0
        assert_no_exception(first)
        assert_no_exception(second)
    finally:
        ctx1.close()
        ctx2.close()
