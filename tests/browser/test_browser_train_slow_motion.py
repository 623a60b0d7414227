"""Slow motion on the Train page in a real browser: a run trained with "Slow motion" on opens on its player, which
plays the merges at the chosen pace while the progress line, the headline and the chart show the same count in
every frame; Pause holds it, Step moves one merge; a text to watch made of markup is drawn as text and never run;
after a run the Summary keeps the merge-count chart. At 1024 and 1280 px nothing is clipped or cut at the edge; the
screenshots (``train-slow-motion-<width>.png``, ``train-summary-<width>.png``) go to helpers.SHOTS.

Marked ``browser``; the fixtures are tests/conftest.py's (Debian's Chromium, ``streamlit run`` on a free port).
"""

from __future__ import annotations

import re
import time

import pytest
from helpers import SHOTS, TIMEOUT, assert_no_exception, chart_text_clashes, laptop_faults

pytestmark = pytest.mark.browser

# The frame as drawn: its progress line, headline, chart title, chart points, table's newest rank and bar width.
_FRAME = """() => {
  const f = document.querySelector('.tv-slow');
  if (!f) return null;
  const head = f.querySelector('.tv-slow-head').innerText, row = f.querySelector('table tr:nth-child(2) td');
  return [f.querySelector('p.tv-slow-progress').innerText, head,
          f.querySelector('img.tv-slow-chart').alt, f.querySelector('img.tv-slow-chart').dataset.points,
          row ? row.innerText : '0', f.querySelector('.tv-slow-bar > div').style.width, f.dataset.total];
}"""
HOSTILE = "<img src=x onerror=alert(1)> the <b>th</b> & that"
# Parts of the frame wider than the frame itself (a chart or table cut at the page's right edge).
_WIDE_PARTS = """() => {
  const f = document.querySelector('.tv-slow'), edge = f.getBoundingClientRect().right + 1;
  return [...f.querySelectorAll('.tv-slow-bar, .tv-slow-chart, .tv-slow-row > div, .tv-step')]
    .filter(e => e.getBoundingClientRect().right > edge).map(e => e.className || e.tagName);
}"""


def _screenshot(page, width: int, path) -> None:
    """The whole page at ``width`` (Streamlit scrolls inside its main container, so the window grows to it)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(int(height), 768), 4000)})
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def _n(text: str) -> int:
    return int(text.replace(",", ""))


def frame(page) -> tuple[int, ...] | None:
    """The count each part of the frame now drawn shows (progress, headline, chart title, chart points, table,
    bar), or None before the first frame."""
    got = page.evaluate(_FRAME)
    if got is None:
        return None
    progress, head, title, points, rank, width, total = got
    shown = _n(re.fullmatch(r"Merge ([\d,]+) of [\d,]+", progress).group(1))
    h = _n(re.match(r"Merge ([\d,]+): ", head).group(1)) if head.startswith("Merge ") else 0
    bar = round(float(width.rstrip("%")) / 100 * int(total))
    return shown, h, _n(re.search(r": ([\d,]+) of", title).group(1)), int(points), _n(rank), bar


def test_slow_motion_plays_pauses_and_steps_with_one_count_everywhere(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?view=train")
    page.get_by_text("Built-in corpus", exact=True).click()
    box = page.locator('[data-testid="stNumberInput"] input')
    box.fill("400")
    box.press("Enter")
    expect(box).to_have_value("400")
    page.locator(".st-key-train_slow label").click()
    page.wait_for_timeout(400)
    page.get_by_role("button", name="Train", exact=False).first.click()
    expect(page.locator(".tv-slow")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("tab", name="Slow motion", selected=True)).to_be_visible()
    # Playing at 2 merges a second: sampled for 3 s from a frame where the count just moved (a frame's count is due
    # up to a tick before it arrives), the count grows by about that, and each frame agrees with itself.
    seen: list[tuple[float, int]] = []
    moved, t_end = False, time.monotonic() + 8.0
    while time.monotonic() < t_end:
        f = frame(page)
        if f is not None:
            assert len(set(f)) == 1, f"parts of one frame disagree: {f}"
            if not moved and seen and seen[-1][1] != f[0]:
                moved, seen, t_end = True, [], time.monotonic() + 3.0
            seen.append((time.monotonic(), f[0]))
        page.wait_for_timeout(100)
    grown = seen[-1][1] - seen[0][1]
    elapsed = seen[-1][0] - seen[0][0]
    assert 2.5 <= elapsed and 3 <= grown <= elapsed * 2 + 2, (seen[0], seen[-1])
    # Pause: time passes, nothing moves.
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    held = frame(page)
    page.wait_for_timeout(1500)
    assert frame(page) == held
    # Step: one merge on, and every part follows.
    page.get_by_role("button", name="Step").click()
    expect(page.locator(".tv-slow p.tv-slow-progress").first).to_contain_text(f"Merge {held[0] + 1:,} of")
    assert frame(page) == (held[0] + 1,) * 6
    # A text to watch that is markup: drawn as text, never run.
    box = page.get_by_role("textbox", name="Text to watch")
    box.fill(HOSTILE)
    box.press("Enter")
    chips = page.locator('.tv-slow [data-step="after"] .tv-text')
    expect(chips.first).to_have_text("<", timeout=TIMEOUT)
    drawn = "".join(chips.all_inner_texts()).replace("·", " ")
    assert drawn.startswith("<img src=x onerror=alert(1)> the <b>th</b>"), drawn
    assert page.locator(".tv-slow img:not(.tv-slow-chart)").count() == 0
    assert frame(page) == (held[0] + 1,) * 6  # a new text does not move the player
    for width, height in ((1024, 768), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)
        assert laptop_faults(page) == [], width
        assert chart_text_clashes(page) == [], width
        assert page.evaluate(_WIDE_PARTS) == [], width
        _screenshot(page, width, SHOTS / f"train-slow-motion-{width}.png")
    assert page.dialogs == []
    assert_no_exception(page)


def test_the_summary_keeps_the_merge_chart(page, server):
    """After a run (slow motion off), the Summary still shows the chart of merge counts the live panel drew."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?view=train")
    page.get_by_text("Built-in corpus", exact=True).click()
    box = page.locator('[data-testid="stNumberInput"] input')
    box.fill("350")
    box.press("Enter")
    expect(box).to_have_value("350")
    page.wait_for_timeout(400)
    page.get_by_role("button", name="Train", exact=False).first.click()
    expect(page.locator('[data-testid="stAlertContentSuccess"]', has_text="Trained")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("tab", name="Summary", selected=True)).to_be_visible()
    title = page.locator(".js-plotly-plot .gtitle", has_text="Count of each merged pair")
    n = 350 - 256 - 1  # the default special token <|endoftext|> takes one id
    expect(title).to_have_text(f"Count of each merged pair: {n} merges", timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(rf"{n} merges learned; the newest"))).to_be_visible()
    for width, height in ((1024, 768), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)
        assert laptop_faults(page) == [], width
        assert chart_text_clashes(page) == [], width
        _screenshot(page, width, SHOTS / f"train-summary-{width}.png")
    assert_no_exception(page)
