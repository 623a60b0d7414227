"""Links in a real browser (Playwright + Debian's Chromium against ``streamlit run``): a copied link, opened in a
fresh browser context (no cookies, no session), draws what the original drew, on every page; and a session's own
trained tokenizer comes back after a refresh and after a restart of the server on the same cache folder.

"What is drawn" is read from the page itself (:func:`drawn`): the ids of every token panel, the value of every box,
toggle and slider, the chosen options (chips, selects, segmented controls, open tabs) and the data of every chart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from helpers import TIMEOUT, assert_no_exception, streamlit_server

from tokviz.viewmodels.text_store import fits_in_link

pytestmark = pytest.mark.browser

_DRAWN = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const tokens = {};
    for (const el of main.querySelectorAll('.tok[data-tokenizer]')) {
        (tokens[el.dataset.tokenizer] ||= []).push(el.dataset.tokenId);
    }
    const label = e => e.getAttribute('aria-label') || e.closest('[data-testid]')?.innerText?.split('\\n')[0] || '';
    return {
        tokens,
        inputs: [...main.querySelectorAll('input, textarea')].filter(e => e.type !== 'file')
            .map(e => [label(e), e.type === 'checkbox' ? e.checked : e.value]),
        chips: [...document.querySelectorAll('[data-baseweb="tag"]')].map(e => e.innerText),
        selects: [...main.querySelectorAll('[data-testid="stSelectbox"]')].map(e => e.innerText),
        active: [...main.querySelectorAll('[data-testid$="Active"]')].map(e => e.innerText),
        sliders: [...main.querySelectorAll('[role="slider"]')].map(e => e.getAttribute('aria-valuenow')),
        tabs: [...main.querySelectorAll('[role="tab"][aria-selected="true"]')].map(e => e.innerText),
        charts: [...main.querySelectorAll('.js-plotly-plot')]
            .map(g => (g.data || []).map(t => [t.name, t.y ? Array.from(t.y).map(String) : null])),
        alerts: [...main.querySelectorAll('[data-testid="stAlert"]')].map(e => e.innerText),
    };
}"""


def drawn(page) -> dict[str, Any]:
    return page.evaluate(_DRAWN)


def settled(page, *, like: dict[str, Any] | None = None, parts: tuple[str, ...] | None = None,
            timeout: float = 90) -> dict[str, Any]:
    """What the page draws once it has stopped changing: no run in progress and the same drawing 0.8 s apart.

    With ``like`` (what another page drew), the page has settled once it draws that (its ``parts``, or all), twice
    0.8 s apart: a page that is still drawing can be still for a moment with part of its view missing, so stillness
    alone cannot say it is done. If it never comes to draw ``like``, its last drawing is returned for the caller's
    comparison to name the part that differs.
    """
    def seen(drawing: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in drawing.items() if parts is None or k in parts}

    end = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    while time.monotonic() < end:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        now = drawn(page)
        done = seen(now) == seen(like) if like is not None else now["tokens"] or now["charts"] or now["inputs"]
        if not running and now == last and done:
            return now
        last = now
        page.wait_for_timeout(800)
    if like is not None and last is not None:
        return last
    raise AssertionError(f"the page did not settle within {timeout:.0f} s")


def fresh_page(browser, url: str):
    """A page in a new browser context: no cookies, nothing of another session."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    # The app writes the view into the link at the end of its first run: changes made before would race with it.
    page.wait_for_function("() => location.search.includes('tok=')", timeout=90_000)
    return ctx, page


def commit(locator, text: str) -> None:
    """Type into a text box and commit it as a user does (Ctrl+Enter commits a text area, Enter an input); returns
    once the app has run with it (the link changed)."""
    page = locator.page
    with link_changes(page):
        locator.fill(text, timeout=90_000)  # a long text on a busy machine
        locator.press("Control+Enter" if locator.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
    if fits_in_link(text):  # the link carries it: wait for that very value, not just any change
        page.wait_for_function("t => [...new URLSearchParams(location.search).values()].includes(t)", arg=text,
                               timeout=TIMEOUT)


@contextmanager
def link_changes(page) -> Iterator[None]:
    """Wait, after the block, until the app has written a new link: the box shows a value as soon as it is typed,
    but the link (what is compared) follows only when the app has run with it."""
    before = page.url
    yield
    page.wait_for_function("u => location.href !== u", arg=before, timeout=TIMEOUT)


def click(page, text: str) -> None:
    with link_changes(page):
        page.get_by_text(text, exact=True).last.click()


# -- the changes a user makes on each page, before copying its link ------------------------------------------------
def on_tokenize(page) -> None:
    page.wait_for_selector(".tv-tokens .tok")
    commit(page.locator('[data-testid="stTextArea"] textarea'), "Links carry 1234567 views, héllo 👋🏽\tand tabs")
    click(page, "Show whitespace")
    click(page, "Pre-tokenizer chunks")
    click(page, "same id, same color")


def on_observations(page) -> None:
    # The main area's: the sidebar has a text box of its own (the Hub model id), hidden when the sidebar is folded.
    box = page.locator('[data-testid="stMain"] [data-testid="stTextInput"] input').first
    box.wait_for()
    commit(box, "a link travels the world")


def on_sizes(page) -> None:
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    click(page, "gpt4")  # the Run control
    click(page, "held-out tokens")
    commit(page.locator('[data-testid="stTextArea"] textarea'), "Sizes 2024: it's 1,234,567 o'clock")


def on_compare(page) -> None:
    page.wait_for_selector(".tv-tokens .tok", timeout=90_000)
    commit(page.locator('[data-testid="stTextArea"] textarea').last, "a diff of 42 tokens, héllo")


def on_inspect(page) -> None:
    with link_changes(page):
        page.get_by_role("tab", name="Measures").click()
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)


def type_message(page, k: int, text: str) -> None:
    """Type ``text`` into the chat's message ``k`` (from 1) and commit it; returns once the link carries it (as a
    JSON string inside the conversation's value, not as a value of its own)."""
    box = page.get_by_label(f"Message {k}", exact=True)
    with link_changes(page):
        box.fill(text, timeout=90_000)
        box.press("Control+Enter")
    page.wait_for_function("t => (new URLSearchParams(location.search).get('chat_msgs') || '')"
                           ".includes(JSON.stringify(t).slice(1, -1))", arg=text, timeout=TIMEOUT)


def on_chat(page) -> None:
    # Opened in Chat mode with GPT-4 and GPT-4o chosen (see START): a message typed, one added and typed, another's
    # role changed, one removed, and the generation prompt off.
    page.wait_for_selector(".tv-tokens .tok", timeout=90_000)
    type_message(page, 2, "Links carry whole conversations, héllo 👋🏽 \"quoted\" & [brackets]")
    with link_changes(page):
        page.get_by_role("button", name="+ tool").click()
    type_message(page, 5, '{"temperature": 22}')
    with link_changes(page):
        page.get_by_role("button", name="✕").nth(2).click()  # the third message (the assistant's) goes
    with link_changes(page):
        page.get_by_text("Add generation prompt", exact=True).click()


PAGES: dict[str, Callable[[Any], None]] = {
    "tokenize": on_tokenize, "observations": on_observations, "sizes": on_sizes, "compare": on_compare,
    "inspect": on_inspect, "chat": on_chat,
}
#: Where a case starts when not at its page's own path.
START = {"tokenize": "", "chat": "?tok_mode=Chat&tok=GPT-4+%C2%B7+cl100k_base&tok=GPT-4o+%C2%B7+o200k_base"}


@pytest.mark.parametrize("path", list(PAGES))
def test_a_copied_link_draws_the_same_view_in_a_fresh_context(browser, server, path):
    ctx_a, a = fresh_page(browser, f"{server.url}/{START.get(path, path)}")
    ctx_b = None
    try:
        PAGES[path](a)
        original = settled(a)
        link = a.url
        assert link.startswith(server.url) and "?" in link, link
        ctx_b, b = fresh_page(browser, link)
        opened = settled(b, like=original)
        for part in original:
            assert opened[part] == original[part], (path, part)
        assert original["tokens"] or original["charts"], "nothing was drawn to compare"
        assert_no_exception(a)
        assert_no_exception(b)
    finally:
        ctx_a.close()
        if ctx_b is not None:
            ctx_b.close()


def _train_builtin(page, *, vocab: int) -> str:
    """Train on the built-in corpus from the Train page; the success message."""
    from playwright.sync_api import expect

    page.get_by_text("Built-in corpus", exact=True).click()
    box = page.locator('[data-testid="stNumberInput"] input').first
    commit(box, str(vocab))
    expect(box).to_have_value(str(vocab))
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Train", exact=False).first.click()
    done = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Trained")
    expect(done).to_be_visible(timeout=120_000)
    return done.inner_text()


#: What the replay draws that a link must bring back: the step's slider and box, the open tab, the chosen tokenizers,
#: and the corpus line's tokens before and after the step (``tokens``: the chips of the step's effect).
REPLAY_PARTS = ("sliders", "inputs", "tabs", "chips", "tokens")
#: A step of the built-in corpus at 300 whose pair a corpus line shows (step 20 joins a line break and two spaces,
#: which no single line holds).
STEP = 25


def _open_replay_step(page, step: int) -> dict[str, Any]:
    """Open the Merge replay tab of the run shown and go to ``step``; what is drawn then."""
    from playwright.sync_api import expect

    with link_changes(page):
        page.get_by_role("tab", name="Merge replay").click()
    commit(page.get_by_label("Go to step"), str(step))
    expect(page.get_by_text(f"Step {step}", exact=False).first).to_be_visible()
    drawn_now = settled(page)
    assert drawn_now["tokens"], "the replay drew no corpus line"
    return drawn_now


def _replay_heading(page) -> str:
    """The replay's line that names the step and the pair it merged."""
    return page.locator('[data-testid="stMarkdown"]', has_text="merged").first.inner_text()


def test_a_copied_train_replay_link_draws_the_same_step(browser, server):
    from playwright.sync_api import expect

    ctx_a, a = fresh_page(browser, f"{server.url}/train")
    ctx_b = None
    try:
        _train_builtin(a, vocab=300)
        original = _open_replay_step(a, STEP)
        ctx_b, b = fresh_page(browser, a.url)
        expect(b.get_by_text(f"Step {STEP}", exact=False).first).to_be_visible(timeout=60_000)
        opened = settled(b, like=original, parts=REPLAY_PARTS)
        for part in REPLAY_PARTS:
            assert opened[part] == original[part], part
        assert _replay_heading(b) == _replay_heading(a)
        assert_no_exception(b)
    finally:
        ctx_a.close()
        if ctx_b is not None:
            ctx_b.close()


def test_a_trained_tokenizer_survives_a_refresh_and_a_server_restart(browser, tmp_path):
    from playwright.sync_api import expect

    cache = tmp_path / "cache"
    with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(cache)}, log=tmp_path / "first.log") as srv:
        ctx, page = fresh_page(browser, f"{srv.url}/train")
        try:
            said = _train_builtin(page, vocab=300)
            assert "trained-1 (gpt2, 300)" in said
            # Shown in Tokenize: its ids on the default text.
            page.get_by_role("button", name="Compare it in Tokenize").click()
            name = "trained-1 (gpt2, 300)"
            panel = f'.tv-tokens .tok[data-tokenizer="{name}"]'
            page.wait_for_selector(panel, timeout=60_000)
            before = settled(page)
            assert before["tokens"].get(name)
            page.reload()  # F5
            page.wait_for_selector(panel, timeout=60_000)
            after_refresh = settled(page, like=before, parts=("tokens", "chips"))
            assert after_refresh["tokens"] == before["tokens"] and after_refresh["chips"] == before["chips"]
            path_and_query = page.url.removeprefix(srv.url)
        finally:
            ctx.close()
    # The same cache folder, a new server process (on another port): the link brings the tokenizer back.
    with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(cache)}, log=tmp_path / "second.log") as srv:
        ctx, page = fresh_page(browser, f"{srv.url}{path_and_query}")
        try:
            page.wait_for_selector(panel, timeout=60_000)
            after_restart = settled(page, like=before, parts=("tokens", "chips"))
            assert after_restart["tokens"] == before["tokens"] and after_restart["chips"] == before["chips"]
            expect(page.locator('[data-testid="stAlert"]', has_text="does not have")).to_have_count(0)
            assert_no_exception(page)
        finally:
            ctx.close()


def test_a_long_text_travels_by_hash_and_a_missing_one_is_said(browser, server):
    from playwright.sync_api import expect

    long = "".join(f"line {i}: a text far too long for a link, héllo 👋🏽\n" for i in range(800))  # 60 KB encoded
    ctx_a, a = fresh_page(browser, f"{server.url}/?tok=byte&tok=bpe-gpt2-8k")
    ctx_b = ctx_c = None
    try:
        a.wait_for_selector(".tv-tokens .tok")
        commit(a.locator('[data-testid="stTextArea"] textarea'), long)
        original = settled(a)
        link = a.url
        # The link names the text by its hash: short, far under what the web server accepts (a bare 400 past it).
        assert "text.ref=" in link and "text=" not in link.replace("text.ref=", "") and len(link) < 2000, link
        ctx_b, b = fresh_page(browser, link)
        opened = settled(b, like=original, parts=("tokens",))
        assert b.locator('[data-testid="stTextArea"] textarea').input_value() == long
        assert opened["tokens"] == original["tokens"] and opened["tokens"]["byte"]
        # A link naming a text this server does not have says so, and restores the rest.
        ctx_c, c = fresh_page(browser, f"{server.url}/?tok=byte&text.ref={'e' * 64}&show_ws=1")
        expect(c.locator('[data-testid="stAlert"]', has_text="this server does not have that text")).to_be_visible()
        assert c.locator('[data-testid="stCheckbox"]', has_text="Show whitespace").locator("input").is_checked()
        assert_no_exception(c)
    finally:
        for ctx in (ctx_a, ctx_b, ctx_c):
            if ctx is not None:
                ctx.close()


def test_a_train_run_and_its_replay_step_survive_a_refresh_and_a_server_restart(browser, tmp_path):
    from playwright.sync_api import expect

    cache = tmp_path / "cache"
    with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(cache)}, log=tmp_path / "first.log") as srv:
        ctx, page = fresh_page(browser, f"{srv.url}/train")
        try:
            _train_builtin(page, vocab=300)
            before = _open_replay_step(page, STEP)
            heading = _replay_heading(page)
            page.reload()  # F5: a new session, which has only the link
            expect(page.get_by_text(f"Step {STEP}", exact=False).first).to_be_visible(timeout=60_000)
            after_refresh = settled(page, like=before, parts=REPLAY_PARTS)
            for part in REPLAY_PARTS:
                assert after_refresh[part] == before[part], ("refresh", part)
            assert _replay_heading(page) == heading
            path_and_query = page.url.removeprefix(srv.url)
        finally:
            ctx.close()
    with streamlit_server(env={"TOKVIZ_CACHE_DIR": str(cache)}, log=tmp_path / "second.log") as srv:
        ctx, page = fresh_page(browser, f"{srv.url}{path_and_query}")
        try:
            expect(page.get_by_text(f"Step {STEP}", exact=False).first).to_be_visible(timeout=60_000)
            after_restart = settled(page, like=before, parts=REPLAY_PARTS)
            for part in REPLAY_PARTS:
                assert after_restart[part] == before[part], ("restart", part)
            assert _replay_heading(page) == heading
            # The summary came back too.
            with link_changes(page):
                page.get_by_role("tab", name="Summary").click()
            expect(page.locator('[data-testid="stMetric"]', has_text="Merges")).to_contain_text("43")
            expect(page.locator('[data-testid="stAlert"]', has_text="damaged")).to_have_count(0)
            assert_no_exception(page)
        finally:
            ctx.close()
