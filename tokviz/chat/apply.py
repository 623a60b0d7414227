"""Conversations as a model sees them: ``apply_chat_template`` with transformers' meaning, and the breakdown the app
draws (which tokens each message brought, what the template added).

Which template: the ``chat_template`` argument (a template's text, or the name of one of the model's templates);
else the templates a loaded model folder carries (``tok.chat_config``, set by :func:`tokviz.load_tokenizer` from its
``tokenizer_config.json`` / ``chat_template.jinja``): the one named ``"tool_use"`` when tools are given and it
exists, else ``"default"``; else a built-in format for OpenAI's encodings (harmony for a tokenizer with gpt-oss's
``<|start|>``/``<|message|>`` tokens, ChatML for one with ``<|im_start|>``). Variables a template sees: ``messages``,
``tools``, ``documents``, ``add_generation_prompt``, the model's special-token names (``bos_token``...) and any
keyword given. With ``tokenize=True`` the rendered text is encoded with special tokens recognised (as transformers
encodes it, with ``add_special_tokens=False``: no BOS is added beyond what the template writes).

Example:
    >>> from tokviz.chat.openai_formats import CHATML_TEMPLATE
    >>> apply_chat_template(None, [{"role": "user", "content": "Hi"}], chat_template=CHATML_TEMPLATE,
    ...                     add_generation_prompt=True, tokenize=False)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tokviz.chat.jinja_render import TemplateError, render_jobs, render_template
from tokviz.chat.openai_formats import CHATML_TEMPLATE, harmony_parts, render_harmony
from tokviz.core.encoding import Encoding
from tokviz.core.protocol import encode_as_shown
from tokviz.formats.chat_config import ChatConfig

Message = Mapping[str, Any]
#: The name used for the built-in formats.
HARMONY, CHATML = "harmony", "chatml"


@dataclass(frozen=True)
class ChosenTemplate:
    """A template and where it came from: ``kind`` is ``"jinja"`` or ``"harmony"``; ``name`` says which."""

    kind: str
    text: str
    name: str
    special_tokens: Mapping[str, str]


def chat_config_of(tok: object) -> ChatConfig | None:
    """The chat config a loaded tokenizer carries (None if it has none)."""
    cfg = getattr(tok, "chat_config", None)
    return cfg if isinstance(cfg, ChatConfig) else None


def _specials(tok: object) -> set[str]:
    ids = getattr(tok, "special_ids", None)
    if isinstance(ids, Mapping):
        return set(ids)
    added = getattr(tok, "added_tokens", None)  # the family tokenizers
    if added:
        return {getattr(t, "content", "") for t in added}
    return set()


def builtin_format(tok: object) -> str | None:
    """``"harmony"`` or ``"chatml"`` when ``tok`` has that format's special tokens, else None."""
    specials = _specials(tok)
    if {"<|start|>", "<|message|>", "<|end|>"} <= specials:
        return HARMONY
    if {"<|im_start|>", "<|im_end|>"} <= specials:
        return CHATML
    return None


def choose_template(tok: object, *, chat_template: str | None = None, tools: object = None) -> ChosenTemplate:
    """The template :func:`apply_chat_template` would use (see the module docstring); ValueError if none."""
    cfg = chat_config_of(tok)
    specials = dict(cfg.special_tokens) if cfg else {}
    if chat_template is not None:
        if cfg and chat_template in cfg.templates:
            return ChosenTemplate("jinja", cfg.templates[chat_template], chat_template, specials)
        if chat_template == HARMONY:
            return ChosenTemplate("harmony", "", HARMONY, specials)
        if chat_template == CHATML:
            return ChosenTemplate("jinja", CHATML_TEMPLATE, CHATML, specials)
        return ChosenTemplate("jinja", chat_template, "given", specials)
    if cfg and cfg.templates:
        if tools is not None and "tool_use" in cfg.templates:
            return ChosenTemplate("jinja", cfg.templates["tool_use"], "tool_use", specials)
        if "default" in cfg.templates:
            return ChosenTemplate("jinja", cfg.templates["default"], "default", specials)
        raise ValueError(f"{cfg.source}: the model has several chat templates and none is named default; pass "
                         f"chat_template= one of {', '.join(sorted(cfg.templates))}.")
    builtin = builtin_format(tok)
    if builtin == HARMONY:
        return ChosenTemplate("harmony", "", HARMONY, specials)
    if builtin == CHATML:
        return ChosenTemplate("jinja", CHATML_TEMPLATE, CHATML, specials)
    name = getattr(tok, "name", "this tokenizer")
    raise ValueError(f"{name} has no chat template: load the model's folder (its tokenizer_config.json or "
                     "chat_template.jinja holds it), pass chat_template=, or use o200k_harmony / cl100k_im.")


def _check_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ValueError("messages must be a list of {\"role\": ..., \"content\": ...} dicts.")
    if not messages:
        raise ValueError("the conversation is empty: give at least one message.")
    out = []
    for k, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            raise ValueError(f"message {k + 1} must be a dict with a string \"role\", got {m!r:.60}.")
        out.append({key: v for key, v in m.items() if v is not None})  # transformers drops None values too
    return out


def render_chat(tok: object, messages: Sequence[Message], *, chat_template: str | None = None,
                add_generation_prompt: bool = False, tools: Sequence[Mapping[str, Any]] | None = None,
                documents: Sequence[Mapping[str, Any]] | None = None, **kwargs: Any) -> str:
    """The conversation's text as the template writes it (special tokens as text)."""
    msgs = _check_messages(messages)
    chosen = choose_template(tok, chat_template=chat_template, tools=tools)
    if chosen.kind == "harmony":
        return render_harmony(msgs, add_generation_prompt=add_generation_prompt)
    variables: dict[str, Any] = {**chosen.special_tokens, **kwargs}
    return render_template(chosen.text, messages=msgs, tools=None if tools is None else list(tools),
                           documents=None if documents is None else list(documents),
                           add_generation_prompt=add_generation_prompt, **variables)


def apply_chat_template(tok: Any, messages: Sequence[Message], *, add_generation_prompt: bool = False,
                        tokenize: bool = True, chat_template: str | None = None,
                        tools: Sequence[Mapping[str, Any]] | None = None,
                        documents: Sequence[Mapping[str, Any]] | None = None, **kwargs: Any) -> list[int] | str:
    """Token ids of the conversation, or its text with ``tokenize=False`` (transformers' meaning; see the module
    docstring). Errors, the template's own included, are a ValueError with one line.

    In the harmony format a message's content is encoded as text, control-token look-alikes included, as
    openai-harmony encodes it; the parts the format writes carry the control tokens."""
    if tokenize and choose_template(tok, chat_template=chat_template, tools=tools).kind == "harmony":
        ids: list[int] = []
        for part, is_content in harmony_parts(_check_messages(messages), add_generation_prompt=add_generation_prompt):
            ids.extend(tok.encode_ordinary(part) if is_content else encode_as_shown(tok, part))
        return ids
    text = render_chat(tok, messages, chat_template=chat_template, add_generation_prompt=add_generation_prompt,
                       tools=tools, documents=documents, **kwargs)
    if not tokenize:
        return text
    encoded: list[int] = encode_as_shown(tok, text)
    return encoded


@dataclass(frozen=True)
class ChatBreakdown:
    """A rendered conversation and where its tokens come from.

    ``spans[k]`` is the character range of ``text`` that message k brought (the generation prompt, if any, is the
    last entry, with ``None`` in ``owners``); ``tokens[k]`` counts the tokens that start in it. ``content_tokens[k]``
    is message k's content encoded on its own; the template's **overhead** is ``total - sum(content_tokens)``: the
    tokens the template adds (role headers, special tokens, separators, a system prompt it writes itself).
    ``spans`` is empty when the template does not write each message after the ones before it (then only the totals
    are known). ``encoding`` is the rendered text encoded with special tokens recognised; in the harmony format a
    message whose content spells a control token (``<|end|>``) is therefore drawn with that token, where
    :func:`apply_chat_template` (as openai-harmony) encodes it as text.
    """

    text: str
    encoding: Encoding
    owners: list[int | None]
    spans: list[tuple[int, int]]
    tokens: list[int]
    content_tokens: list[int]
    template: str

    @property
    def total(self) -> int:
        return len(self.encoding.ids)

    @property
    def overhead(self) -> int:
        return self.total - sum(self.content_tokens)


#: Renders a jinja template once per variable set, a failure in place (:func:`render_jobs`'s shape); the app passes
#: one that runs in a separate process under a time limit.
Renderer = Callable[[str, list[dict[str, Any]]], list[str | TemplateError]]


def chat_breakdown(tok: Any, messages: Sequence[Message], *, add_generation_prompt: bool = False,
                   chat_template: str | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
                   renderer: Renderer = render_jobs, **kwargs: Any) -> ChatBreakdown:
    """The rendered conversation, its encoding, and the tokens per message (see :class:`ChatBreakdown`).

    A model's jinja template is rendered through ``renderer`` (in this process by default)."""
    msgs = _check_messages(messages)
    chosen = choose_template(tok, chat_template=chat_template, tools=tools)
    # The whole conversation, then each shorter one without the generation prompt.
    parts = [(msgs, add_generation_prompt)] + [(msgs[:k], False) for k in range(1, len(msgs) + 1)]
    if chosen.kind == "harmony":
        rendered: list[str | TemplateError] = [render_harmony(m, add_generation_prompt=g) for m, g in parts]
    else:
        jobs = [{**chosen.special_tokens, **kwargs, "messages": m, "tools": None if tools is None else list(tools),
                 "documents": None, "add_generation_prompt": g} for m, g in parts]
        rendered = renderer(chosen.text, jobs)
    first = rendered[0]
    if isinstance(first, TemplateError):
        raise first
    text = first
    enc: Encoding = tok.encode_with_offsets(text)
    # Message k's text is what the conversation up to it adds to the one before it, when each shorter conversation
    # renders as the start of the longer one; a template that refuses a partial conversation (one that must end
    # with a user turn...) or rewrites earlier turns leaves the split unknown.
    owners: list[int | None] = []
    spans: list[tuple[int, int]] = []
    prefixes = [r for r in rendered[1:] if isinstance(r, str)]
    if len(prefixes) != len(msgs):
        prefixes = []
    if prefixes and all(text.startswith(p) for p in prefixes):
        bounds = [0] + [len(p) for p in prefixes]
        if all(a <= b for a, b in zip(bounds, bounds[1:])):
            owners = list(range(len(msgs)))
            spans = list(zip(bounds, bounds[1:]))
            if bounds[-1] < len(text):
                owners.append(None)
                spans.append((bounds[-1], len(text)))
    tokens = [sum(1 for s, _ in enc.char_spans if a <= s < b) for a, b in spans]
    content_tokens = [len(encode_as_shown(tok, _content_text(m))) for m in msgs]
    return ChatBreakdown(text, enc, owners, spans, tokens, content_tokens, chosen.name)


def _content_text(m: Mapping[str, Any]) -> str:
    c = m.get("content", "")
    if isinstance(c, str):
        return c
    if isinstance(c, list):  # content blocks: their text parts
        return "".join(str(b.get("text", "")) for b in c if isinstance(b, Mapping))
    return ""
