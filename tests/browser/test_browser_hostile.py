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
    """``name`` is in the text of an element matching ``selector``, exactly as typed (no formatting, no backslash)."""
    from playwright.sync_api import expect

    expect(page.locator(selector).filter(has_text=name).first).to_be_visible(timeout=TIMEOUT)


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
