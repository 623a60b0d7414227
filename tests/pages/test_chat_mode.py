"""The Tokenize page's Chat mode under AppTest: a Hub model with a chat template in its tokenizer_config.json (served
by the local Hub server) and GPT-4 by name render the default conversation with the ids apply_chat_template gives,
special tokens as chips, per-message counts and the template's overhead; messages are added and removed; a
template that refuses the conversation is a message, never an exception."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import drawn_markup
from hub_server import HubServer, Repo, hub_server
from streamlit.testing.v1 import AppTest
from tokenizers import Tokenizer as HfTokenizer
from tokenizers import decoders, pre_tokenizers, trainers
from tokenizers import models as hf_models

from tokviz.chat import apply_chat_template, cl100k_im
from tokviz.formats.dispatch import load_tokenizer
from tokviz.viewmodels.chat_display import DEFAULT_MESSAGES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
STRICT = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}" \
         "{% endif %}{{ m.content }}{% endfor %}"


def _bpe_json() -> str:
    tok = HfTokenizer(hf_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["You are a helpful assistant. What is the capital of France? Paris. " * 30],
                            trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                special_tokens=["<|im_start|>", "<|im_end|>"], show_progress=False))
    return tok.to_str()


@pytest.fixture
def hub(cache_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    js = _bpe_json().encode()
    with hub_server() as server:
        server.repos["acme/tiny-chat"] = Repo({"tokenizer.json": js, "tokenizer_config.json": json.dumps(
            {"chat_template": CHATML, "eos_token": "<|im_end|>"}).encode()})
        server.repos["acme/strict-chat"] = Repo({"tokenizer.json": js, "tokenizer_config.json": json.dumps(
            {"chat_template": STRICT}).encode()})
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        for var in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"):
            monkeypatch.delenv(var, raising=False)
        yield server


def ids_of(app: AppTest, name: str) -> list[int]:
    return [int(tid) for el in drawn_markup(app) for _, tid, n in TOKEN_RE.findall(el.proto.body)
            if html.unescape(n) == name]


def specials_of(app: AppTest, name: str) -> int:
    return sum("tv-special" in cls for el in drawn_markup(app) for cls, _, n in TOKEN_RE.findall(el.proto.body)
               if html.unescape(n) == name)


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def _load(at: AppTest, model: str) -> None:
    at.text_input(key="_model_box").input(model)
    ok(at.button(key="_model_load").click().run())


def test_chat_mode_draws_the_templates_ids(hub: HubServer, tmp_path: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    ok(at.run())
    _load(at, "acme/tiny-chat")
    _load(at, "gpt-4")
    at.session_state["chosen"] = ["hf:acme/tiny-chat", "gpt-4"]
    ok(at.segmented_control(key="tok_mode").set_value("Chat").run())
    messages = [dict(m) for m in DEFAULT_MESSAGES]

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "tokenizer.json").write_text(_bpe_json(), encoding="utf-8")
    (repo / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHATML}), encoding="utf-8")
    want = apply_chat_template(load_tokenizer(repo), messages, add_generation_prompt=True)
    assert ids_of(at, "hf:acme/tiny-chat") == want
    assert specials_of(at, "hf:acme/tiny-chat") == 2 * len(messages) + 1  # <|im_start|>, <|im_end|>, the prompt's
    assert ids_of(at, "gpt-4") == apply_chat_template(cl100k_im(), messages, add_generation_prompt=True)
    assert any("cl100k_im" in re.sub(r"\\(.)", r"\1", c.value) for c in at.caption)  # the Markdown escapes out
    tables = [t.value for t in at.dataframe]
    assert len(tables) == 2 and list(tables[0]["role"])[:4] == ["system", "user", "assistant", "user"]
    assert tables[0]["tokens in chat"].iloc[:4].sum() + tables[0]["tokens in chat"].iloc[4] == len(want)
    assert any(m.label == "Template overhead" for m in at.metric)

    # The generation prompt off, a message added and one removed.
    ok(at.toggle(key="chat_gen").set_value(False).run())
    ok(at.button(key="chat_add_tool").click().run())
    first = at.session_state["chat_messages"][0]["id"]
    ok(at.button(key=f"chat_del_{first}").click().run())
    now = [{"role": m["role"], "content": m["content"]} for m in at.session_state["chat_messages"]]
    assert [m["role"] for m in now] == ["user", "assistant", "user", "tool"]
    assert ids_of(at, "hf:acme/tiny-chat") == apply_chat_template(load_tokenizer(repo), now)


def test_a_template_that_refuses_the_conversation_is_a_message(hub: HubServer) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    ok(at.run())
    _load(at, "acme/strict-chat")
    at.session_state["chosen"] = ["hf:acme/strict-chat", "GPT-2 · r50k_base"]
    ok(at.segmented_control(key="tok_mode").set_value("Chat").run())
    bodies = " ".join(el.proto.body for el in drawn_markup(at))
    assert "chat template error: System role not supported" in bodies
    assert "GPT-2 · r50k_base has no chat template" in html.unescape(bodies)


def test_the_mode_and_the_generation_switch_travel_in_the_link() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"tok_mode": "Chat", "chat_gen": "0", "tok": ["GPT-4 · cl100k_base"]})
    ok(at.run())
    assert at.segmented_control(key="tok_mode").value == "Chat"
    assert at.toggle(key="chat_gen").value is False
    want = apply_chat_template(cl100k_im(), [dict(m) for m in DEFAULT_MESSAGES])
    assert ids_of(at, "GPT-4 · cl100k_base") == want
    ok(at.segmented_control(key="tok_mode").set_value("Text").run())
    assert at.query_params.get("tok_mode") in ("Text", ["Text"], None)  # the default may be left out of the link


def test_the_conversation_travels_in_the_link() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"tok_mode": "Chat", "tok": ["GPT-4 · cl100k_base"]})
    ok(at.run())
    # Edited as a user does: a role changed, a text typed, a message added and one removed.
    first, second = (m["id"] for m in at.session_state["chat_messages"][:2])
    ok(at.selectbox(key=f"chat_role_{second}").set_value("assistant").run())
    ok(at.text_area(key=f"chat_text_{second}").set_value("Héllo 👋🏽 \"quoted\", [brackets] & <|im_end|>").run())
    ok(at.button(key="chat_add_tool").click().run())
    ok(at.button(key=f"chat_del_{first}").click().run())
    messages = [{"role": m["role"], "content": m["content"]} for m in at.session_state["chat_messages"]]
    assert [m["role"] for m in messages] == ["assistant", "assistant", "user", "tool"]
    drawn = ids_of(at, "GPT-4 · cl100k_base")
    assert drawn == apply_chat_template(cl100k_im(), messages, add_generation_prompt=True)

    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)  # a fresh session opening the link
    again.query_params.update(dict(at.query_params))
    ok(again.run())
    assert [{"role": m["role"], "content": m["content"]} for m in again.session_state["chat_messages"]] == messages
    assert ids_of(again, "GPT-4 · cl100k_base") == drawn


def test_a_long_conversation_travels_by_hash() -> None:
    long = "".join(f"line {i}: a message far too long for a link, héllo 👋🏽\n" for i in range(300))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"tok_mode": "Chat", "tok": ["GPT-4 · cl100k_base"]})
    ok(at.run())
    last = at.session_state["chat_messages"][-1]["id"]
    ok(at.text_area(key=f"chat_text_{last}").set_value(long).run())
    params = dict(at.query_params)
    assert "chat_msgs" not in params and len(params["chat_msgs.ref"]) == 64
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    again.query_params.update(params)
    ok(again.run())
    assert again.session_state["chat_messages"][-1]["content"] == long
    assert ids_of(again, "GPT-4 · cl100k_base") == ids_of(at, "GPT-4 · cl100k_base")


def test_a_hand_edited_conversation_in_a_link_falls_back_to_the_default() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"tok_mode": "Chat", "tok": ["GPT-4 · cl100k_base"], "chat_msgs": '[["wizard","x"]]'})
    ok(at.run())
    assert [m["content"] for m in at.session_state["chat_messages"]] == [m["content"] for m in DEFAULT_MESSAGES]
