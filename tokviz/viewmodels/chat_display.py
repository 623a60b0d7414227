"""What the Tokenize page's Chat mode shows, without Streamlit: which tokenizer renders a conversation (the model's
own template, or OpenAI's built-in formats for its encodings), the rendered conversation as token chips, and a table
of tokens per message with the template's overhead.

Example:
    >>> from tokviz.formats.pretrained import load_encoding
    >>> result = chat_result("cl100k_base", load_encoding("cl100k_base"),
    ...                      [{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    >>> result.note, result.breakdown.total, result.error
    ('ChatML over cl100k_im (cl100k_base with <|im_start|> and <|im_end|>)', 9, None)
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tokviz.chat.apply import ChatBreakdown, builtin_format, chat_breakdown, chat_config_of
from tokviz.chat.openai_formats import cl100k_im, o200k_harmony
from tokviz.formats.model_names import encoding_name_for_model
from tokviz.viewmodels import state_keys
from tokviz.viewmodels.chat_sandbox import render_in_sandbox

ROLES = ("system", "user", "assistant", "tool")
DEFAULT_MESSAGES: tuple[dict[str, str], ...] = (
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And its population?"},
)
#: The setting that carries the conversation in a link: a JSON list of ``[role, content]`` pairs (see
#: :func:`messages_to_link`); a long one travels by its hash in the server's text store, as long texts do.
LINK_KEY = state_keys.CHAT_MSGS
#: Messages a conversation may hold (each is a text box and a role picker on the page).
MAX_MESSAGES = 24
#: OpenAI encodings whose chat models used a format with tokens the plain encoding lacks.
_CHAT_ENCODING = {
    "cl100k_base": (cl100k_im, "ChatML over cl100k_im (cl100k_base with <|im_start|> and <|im_end|>)"),
    "o200k_base": (o200k_harmony, "the harmony format over o200k_harmony (gpt-oss: o200k_base with its special "
                                  "tokens)"),
    "o200k_harmony": (o200k_harmony, "the harmony format over o200k_harmony"),
}


@dataclass(frozen=True)
class ChatResult:
    """One tokenizer's rendering of the conversation: the tokenizer used (it may be a chat variant of the chosen
    one, said in ``note``), the breakdown, or the one-line ``error`` why there is none."""

    tokenizer: Any
    breakdown: ChatBreakdown | None
    note: str | None
    error: str | None


def has_template(tok: object) -> bool:
    """Whether ``tok`` carries a chat template or has a built-in format's tokens."""
    cfg = chat_config_of(tok)
    return bool(cfg and cfg.templates) or builtin_format(tok) is not None


def chat_tokenizer(name: str, tok: object) -> tuple[object | None, str | None]:
    """The tokenizer that renders the conversation for the chosen ``tok`` and a note when it is another one; None
    with the reason when there is none."""
    if has_template(tok):
        return tok, None
    own = str(getattr(tok, "name", name))
    # The menu's "GPT-4 · cl100k_base", an encoding's own name, or a model name ("gpt-4o") as tiktoken maps it.
    keys = [name, own, name.rsplit(" · ", 1)[-1], encoding_name_for_model(name), encoding_name_for_model(own)]
    for key in keys:
        if key in _CHAT_ENCODING:
            make, note = _CHAT_ENCODING[key]
            return make(), note
    return None, (f"{name} has no chat template: load a chat model's folder or Hub id (its tokenizer_config.json "
                  "holds the template), or pick GPT-4 (cl100k_base) or GPT-4o (o200k_base) for OpenAI's formats.")


def clean_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The messages as plain ``{"role", "content"}`` dicts (a tool message also names its tool, for harmony)."""
    out = []
    for m in messages:
        role = str(m.get("role", "user"))
        msg = {"role": role, "content": str(m.get("content", ""))}
        if role == "tool":
            msg["name"] = str(m.get("name") or "functions.tool")
        out.append(msg)
    return out


def messages_to_link(messages: Sequence[Mapping[str, Any]]) -> str:
    """The conversation as the link carries it: compact JSON, ``[[role, content], ...]``.

    >>> messages_to_link([{"role": "user", "content": "Héllo"}])
    '[["user","Héllo"]]'
    """
    return json.dumps([[str(m.get("role", "")), str(m.get("content", ""))] for m in messages], ensure_ascii=False,
                      separators=(",", ":"))


def messages_from_link(value: object) -> list[dict[str, str]] | None:
    """The conversation :func:`messages_to_link` wrote, or None for a value that is not one (a hand-edited or cut
    link): a list of at most :data:`MAX_MESSAGES` ``[role, content]`` pairs, each role one of :data:`ROLES`.

    >>> messages_from_link('[["system","Be brief."],["user","Hi"]]')
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'}]
    >>> messages_from_link('[["wizard","Hi"]]'), messages_from_link('[["user",'), messages_from_link('[]')
    (None, None, [])
    """
    if not isinstance(value, str):
        return None
    try:
        pairs = json.loads(value)
    except ValueError:
        return None
    if not isinstance(pairs, list) or len(pairs) > MAX_MESSAGES:
        return None
    out = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and pair[0] in ROLES and isinstance(pair[1], str)):
            return None
        out.append({"role": pair[0], "content": pair[1]})
    return out


def chat_result(name: str, tok: object, messages: Sequence[Mapping[str, Any]], *,
                add_generation_prompt: bool) -> ChatResult:
    """The conversation rendered for one chosen tokenizer (see :class:`ChatResult`); never raises for a template's
    or a conversation's fault."""
    used, note = chat_tokenizer(name, tok)
    if used is None:
        return ChatResult(tok, None, None, note)
    try:
        b = chat_breakdown(used, clean_messages(messages), add_generation_prompt=add_generation_prompt,
                           renderer=render_in_sandbox)  # a template from a model's files runs under a time limit
    except ValueError as e:  # the template's own errors included (TemplateError)
        return ChatResult(used, None, note, str(e).splitlines()[0] if str(e) else type(e).__name__)
    return ChatResult(used, b, note, None)


def message_rows(result: ChatResult, messages: Sequence[Mapping[str, Any]]) -> list[dict[str, object]]:
    """One row per message (and one for the generation prompt): its role, a preview, the tokens it brought to the
    rendered conversation, its content's tokens alone, and the difference (what the template added around it)."""
    b = result.breakdown
    if b is None:
        return []
    rows: list[dict[str, object]] = []
    by_owner = dict(zip(b.owners, b.tokens, strict=True)) if b.spans else {}
    for k, m in enumerate(messages):
        content = str(m.get("content", ""))
        in_chat = by_owner.get(k)
        rows.append({"#": str(k + 1), "role": str(m.get("role", "")), "message": _preview(content),
                     "tokens in chat": in_chat,
                     "content alone": b.content_tokens[k],
                     "template adds": (in_chat - b.content_tokens[k]) if in_chat is not None else None})
    if None in by_owner:
        rows.append({"#": "", "role": "", "message": "(generation prompt)", "tokens in chat": by_owner[None],
                     "content alone": 0, "template adds": by_owner[None]})
    return rows


def _preview(text: str, n: int = 22) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def summary_metrics(result: ChatResult) -> list[tuple[str, str, str | None]]:
    """The metric cards: total tokens, the messages' own tokens, the template's overhead (and its share)."""
    b = result.breakdown
    if b is None:
        return []
    own = sum(b.content_tokens)
    share = f" ({b.overhead / b.total:.0%})" if b.total else ""
    return [("Total tokens", f"{b.total:,}", "The whole conversation as the model reads it."),
            ("Messages' own", f"{own:,}", "Each message's content encoded alone, summed."),
            ("Template overhead", f"{b.overhead:,}{share}",
             "Tokens the chat template adds: role headers, special tokens, separators, its own system text.")]


def error_html(message: str) -> str:
    """A template's or conversation's error as escaped HTML (the message may quote the template or the text)."""
    return f'<div class="tv-chat-error">{html.escape(message)}</div>'
