"""A Hub model and the Files page in a real browser: the sidebar's model box loads GPT-2 by its Hub id from a local
Hub server (tests/hub_server.py; the app's process reaches it through HF_ENDPOINT), the tokens are GPT-2's, a refresh
keeps the model, and the Files page counts two uploads with it. Writes ``docs/screenshot-hub.png`` and
``docs/screenshot-files.png`` (``$TOKVIZ_SCREENSHOT_DIR`` elsewhere).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from helpers import SHOTS, _full_page_screenshot, assert_no_exception, new_page, streamlit_server, token_ids
from hub_server import Repo, hub_server

from tokviz.core.protocol import encode_as_shown
from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES

pytestmark = pytest.mark.browser

TIMEOUT = 60_000  # ms: the first run trains the built-ins
NAME = "hf:openai-community/gpt2"


@pytest.fixture(scope="module")
def hub(cs336_dir: Path):
    with hub_server() as server:
        server.repos["openai-community/gpt2"] = Repo({
            "vocab.json": (cs336_dir / "gpt2_vocab.json").read_bytes(),
            "merges.txt": b"#version: 0.2\n" + (cs336_dir / "gpt2_merges.txt").read_bytes(),
            "tokenizer_config.json": b'{"model_max_length": 1024}',
            "model.safetensors": b"\0" * 1024})
        yield server


@pytest.fixture(scope="module")
def server(browser, hub, tmp_path_factory):
    env = {"TOKVIZ_CACHE_DIR": str(tmp_path_factory.mktemp("tokviz-cache")), "HF_ENDPOINT": hub.url,
           "HF_HOME": str(tmp_path_factory.mktemp("hf-home")), "HF_TOKEN": "", "HF_HUB_OFFLINE": ""}
    with streamlit_server(env=env, log=tmp_path_factory.mktemp("logs") / "streamlit.log") as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with new_page(browser, width=1280, height=800, timeout=TIMEOUT) as pg:
        yield pg


def test_model_box_loads_a_hub_model_that_survives_a_refresh(page, server, hub, gpt2_tokenizer, tmp_path):
    from playwright.sync_api import expect

    page.goto(server.url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Add a model (Hub id or name)").click()
    box = sidebar.get_by_label("Hub model id or OpenAI model name", exact=True)
    box.fill("openai-community/gpt2")
    box.press("Enter")
    sidebar.get_by_role("button", name="Load", exact=True).click()
    expect(sidebar.locator('[data-testid="stAlert"]', has_text="Loaded")).to_contain_text("context 1,024 tokens")
    page.wait_for_selector(f'.tv-tokens .tok[data-tokenizer="{NAME}"]')
    text = SAMPLES[DEFAULT_SAMPLE].text
    assert token_ids(page, NAME) == encode_as_shown(gpt2_tokenizer, text)
    assert not any("safetensors" in p for _, p in hub.requests)  # tokenizer files only
    assert_no_exception(page)
    page.wait_for_function("() => location.search.includes('model=')")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["model"] == [f"{NAME}#{hub.repos['openai-community/gpt2'].sha}"] and NAME in query["tok"]
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for width, path in ((1024, tmp_path / "hub-1024.png"), (1280, SHOTS / "screenshot-hub.png")):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=str(path))

    # A refresh: the link brings the model back (from the Hub client's cache), drawn the same.
    page.reload()
    page.wait_for_selector(f'.tv-tokens .tok[data-tokenizer="{NAME}"]')
    assert token_ids(page, NAME) == encode_as_shown(gpt2_tokenizer, text)
    assert_no_exception(page)


def test_files_page_counts_uploads(page, server, tmp_path):
    from playwright.sync_api import expect

    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nTokenizers cut text into tokens; this file is counted whole.\n" * 200,
                     encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text("".join(f'{{"id": {i}, "text": "record number {i}, a short one"}}\n' for i in range(300)),
                    encoding="utf-8")
    quoted = urllib.parse.quote(NAME, safe="")
    page.goto(f"{server.url}/files?model={quoted}&tok={quoted}&tok=bpe-gpt2-8k")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(notes), str(data)])
    expect(page.get_by_text("Column of data.jsonl that holds the text")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    assert_no_exception(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.set_viewport_size({"width": 1024, "height": 900})
    page.wait_for_timeout(400)
    page.screenshot(path=str(tmp_path / "files-1024.png"))
    _full_page_screenshot(page, SHOTS / "screenshot-files.png")
