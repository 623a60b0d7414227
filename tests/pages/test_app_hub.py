"""The sidebar's model box under AppTest: a Hub id loads through the real client from a local Hub server, is
drawn with the tokenizer's own ids, travels in the link, and comes back from the cache with the network off; an
OpenAI model name loads too, and a bad id is a message, never an exception."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import drawn_markup
from hub_server import HubServer, Repo, hub_server, point_client_at
from streamlit.testing.v1 import AppTest
from tokenizers import Tokenizer as HfTokenizer
from tokenizers import decoders, pre_tokenizers, trainers
from tokenizers import models as hf_models

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')
TEXT = "hello world, the quick brown fox"


def _bpe_json() -> str:
    tok = HfTokenizer(hf_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["hello world, hello there; the quick brown fox " * 30], trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok.to_str()


@pytest.fixture
def hub(cache_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubServer, str]]:
    js = _bpe_json()
    with hub_server() as server:
        server.repos["acme/tiny-bpe"] = Repo({"tokenizer.json": js.encode(),
                                              "tokenizer_config.json": b'{"model_max_length": 2048}'})
        point_client_at(monkeypatch, server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        for var in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"):
            monkeypatch.delenv(var, raising=False)
        yield server, js


def ids_of(app: AppTest, name: str) -> list[int]:
    return [int(tid) for el in drawn_markup(app) for _, tid, n in TOKEN_RE.findall(el.proto.body)
            if html.unescape(n) == name]


def plain(markdown: str) -> str:
    """A message as read: the Markdown escapes the app adds (to names users type) taken out."""
    return re.sub(r"\\(.)", r"\1", markdown)


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_hub_id_loads_is_drawn_and_travels_in_the_link(hub: tuple[HubServer, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    server, js = hub
    want = HfTokenizer.from_str(js).encode(TEXT).ids
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["text"] = TEXT
    ok(at.run())
    at.text_input(key="_model_box").input("acme/tiny-bpe")
    ok(at.button(key="_model_load").click().run())
    assert at.session_state["chosen"][-1] == "hf:acme/tiny-bpe"
    assert any("Loaded hf:acme/tiny-bpe" in plain(s.value) and "context 2,048 tokens" in plain(s.value)
               for s in at.success)
    ok(at.run())
    assert ids_of(at, "hf:acme/tiny-bpe") == want
    # The link names the model and pins the commit it was read at.
    pinned = f"hf:acme/tiny-bpe#{server.repos['acme/tiny-bpe'].sha}"
    assert at.query_params["model"] in (pinned, [pinned])  # one value or a list of one
    assert "hf:acme/tiny-bpe" in at.query_params["tok"]

    # The link, opened in a new session with the network off: the model comes back from the client's cache, at
    # that commit, under the name it had.
    server.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params.update({"text": TEXT, "tok": ["hf:acme/tiny-bpe"], "model": [pinned]})
    ok(again.run())
    assert again.session_state["chosen"] == ["hf:acme/tiny-bpe"]
    assert ids_of(again, "hf:acme/tiny-bpe") == want
    assert server.requests == []

    # Online, a pinned link asks the Hub for that commit, not for the branch.
    monkeypatch.delenv("HF_HUB_OFFLINE")
    online = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    online.query_params.update({"text": TEXT, "tok": ["hf:acme/tiny-bpe"], "model": [pinned]})
    ok(online.run())
    assert ids_of(online, "hf:acme/tiny-bpe") == want
    sha = server.repos["acme/tiny-bpe"].sha
    assert ("GET", f"/api/models/acme/tiny-bpe/revision/{sha}") in server.requests


def test_bad_ids_and_model_names_in_the_box(hub: tuple[HubServer, str]) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    ok(at.run())
    at.text_input(key="_model_box").input("acme/no-such-model")
    ok(at.button(key="_model_load").click().run())
    assert any("hf:acme/no-such-model: no such model on the Hub" in plain(e.value) for e in at.error)
    at.text_input(key="_model_box").input("gpt-3.5-turbo")
    ok(at.button(key="_model_load").click().run())
    assert at.session_state["chosen"][-1] == "gpt-3.5-turbo"
    at.text_input(key="_model_box").input("gpt4o")
    ok(at.button(key="_model_load").click().run())
    assert any("did you mean gpt-4o" in plain(e.value) for e in at.error)
    # A link naming a model that cannot be loaded says so and shows the rest.
    link = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    link.query_params.update({"model": ["hf:acme/gone"], "text": "hi"})
    ok(link.run())
    assert any("hf:acme/gone: no such model" in plain(w.value) for w in link.warning)
