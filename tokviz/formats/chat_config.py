"""The chat templates and special-token names a Hugging Face model folder carries, read as data (never run here).

Where transformers finds them: ``tokenizer_config.json``'s ``chat_template`` (one template, or a list of
``{"name", "template"}``), a ``chat_template.jinja`` file beside it (newer repos; it wins over the config's single
template), and the names ``bos_token``, ``eos_token``, ``unk_token``, ``sep_token``, ``pad_token``, ``cls_token`` and
``mask_token`` (a string, or an object with ``content``), which a template sees as variables. Rendering is
:mod:`tokviz.chat`'s.

Example:
    >>> cfg = chat_config_from_dict({"chat_template": "{{ bos_token }}", "bos_token": {"content": "<s>"}},
    ...                             source="tokenizer_config.json")
    >>> cfg.templates, cfg.special_tokens
    ({'default': '{{ bos_token }}'}, {'bos_token': '<s>'})
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The special-token names transformers passes to every template (PreTrainedTokenizerBase.SPECIAL_TOKENS_ATTRIBUTES).
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
#: Bigger than any real template (the largest on the Hub are tens of kilobytes): a bound, not a format rule.
MAX_TEMPLATE_CHARS = 1_000_000


@dataclass(frozen=True)
class ChatConfig:
    """A model's chat templates by name (one template is named ``"default"``) and its special-token names."""

    templates: dict[str, str] = field(default_factory=dict)
    special_tokens: dict[str, str] = field(default_factory=dict)
    source: str = ""


def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def chat_config_from_dict(data: Any, *, source: str, jinja: str | None = None) -> ChatConfig:
    """The chat config of a parsed ``tokenizer_config.json`` (and a ``chat_template.jinja``'s text, if any);
    ValueError saying what is malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a tokenizer_config.json is a JSON object.")
    templates: dict[str, str] = {}
    raw = data.get("chat_template")
    if isinstance(raw, str):
        templates["default"] = raw
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                    and isinstance(item.get("template"), str)):
                raise ValueError(f"{source}: chat_template entry {i} must be {{\"name\": ..., \"template\": ...}}.")
            templates[item["name"]] = item["template"]
    elif raw is not None:
        raise ValueError(f"{source}: chat_template must be a string or a list of named templates.")
    if jinja is not None:
        templates["default"] = jinja
    for name, text in templates.items():
        if len(text) > MAX_TEMPLATE_CHARS:
            raise ValueError(f"{source}: chat template {name!r} is {len(text):,} characters, more than the "
                             f"{MAX_TEMPLATE_CHARS:,} tokviz reads.")
    specials = {k: t for k in SPECIAL_TOKEN_NAMES if (t := _token_text(data.get(k))) is not None}
    return ChatConfig(templates, specials, source)


def read_chat_config(folder: str | os.PathLike[str]) -> ChatConfig | None:
    """The chat config of a model folder, or None when it has neither ``tokenizer_config.json`` nor
    ``chat_template.jinja``."""
    d = Path(folder)
    cfg, jinja = d / "tokenizer_config.json", d / "chat_template.jinja"
    if not cfg.is_file() and not jinja.is_file():
        return None
    data: Any = {}
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{cfg}: not readable JSON ({e}).") from e
    text = jinja.read_text(encoding="utf-8") if jinja.is_file() else None
    return chat_config_from_dict(data, source=str(cfg if cfg.is_file() else jinja), jinja=text)


def attach_chat_config(tok: object, config: ChatConfig) -> None:
    """Keep ``config`` with a loaded tokenizer, as its ``chat_config`` attribute (a shallow copy keeps it too);
    :mod:`tokviz.chat` reads it from there."""
    setattr(tok, "chat_config", config)  # noqa: B010 - the tokenizer classes declare no such field; any may carry one
