"""A lone surrogate pasted into the Tokenize page's Text box: a browser string may hold one, UTF-8 (and so Streamlit's
messages) cannot. The page repairs it to U+FFFD in the box itself, before the text is sent, says so in one line, and
the tokens drawn are the tokens of the text the box shows."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from helpers import TIMEOUT, assert_no_exception, wait_for_token_listeners

from tokviz.core.protocol import encode_as_shown
from tokviz.formats.pretrained import load_encoding

pytestmark = pytest.mark.browser

PANEL = "GPT-4o · o200k_base"
_BOX = '.st-key-text textarea'
# A paste as the browser delivers it: the box's value changes, then an input event; the lone halves are built in the
# page (a Python string holding them cannot be sent to it).
_PASTE = """([high, low]) => {
  const area = document.querySelector('.st-key-text textarea');
  area.focus();
  const lone = String.fromCharCode(0xD83D), tail = String.fromCharCode(0xDE43);
  const text = 'smile ' + (high ? lone : '') + ' and ' + (low ? tail : '') + ' end 🙃';
  const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
  set.call(area, text);
  area.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'insertFromPaste'}));
}"""
# The box's value as UTF-16 code units, so a lone surrogate survives the trip back to Python.
_UNITS = "() => [...document.querySelector('.st-key-text textarea').value].flatMap(c => " \
         "[...Array(c.length).keys()].map(i => c.charCodeAt(i)))"


def _ids(page) -> list[int]:
    return page.evaluate(f"""() => [...document.querySelectorAll('.tv-tokens[data-tokenizer="{PANEL}"] .tok')]
        .map(t => Number(t.dataset.tokenId))""")


@pytest.mark.parametrize("halves", [(True, False), (True, True)], ids=["one-high", "high-and-low"])
def test_a_pasted_lone_surrogate_is_repaired_in_the_box_and_said(page, server, halves):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?text={quote('hello')}&tok={quote(PANEL)}")
    expect(page.locator(".tv-tokens").first).to_be_visible(timeout=120_000)
    wait_for_token_listeners(page)
    expect(page.locator(_BOX)).to_have_value("hello")
    before = _ids(page)
    page.evaluate(_PASTE, list(halves))
    units = page.evaluate(_UNITS)
    shown = bytes(b for u in units for b in u.to_bytes(2, "little")).decode("utf-16-le", "surrogatepass")
    assert not any("\ud800" <= c <= "\udfff" for c in shown), "the box still holds a lone surrogate"
    lone = sum(halves)
    assert shown.count("\ufffd") == lone
    expect(page.get_by_text(f"{lone} lone surrogate", exact=False)).to_be_visible(timeout=TIMEOUT)
    want = encode_as_shown(load_encoding("o200k_base"), shown)
    assert want != before
    try:  # the page redraws its tokens a moment after the note
        page.wait_for_function(f"""want => JSON.stringify([...document.querySelectorAll(
            '.tv-tokens[data-tokenizer="{PANEL}"] .tok')].map(t => Number(t.dataset.tokenId))) === want""",
                               arg=json.dumps(want, separators=(",", ":")), timeout=TIMEOUT)
    finally:
        assert _ids(page) == want  # the tokens are the box's text
    units = page.evaluate(_UNITS)  # and the box still shows that text
    assert bytes(b for u in units for b in u.to_bytes(2, "little")).decode("utf-16-le") == shown
    assert "bad UTF-8" not in server.log.read_text(errors="replace")  # no message was refused by the server
    # The note is about the text the box holds: an edit that changes it takes the note away.
    page.locator(_BOX).press("End")
    page.keyboard.type("!")
    expect(page.get_by_text("lone surrogate", exact=False)).to_have_count(0, timeout=TIMEOUT)
    assert_no_exception(page)
