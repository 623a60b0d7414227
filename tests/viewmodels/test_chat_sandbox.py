"""Chat templates rendered in the sandbox process: the same text as in-process, a template that loops for ever is
stopped with a message within the time limit, and the next render works (a new worker took the stopped one's place);
the Chat mode's view model shows the message instead of hanging."""

from __future__ import annotations

import time

import pytest

from tokviz.chat.jinja_render import TemplateError, render_jobs
from tokviz.formats.pretrained import load_encoding
from tokviz.viewmodels import chat_sandbox
from tokviz.viewmodels.chat_display import chat_result

LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done"
JOBS = [{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": g} for g in (False, True)]
TEMPLATE = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}"


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_the_sandbox_renders_what_this_process_renders() -> None:
    assert chat_sandbox.render_in_sandbox(TEMPLATE, JOBS) == render_jobs(TEMPLATE, JOBS) == ["<user>hi", "<user>hi>"]
    failed = chat_sandbox.render_in_sandbox("{{ raise_exception('nope') }}", JOBS[:1])
    assert isinstance(failed[0], TemplateError) and "nope" in str(failed[0])


@pytest.mark.slow  # 1.3 s measured: the full run has it, the quick loop does not
def test_a_template_that_loops_is_stopped_and_the_next_render_works() -> None:
    start = time.monotonic()
    out = chat_sandbox.render_in_sandbox(LOOP, JOBS, time_limit=1.0)
    assert time.monotonic() - start < 10
    assert all(isinstance(e, TemplateError) and "ran longer than 1 s" in str(e) for e in out)
    assert chat_sandbox.render_in_sandbox(TEMPLATE, JOBS) == ["<user>hi", "<user>hi>"]


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
def test_the_chat_view_shows_the_stop_as_a_message(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(chat_sandbox, "TIME_LIMIT", 1.0)
    from tokviz.formats.chat_config import ChatConfig, attach_chat_config

    tok = load_encoding("cl100k_base")
    attach_chat_config(tok, ChatConfig({"default": LOOP}, {}, "hostile/tokenizer_config.json"))
    result = chat_result("hostile", tok, [{"role": "user", "content": "hi"}], add_generation_prompt=True)
    assert result.breakdown is None and "ran longer than 1 s and was stopped" in (result.error or "")


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
def test_a_worker_killed_from_outside_is_replaced() -> None:
    assert chat_sandbox.render_in_sandbox(TEMPLATE, JOBS[:1]) == ["<user>hi"]
    worker = chat_sandbox._worker
    assert worker is not None
    worker.proc.kill()
    worker.proc.join(5)
    assert chat_sandbox.render_in_sandbox(TEMPLATE, JOBS[:1]) == ["<user>hi"]
    assert chat_sandbox._worker is not worker
