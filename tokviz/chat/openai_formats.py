"""OpenAI's chat formats, built in: ``o200k_harmony`` with the harmony format (gpt-oss), and ChatML over
``cl100k_base`` (the GPT-3.5/GPT-4-era chat models).

``o200k_harmony`` is tiktoken's: o200k_base's ranks and pattern with gpt-oss's special tokens (``<|start|>``
200006, ``<|message|>`` 200008, ``<|end|>`` 200007, ``<|channel|>``, ``<|return|>``, ``<|call|>``, ...,
``<|reserved_200013|>``..``<|reserved_201087|>``). tiktoken also keeps o200k_base's ``<|endofprompt|>`` at 200018,
the id it gives ``<|reserved_200018|>``; tokviz keeps one token per id, the reserved one.

The harmony format (as ``openai-harmony`` renders a conversation): each message is ``<|start|>{author}`` (the role,
or for a tool its name), `` to={recipient}`` when it is addressed, ``<|channel|>{channel}`` when it has one,
``<|message|>{text}``, then ``<|end|>`` (``<|call|>`` for an assistant message addressed to a tool); the generation
prompt is ``<|start|>assistant``. Messages are dicts: ``role`` (system, developer, user, assistant, tool),
``content`` (text), and optionally ``channel`` (analysis, commentary, final), ``recipient`` and, for a tool, ``name``.

``cl100k_im`` is cl100k_base with ``<|im_start|>`` 100264 and ``<|im_end|>`` 100265 (tiktoken's own example of
extending an encoding), and ChatML renders ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message, then
``<|im_start|>assistant\\n`` as the generation prompt.

Example:
    >>> render_harmony([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|start|>user<|message|>Hi<|end|><|start|>assistant'
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from tokviz.formats.file_checks import build_tokenizer
from tokviz.formats.pretrained import load_encoding
from tokviz.models.bpe import DeferredMerges, Tokenizer

HARMONY_SPECIALS: dict[str, int] = {
    "<|startoftext|>": 199998, "<|endoftext|>": 199999, "<|reserved_200000|>": 200000, "<|reserved_200001|>": 200001,
    "<|return|>": 200002, "<|constrain|>": 200003, "<|reserved_200004|>": 200004, "<|channel|>": 200005,
    "<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008, "<|reserved_200009|>": 200009,
    "<|reserved_200010|>": 200010, "<|reserved_200011|>": 200011, "<|call|>": 200012,
} | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}
CHATML_SPECIALS = {"<|im_start|>": 100264, "<|im_end|>": 100265}
#: ChatML as a jinja template (the Qwen/ChatML shape), so it renders like any model's template.
CHATML_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
                   "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                   "{% endif %}")
HARMONY_ROLES = ("system", "developer", "user", "assistant", "tool")

_lock = threading.Lock()
_built: dict[str, Tokenizer] = {}


def _extended(base_name: str, name: str, specials: Mapping[str, int]) -> Tokenizer:
    with _lock:
        tok = _built.get(name)
        if tok is None:
            base = load_encoding(base_name)
            taken = set(base.special_ids.values())
            vocab = {i: t for i, t in base.vocab.items() if i not in taken}
            merges = DeferredMerges(lambda: list(base.merges))
            tok = build_tokenizer(vocab, merges, dict(specials), base.pattern, name=name,  # type: ignore[arg-type]
                                  source=name, rule="ranks")
            _built[name] = tok
    return copy.copy(tok)


def o200k_harmony() -> Tokenizer:
    """gpt-oss's encoding (see the module docstring); built once, then shared (each call gets a shallow copy)."""
    return _extended("o200k_base", "o200k_harmony", HARMONY_SPECIALS)


def cl100k_im() -> Tokenizer:
    """cl100k_base with ChatML's two tokens (see the module docstring)."""
    base_specials = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                     "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}
    return _extended("cl100k_base", "cl100k_im", base_specials | CHATML_SPECIALS)


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
