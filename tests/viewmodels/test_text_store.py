"""tokviz.viewmodels.text_store: texts too long for a link kept by hash (bounded, checked on reading), and the app's
links that name them: a long text comes back from its link on the same server, a missing one is said on the page."""

from __future__ import annotations

import os
import time
import urllib.parse
from pathlib import Path

import pytest
from helpers import drawn_markup, plain
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.viewmodels.text_store import (
    LINK_TEXT_BYTES,
    TextStore,
    fits_in_link,
    link_by_ref,
    text_hash,
    texts_from_refs,
)

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_comes_back_by_its_hash(tmp_path_factory, text):
    store = TextStore(tmp_path_factory.mktemp("texts"))
    h = store.put(text)
    assert h == text_hash(text) and store.get(h) == text.encode("utf-8", "replace").decode("utf-8")


def test_a_damaged_file_is_discarded_and_names_are_only_hashes(tmp_path):
    store = TextStore(tmp_path)
    h = store.put("x" * 10_000)
    assert h is not None
    path = tmp_path / f"{h}.txt"
    path.write_bytes(path.read_bytes()[:5000])  # truncated
    assert store.get(h) is None and not path.exists()
    assert store.get("../../etc/passwd") is None and store.get("A" * 64) is None


def test_the_store_is_bounded_least_recently_used_out_first(tmp_path):
    store = TextStore(tmp_path, max_bytes=35_000)
    used, old, new = (store.put(c * 10_000) for c in "abc")
    assert used and old and new
    # Dates set by hand: a test must not depend on the clock's resolution. ``used`` is the oldest ...
    now = time.time()
    for h, age in ((used, 300), (old, 200), (new, 100)):
        os.utime(tmp_path / f"{h}.txt", (now - age, now - age))
    assert store.get(used) == "a" * 10_000  # ... until it is read: now the most recently used
    newest = store.put("d" * 10_000)  # 40,000 bytes: one must go, the least recently used
    assert newest and store.get(newest) == "d" * 10_000
    assert store.get(old) is None
    assert store.get(used) == "a" * 10_000 and store.get(new) == "c" * 10_000


def test_a_text_over_the_bound_is_not_kept(tmp_path):
    assert TextStore(tmp_path, max_bytes=1000).put("x" * 1001) is None
    assert list(tmp_path.iterdir()) == []


def test_what_fits_in_a_link_is_measured_encoded():
    assert fits_in_link("a" * LINK_TEXT_BYTES) and not fits_in_link("a" * (LINK_TEXT_BYTES + 1))
    emoji = "🌍" * (LINK_TEXT_BYTES // 12 + 1)  # 12 bytes each, URL-encoded
    assert len(emoji) < LINK_TEXT_BYTES and not fits_in_link(emoji)


def test_link_by_ref_and_back(tmp_path):
    store = TextStore(tmp_path)
    long, short = "long text " * 1000, "short"
    params, left = link_by_ref({"text": long, "sizes_text": short, "tok": ["byte"]},
                               {"text": long, "sizes_text": short}, store)
    assert left == () and set(params) == {"text.ref", "sizes_text", "tok"}
    assert len(urllib.parse.urlencode(params, doseq=True)) < 200
    found, missing = texts_from_refs({**params, "cmp_text.ref": "f" * 64, "evil.ref": params["text.ref"]}, store,
                                     keys={"text", "sizes_text", "cmp_text"})
    assert found == {"text": long} and missing == ("cmp_text",)
    # A link that carries the text itself wins over a ref to it.
    assert texts_from_refs({"text": "mine", "text.ref": params["text.ref"]}, store, keys={"text"}) == ({}, ())


def test_a_text_the_link_left_out_goes_by_hash_even_if_its_bytes_would_fit(tmp_path):
    # Over the link's character bound (share.TEXT_LIMIT, so to_params leaves it out) yet under its byte bound: it
    # travelled in no link at all before.
    from tokviz.viewmodels.share import TEXT_LIMIT, ShareState, to_params

    text = "a" * (TEXT_LIMIT + 1)
    assert fits_in_link(text)
    store = TextStore(tmp_path)
    params, left = link_by_ref(to_params(ShareState(text=text, tokenizers=("byte",))), {"text": text}, store)
    assert left == () and "text" not in params and store.get(str(params["text.ref"])) == text


def test_too_long_to_keep_is_said(tmp_path):
    params, left = link_by_ref({"tok": ["byte"]}, {"text": "x" * 5000}, TextStore(tmp_path, max_bytes=100))
    assert params == {"tok": ["byte"]} and left == ("text",)


# -- the app's links ------------------------------------------------------------------------------------------------
def _app(query: dict[str, str | list[str]]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    return at


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow  # AppTest runs of the whole app
def test_a_long_text_travels_by_hash_and_comes_back_from_its_link(cache_dir):
    long = "".join(f"line {i}: a text far too long to travel in a link 🌍\n" for i in range(3000))
    at = ok(_app({"tok": "byte"}).run())
    ok(at.text_area(key="text").set_value(long).run())
    params = dict(at.query_params)
    assert "text" not in params and len(params["text.ref"]) == 64
    assert len(urllib.parse.urlencode(params, doseq=True)) < 1000  # the whole link stays short
    again = ok(_app(params).run())  # a fresh session opening the link on the same server
    assert again.text_area(key="text").value == long
    assert not again.warning
    ids = [el for el in drawn_markup(again) if "data-token-id" in el.proto.body]
    assert ids  # the tokens are drawn from the text the link named


@pytest.mark.slow
def test_a_link_naming_a_text_this_server_does_not_have_says_so(cache_dir):
    at = ok(_app({"tok": "byte", "text.ref": "e" * 64, "show_ws": "1"}).run())
    warnings = [plain(w.value) for w in at.warning]
    assert any("this server does not have that text" in w for w in warnings), warnings
    assert at.session_state["show_ws"] is True  # the rest of the view is restored


@pytest.mark.slow
def test_a_text_too_long_to_keep_is_said_once(cache_dir, monkeypatch):
    import tokviz.viewmodels.text_store as text_store

    monkeypatch.setattr(text_store, "MAX_TEXT_BYTES", 10_000)
    at = ok(_app({"tok": "byte"}).run())
    ok(at.text_area(key="text").set_value("y " * 10_000).run())
    assert "text" not in at.query_params and "text.ref" not in at.query_params
    assert [plain(t.value) for t in at.toast] == [
        "The text is too long to travel in a link, even by its hash on this server: the link carries the settings "
        "only."]
    ok(at.run())
    assert not at.toast  # said once, not on every run
