"""OpenAI's chat formats, built in: ``o200k_harmony`` with the harmony format (gpt-oss), and ChatML over
``cl100k_base`` (the GPT-3.5/GPT-4-era chat models).

The two encodings, ``o200k_harmony`` and ``cl100k_im``, are built in :mod:`tokviz.formats.chat_encodings` (so
:func:`tokviz.load_tokenizer` opens them by name) and re-exported here.

The harmony format (as ``openai-harmony`` renders a conversation): each message is ``<|start|>{author}`` (the role,
or for a tool its name), `` to={recipient}`` when it is addressed, ``<|channel|>{channel}`` when it has one,
``<|message|>{text}``, then ``<|end|>`` (``<|call|>`` for an assistant message addressed to a tool); the generation
prompt is ``<|start|>assistant``. Messages are dicts: ``role`` (system, developer, user, assistant, tool),
``content`` (text), and optionally ``channel`` (analysis, commentary, final), ``recipient`` and, for a tool, ``name``.

ChatML renders ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message, then
``<|im_start|>assistant\\n`` as the generation prompt.

Example:
    >>> render_harmony([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|start|>user<|message|>Hi<|end|><|start|>assistant'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The encodings live with the other formats (load_tokenizer builds them by name); kept importable from here.
from tokviz.formats.chat_encodings import CHATML_SPECIALS, HARMONY_SPECIALS, cl100k_im, o200k_harmony

__all__ = ["CHATML_SPECIALS", "CHATML_TEMPLATE", "HARMONY_ROLES", "HARMONY_SPECIALS", "cl100k_im", "harmony_parts",
           "o200k_harmony", "render_harmony"]

#: ChatML as a jinja template (the Qwen/ChatML shape), so it renders like any model's template.
CHATML_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
                   "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                   "{% endif %}")
HARMONY_ROLES = ("system", "developer", "user", "assistant", "tool")


def harmony_parts(messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = False
                  ) -> list[tuple[str, bool]]:
    """The conversation in the harmony format as ``(text, is_content)`` parts: a message's content is text only
    (openai-harmony never reads a control token in it), the rest is written with control tokens. ValueError for a
    message the format cannot hold.

    >>> harmony_parts([{"role": "user", "content": "Hi"}])
    [('<|start|>user<|message|>', False), ('Hi', True), ('<|end|>', False)]
    """
    out: list[tuple[str, bool]] = []
    for k, m in enumerate(messages):
        role = m.get("role")
        if role not in HARMONY_ROLES:
            raise ValueError(f"message {k + 1}: role {role!r} is not one of {', '.join(HARMONY_ROLES)}.")
        content = m.get("content", "")
        if not isinstance(content, str):
            raise ValueError(f"message {k + 1}: harmony content must be text.")
        author = role
        if role == "tool":
            name = m.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"message {k + 1}: a tool message needs the tool's \"name\" "
                                 "(e.g. functions.get_weather).")
            author = name
        head = f"<|start|>{author}"
        recipient = m.get("recipient")
        if recipient:
            head += f" to={recipient}"
        if m.get("channel"):
            head += f"<|channel|>{m['channel']}"
        out.append((f"{head}<|message|>", False))
        if content:
            out.append((content, True))
        out.append(("<|call|>" if role == "assistant" and recipient else "<|end|>", False))
    if add_generation_prompt:
        out.append(("<|start|>assistant", False))
    return out


def render_harmony(messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = False) -> str:
    """A conversation in the harmony format, as text (see the module docstring)."""
    return "".join(t for t, _ in harmony_parts(messages, add_generation_prompt=add_generation_prompt))
