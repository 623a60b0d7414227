"""Hostile and bad input in a real browser (Playwright + Debian's Chromium against ``streamlit run``).

A file name is text the user chose, and the page quotes it in captions and messages. Named as Markdown or HTML that
would fetch an address, it must be shown as typed and fetch nothing: a tiny HTTP server on a free localhost port
records every request, files named to fetch from it are uploaded (accepted and refused) on every page that takes
uploads, and the recorder must see nothing while each name is on the page literally. A probe (a scratch app that
renders such a name with ``st.markdown``) shows that the recorder does see the request when a name is rendered as
markup, so the check can fail.

Also: a vocabulary size below 256 typed into the Train page's box is kept, said, and never trained with.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from helpers import TIMEOUT, assert_no_exception, streamlit_server

from tokviz import save_tokenizer

pytestmark = pytest.mark.browser

CORPUS = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7919 % 1000}\n" for i in range(300))


@dataclass
class Recorder:
    """Every connection a local TCP server received, with its first bytes (an HTTP request line, or the TLS hello of
    an ``https:`` address: both count)."""

    port: int
    requests: list[bytes] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    seen: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(2)
            try:
                data = self.request.recv(2048)
            except OSError:
                data = b""
            seen.append(data or b"(connected, sent nothing)")
            if data.startswith((b"GET", b"HEAD", b"POST")):
                self.request.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    rec = Recorder(srv.server_address[1], seen)
    try:
        yield rec
    finally:
        srv.shutdown()
        srv.server_close()


def hostile_names(rec: Recorder) -> list[str]:
    """File names that are Markdown or HTML fetching from the recorder. A name on disk cannot hold "/"; an address
    of another scheme than the page's needs none (``https:host:port`` is ``https://host:port/``), so these are names
    a real file can have."""
    return [
        f"![p](https:{rec.base}).txt",
        f"<img src=https:{rec.base}>.txt",
        f"![q](https:{rec.base}) **bold** $x$ _i_.txt",
    ]


def payload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "text/plain", "buffer": data}


def settle(page, rec: Recorder) -> None:
    """Give any image or frame a page may have drawn time to be requested, then check the page itself."""
    page.wait_for_timeout(500)
    assert page.evaluate("b => [...document.querySelectorAll('img, iframe, source, link')].filter(e => "
                         "(e.src || e.href || '').includes(b)).length", rec.base) == 0
    assert_no_exception(page)


def shown_literally(page, selector: str, name: str) -> None:
    """``name`` is in the text of an element matching ``selector``, exactly as typed (no formatting, no backslash);
    the one thing allowed between its characters is the invisible word joiner that keeps an address from becoming a
    link (``viewmodels.markdown``)."""
    from playwright.sync_api import expect

    as_typed = re.compile("\u2060?".join(map(re.escape, name)))
    expect(page.locator(selector).filter(has_text=as_typed).first).to_be_visible(timeout=TIMEOUT)


ALERT, CAPTION = '[data-testid="stAlert"]', '[data-testid="stCaptionContainer"]'


def test_train_page_shows_hostile_names_as_typed_and_fetches_nothing(page, server, recorder):
    from playwright.sync_api import expect

    bad, good, third = hostile_names(recorder)
    page.goto(f"{server.url}/train?train_vocab=300")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    # Refused: the error names the file.
    uploader.set_input_files([payload(bad, b"")])
    shown_literally(page, ALERT, f"{bad} is empty")
    settle(page, recorder)
    # Accepted and trained (in a fresh session, so the refused file is not in the list): the run's caption names it.
    page.goto(f"{server.url}/train?train_vocab=300")
    uploader.set_input_files([payload(good, CORPUS.encode()), payload(third, CORPUS.encode())])
    expect(page.get_by_text("2 files, ")).to_be_visible()
    page.get_by_role("button", name="Train", exact=False).first.click()
    expect(page.locator('[data-testid="stAlertContentSuccess"]', has_text="Trained")).to_be_visible(timeout=120_000)
    shown_literally(page, CAPTION, f"Trained on {good}, {third}")
    settle(page, recorder)
    assert recorder.requests == []


def test_sizes_page_shows_hostile_names_as_typed_and_fetches_nothing(page, server, recorder):
    bad, good, _ = hostile_names(recorder)
    page.goto(f"{server.url}/sizes")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.get_by_role("button", name="Corpus").click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files([payload(bad, b"one line and no line break")])
    shown_literally(page, ALERT, f"Cannot train on {bad}:")
    settle(page, recorder)
    uploader.set_input_files([payload(good, CORPUS.encode())])
    shown_literally(page, CAPTION, f"Corpus: {good} (uploaded)")
    settle(page, recorder)
    assert recorder.requests == []


def test_load_page_shows_hostile_names_as_typed_and_fetches_nothing(page, server, recorder, tmp_path):
    from tokviz import train_bpe

    bad, good, third = hostile_names(recorder)
    tok_file = tmp_path / "tok.json"
    save_tokenizer(train_bpe([CORPUS], vocab_size=270), tok_file)
    page.goto(f"{server.url}/compare")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
    uploader.set_input_files([payload(bad, b'{"model": {"type": "Unigram", "vocab": []}}')])
    page.get_by_role("button", name="Load uploaded files").click()
    shown_literally(page, ALERT, bad)
    settle(page, recorder)
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
    uploader.set_input_files([payload(good, tok_file.read_bytes())])
    page.get_by_role("button", name="Load uploaded files").click()
    shown_literally(page, ALERT, "Loaded")
    settle(page, recorder)
    # The corpus for the merge counts can be uploaded too: refused (empty), its message names it.
    page.goto(f"{server.url}/compare?cmp_corpus=upload")
    corpus = page.locator('[data-testid="stFileUploader"]', has_text="Corpus (UTF-8 text)")
    corpus.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([payload(third, b"")])
    shown_literally(page, ALERT, f"{third} is empty")
    settle(page, recorder)
    assert recorder.requests == []


def test_inspect_page_shows_hostile_language_names_as_typed_and_fetches_nothing(page, server, recorder):
    """Language files are named after their language: the name is a chart label and a table row."""
    bad, good, third = hostile_names(recorder)
    page.goto(f"{server.url}/inspect?inspect_tab=Languages&inspect_lang_source=files")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
    uploader.set_input_files([payload("English.txt", b"Good morning, friends."), payload(bad, b"")])
    shown_literally(page, ALERT, f"{bad} is empty")
    settle(page, recorder)
    page.goto(f"{server.url}/inspect?inspect_tab=Languages&inspect_lang_source=files")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files([
        payload("English.txt", b"Good morning, friends."), payload(good, b"Guten Morgen, Freunde."),
        payload(third, b"Bonjour, les amis.")])
    page.wait_for_selector(".js-plotly-plot .xtick", timeout=60_000)
    stems = [n.removesuffix(".txt") for n in (good, third)]
    labels = page.eval_on_selector_all(".js-plotly-plot .xtick text", "els => els.map(e => e.textContent)")
    for stem in stems:
        assert stem in labels, labels  # the axis label reads as typed: no tag taken as markup
    settle(page, recorder)
    assert recorder.requests == []


def test_probe_a_name_rendered_as_markdown_is_fetched(browser, recorder, tmp_path):
    """The check above can fail: the same names drawn with ``st.markdown`` make the browser request the recorder."""
    names = hostile_names(recorder)
    script = tmp_path / "probe.py"
    script.write_text("import streamlit as st\n" + "".join(f"st.markdown({n!r})\n" for n in names), encoding="utf-8")
    with streamlit_server(env={}, log=tmp_path / "probe.log", app=script) as srv:
        ctx = browser.new_context()
        try:
            pg = ctx.new_page()
            pg.goto(srv.url)
            pg.wait_for_selector('[data-testid="stMarkdown"]', timeout=TIMEOUT)
            for _ in range(50):
                if recorder.requests:
                    break
                pg.wait_for_timeout(100)
        finally:
            ctx.close()
    assert recorder.requests, "the probe's names, rendered as Markdown, fetched nothing: the recorder cannot tell"


def test_train_page_says_a_vocabulary_size_below_256_and_does_not_train(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/train?train_source=builtin")
    box = page.locator('[data-testid="stNumberInput"] input')
    box.fill("100")
    box.press("Enter")
    error = page.locator(ALERT, has_text="Vocabulary size 100 is too small")
    expect(error).to_be_visible(timeout=TIMEOUT)
    expect(error).to_contain_text("at least 257")
    expect(box).to_have_value("100")  # kept as typed, not put back silently
    train = page.get_by_role("button", name="Train", exact=False).first
    expect(train).to_be_disabled()
    box.fill("300")
    box.press("Enter")
    expect(error).to_have_count(0)
    expect(train).to_be_enabled()
    assert_no_exception(page)


# -- regexes over their budget: refused with a message while the server keeps answering ---------------------------
SLOW_COMPILE = r"(?:a{3000}){3000}|\S+|\s+"  # minutes of compiling holding the GIL before the budget
BACKTRACKS = r"(?:a|aa)+$"  # never came back on "a" * 40 + "!" before the budget


@dataclass
class HealthWatch:
    """Polls ``/_stcore/health`` ten times a second in a thread and keeps the slowest answer (seconds) of those
    asked while :attr:`watching` (while a costly input is being refused, not while pages load)."""

    url: str
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)
    watching: str = ""
    slow: list[tuple[str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        import time
        import urllib.request

        while not self._stop.is_set():
            watching, start = self.watching, time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=10) as r:
                    r.read()
            except OSError as e:
                self.failures.append(repr(e))
            took = time.monotonic() - start
            if watching and self.watching:
                self.slowest = max(self.slowest, took)
            if took > 0.3:
                self.slow.append((watching or "-", round(took, 2)))
            self._stop.wait(0.1)


@pytest.fixture
def health(server) -> Iterator[HealthWatch]:
    watch = HealthWatch(server.url)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    yield watch
    watch._stop.set()
    thread.join()


def _hostile_split_file(tmp_path) -> str:
    import json

    from tokviz import train_bpe

    path = tmp_path / "hostile-split" / "tokenizer.json"
    path.parent.mkdir()
    save_tokenizer(train_bpe([CORPUS], vocab_size=270), path, format="hf")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": BACKTRACKS}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_costly_regexes_are_refused_while_the_server_answers(page, browser, server, health, tmp_path):
    from playwright.sync_api import expect

    # What the machine alone costs: the slowest answer over 5 idle seconds (a loaded CI machine answers slower
    # whatever the app does); a refusal must not add to it more than that again, and never past 1 s on a quiet one.
    health.watching = "idle"
    page.wait_for_timeout(5000)
    health.watching = ""
    bound = max(1.0, 2 * health.slowest)
    health.slowest = 0.0
    # The Train page's custom regex whose counts multiply to nine million: refused, naming it.
    page.goto(f"{server.url}/train?train_source=builtin&train_vocab=300&train_pattern=custom")
    box = page.get_by_role("textbox", name="Custom regex")
    expect(box).to_be_visible(timeout=60_000)
    box.fill(SLOW_COMPILE)
    box.press("Enter")
    page.wait_for_timeout(1000)  # the page settles with the new regex before the watch starts
    health.watching = "train"
    page.get_by_role("button", name="Train", exact=False).first.click()
    expect(page.locator(ALERT, has_text="too costly to compile")).to_be_visible(timeout=60_000)
    health.watching = ""
    expect(page.locator(ALERT, has_text="(?:a{3000}){3000}")).to_be_visible()
    assert_no_exception(page)

    # A tokenizer.json whose Split backtracks without end on one text: loaded, and that text is refused.
    page.goto(f"{server.url}/compare")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files([_hostile_split_file(tmp_path)])
    page.get_by_role("button", name="Load uploaded files").click()
    expect(page.locator(ALERT, has_text="Loaded")).to_be_visible(timeout=60_000)
    page.locator('[data-testid="stSidebar"]').get_by_text("Tokenize", exact=True).click()
    page.wait_for_selector('.tv-tokens .tok[data-tokenizer="uploaded"]', timeout=60_000)  # an upload's name
    second = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    second.goto(server.url)
    second.wait_for_selector("[data-token-id]", timeout=60_000)
    page.wait_for_timeout(1000)
    health.watching = "split"
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.fill("a" * 40 + "!")
    area.press("Control+Enter")
    # Meanwhile another session's edit is drawn: the stopped regex holds neither the GIL nor the server.
    try:
        second_area = second.locator('[data-testid="stTextArea"] textarea')
        second_area.fill("another session, drawn meanwhile")
        second_area.press("Control+Enter")
        expect(second.get_by_text(f"{len('another session, drawn meanwhile')} chars").first).to_be_visible(
            timeout=30_000)  # the panels' headers count the new text
        assert_no_exception(second)
    finally:
        second.context.close()
    stopped = page.locator(ALERT, has_text="Split pattern")
    expect(stopped).to_be_visible(timeout=60_000)
    health.watching = ""
    expect(stopped).to_contain_text("was stopped (catastrophic backtracking)")
    assert_no_exception(page)
    assert health.failures == []
    assert health.slowest < bound, f"/_stcore/health took {health.slowest:.2f} s; over 0.3 s: {health.slow}"


# -- tokenizer names that are markup: shown as typed on every page ------------------------------------------------
def markup_names(rec: Recorder) -> list[str]:
    """The report's names: bold and italic, and a live link to the recorder (it travels in own=)."""
    return ["<b>B</b><i>I</i>", f'<a href="//{rec.base}/a">L</a>']


#: Elements a name's markup would have made: HTML tags, Markdown's, and plotly's SVG (bold/italic tspans, links).
MARKUP_FROM_NAMES = """base => [...document.querySelectorAll(
    'b, i, strong, em, a, tspan[style*="bold"], tspan[style*="italic"]')].filter(e =>
    ['B', 'I', 'L'].includes(e.textContent.trim()) || (e.getAttribute('href') || e.getAttribute('xlink:href') || ''
    ).includes(base)).map(e => e.outerHTML)"""


def test_markup_in_tokenizer_names_is_drawn_as_typed_on_every_page(page, server, recorder, tmp_path):
    from playwright.sync_api import expect

    from tokviz import train_bpe

    tok_file = tmp_path / "tok.json"
    save_tokenizer(train_bpe([CORPUS], vocab_size=270), tok_file)
    names = markup_names(recorder)
    page.goto(f"{server.url}/compare")
    for name in names:
        box = page.get_by_role("textbox", name="Name")
        if not box.is_visible():
            page.get_by_text("Options: pattern, special tokens, name").click()
        box.fill(name)
        box.press("Enter")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files([str(tok_file)])
        page.get_by_role("button", name="Load uploaded files").click()
        shown_literally(page, ALERT, f"Loaded {name}")
    sidebar = page.locator('[data-testid="stSidebar"]')
    visits = [("Tokenize", None), ("Observations", None), ("Vocab sizes", ".js-plotly-plot"), ("Train", None),
              ("Load & diff", None), ("Inspect", None), ("Files", None)]
    for title, ready in visits:
        sidebar.get_by_text(title, exact=True).click()
        page.wait_for_timeout(1500)
        if ready:
            page.wait_for_selector(ready, timeout=120_000)
        page.wait_for_timeout(1500)
        assert page.evaluate(MARKUP_FROM_NAMES, recorder.base) == [], title
        assert_no_exception(page)
    # Inspect's charts with the names in legends: Languages and Measures (Zipf).
    sidebar.get_by_text("Inspect", exact=True).click()
    for tab in ("Languages", "Measures"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(".js-plotly-plot .legendtext", timeout=120_000)
        legend = page.eval_on_selector_all(".js-plotly-plot .legendtext", "els => els.map(e => e.textContent)")
        for name in names:
            assert any(name[:20] in t for t in legend), (tab, legend)  # the name, as typed (cut at 24 characters)
        assert page.evaluate(MARKUP_FROM_NAMES, recorder.base) == [], tab
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    settle(page, recorder)
    assert recorder.requests == []
