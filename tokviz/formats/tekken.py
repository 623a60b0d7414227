"""Mistral's ``tekken.json``: a tiktoken-style byte-level BPE behind a block of control tokens.

The file (read by ``mistral-common``'s ``Tekkenizer``) holds ``config`` (``pattern``: the pre-tokenizer regex;
``default_vocab_size``; ``default_num_special_tokens``, N; ``version``), ``vocab`` (``rank``, base64
``token_bytes``, ``token_str`` per token, in rank order) and, from v7 on, ``special_tokens`` (``rank``,
``token_str``, ``is_control``). The control tokens take ids 0 to N-1; the regular tokens follow them, so a token of
rank r has id ``r + N``, and only the first ``default_vocab_size - N`` ranks are used. A file without
``special_tokens`` (v3, as the ones ``mistral-common`` ships) uses mistral-common's 20 default control tokens
(``<unk>``, ``<s>``, ``</s>``, ``[INST]``...); missing ones are filled with ``<SPECIAL_i>`` up to N, as it does.

Encoding follows tiktoken's rank rule with the file's pattern, so ids equal ``Tekkenizer.encode(text, bos=False,
eos=False)``. One choice differs, deliberately: a control token written in the text (``[INST]``, ``</s>``) becomes its
id, as the Hub's ``tokenizer.json`` for the same models does and as a chat template needs; ``Tekkenizer.encode``
takes it as text, which is ``encode(text, allowed_special=set())`` here.

Example:
    >>> import base64
    >>> vocab = [{"rank": i, "token_bytes": base64.b64encode(bytes([i])).decode(), "token_str": None}
    ...          for i in range(256)] + [{"rank": 256, "token_bytes": "aGk=", "token_str": "hi"}]
    >>> data = {"config": {"pattern": r"\\w+|\\s+|.", "num_vocab_tokens": 257, "default_vocab_size": 260,
    ...                    "default_num_special_tokens": 3, "version": "v7"}, "vocab": vocab,
    ...         "special_tokens": [{"rank": 0, "token_str": "<unk>", "is_control": True},
    ...                            {"rank": 1, "token_str": "<s>", "is_control": True}]}
    >>> tok = tekken_from_dict(data, source="tekken.json")
    >>> tok.encode("hi<s>", allowed_special="all"), tok.special_ids
    ([259, 1], {'<unk>': 0, '<s>': 1, '<SPECIAL_2>': 2})
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json
from tokviz.formats.file_checks import build_tokenizer, read_text
from tokviz.formats.tiktoken_file import merges_from_ranks
from tokviz.models.bpe import DeferredMerges, Tokenizer

#: mistral-common's control tokens for files that list none (Tekkenizer.DEPRECATED_SPECIAL_TOKENS), ids 0 to 19.
DEFAULT_CONTROL_TOKENS = ("<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
                          "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]",
                          "[IMG_END]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
                          "[TOOL_CONTENT]")


def looks_like_tekken(data: Any) -> bool:
    """Whether parsed JSON is a Tekken file: a ``config`` with a ``pattern`` and a list ``vocab``.

    >>> looks_like_tekken({"config": {"pattern": "x", "default_num_special_tokens": 3}, "vocab": []})
    True
    """
    return (isinstance(data, dict) and isinstance(data.get("config"), dict) and "pattern" in data["config"]
            and "default_num_special_tokens" in data["config"] and isinstance(data.get("vocab"), list))


def load_tekken(path: str | Path, *, name: str | None = None) -> Tokenizer:
    """Read a ``tekken.json`` file (ValueError naming the file and what is wrong)."""
    p = Path(path)
    data = parse_json(read_text(p), source=str(p))
    return tekken_from_dict(data, source=str(p), name=name)


def _int(config: Mapping[str, Any], key: str, source: str) -> int:
    v = config.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{source}: config.{key} must be a whole number >= 0, got {v!r:.40}.")
    return v


def tekken_from_dict(data: Any, *, source: str, name: str | None = None) -> Tokenizer:
    """The tokenizer of a parsed ``tekken.json`` (see the module docstring)."""
    if not looks_like_tekken(data):
        raise ValueError(f"{source}: not a Tekken file (it needs \"config\" with \"pattern\" and "
                         "\"default_num_special_tokens\", and a list \"vocab\").")
    config = data["config"]
    pattern = config["pattern"]
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{source}: config.pattern must be the pre-tokenizer regex, got {pattern!r:.40}.")
    n_special = _int(config, "default_num_special_tokens", source)
    vocab_size = _int(config, "default_vocab_size", source) if "default_vocab_size" in config else None
    entries = data["vocab"]
    inner = len(entries) if vocab_size is None else vocab_size - n_special
    if inner < 256 or inner > len(entries):
        raise ValueError(f"{source}: default_vocab_size {vocab_size} less {n_special} control tokens leaves {inner} "
                         f"regular tokens, but the vocab lists {len(entries)} (and needs the 256 bytes).")
    vocab: dict[int, bytes] = {}
    for i, e in enumerate(entries[:inner]):
        if not isinstance(e, dict) or e.get("rank") != i or not isinstance(e.get("token_bytes"), str):
            raise ValueError(f"{source}: vocab entry {i} must be {{\"rank\": {i}, \"token_bytes\": base64, ...}}, "
                             f"got {e!r:.80}.")
        try:
            token = base64.b64decode(e["token_bytes"], validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"{source}: vocab entry {i}: token_bytes is not base64 ({err}).") from err
        if i < 256 and token != bytes([i]):
            raise ValueError(f"{source}: vocab entry {i} must be the single byte 0x{i:02x}, got {token!r:.40}.")
        vocab[i + n_special] = token
    specials = _control_tokens(data.get("special_tokens"), n_special, source)
    taken = set(vocab.values())
    clash = [s for s in specials if s.encode("utf-8") in taken]
    if clash:
        raise ValueError(f"{source}: control token {clash[0]!r} is also a regular token's bytes; tokviz keeps one "
                         "id per token, so it cannot read this file.")
    ranks = {t: i - n_special for i, t in vocab.items()}
    if len(ranks) != len(vocab):
        raise ValueError(f"{source}: the vocab lists the same token_bytes twice; each token must appear once.")
    merges = DeferredMerges(lambda: merges_from_ranks(ranks)[0])
    label = name or Path(source).stem
    return build_tokenizer(vocab, merges, specials, pattern, name=label, source=source,  # type: ignore[arg-type]
                  rule="ranks")


def _control_tokens(listed: Any, n_special: int, source: str) -> dict[str, int]:
    """Control token -> id: the file's list (or mistral-common's defaults), filled with ``<SPECIAL_i>`` to N."""
    if listed is None:
        names = list(DEFAULT_CONTROL_TOKENS[:n_special])
    else:
        if not isinstance(listed, list):
            raise ValueError(f"{source}: special_tokens must be a list, got {listed!r:.60}.")
        names = []
        for i, t in enumerate(listed):
            if not (isinstance(t, dict) and t.get("rank") == i and isinstance(t.get("token_str"), str)
                    and t["token_str"]):
                raise ValueError(f"{source}: special_tokens entry {i} must be {{\"rank\": {i}, \"token_str\": ...}}, "
                                 f"got {t!r:.80}.")
            names.append(t["token_str"])
    if len(names) > n_special:
        raise ValueError(f"{source}: {len(names)} special tokens listed but default_num_special_tokens is "
                         f"{n_special}.")
    names += [f"<SPECIAL_{i}>" for i in range(len(names), n_special)]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: special_tokens lists a token twice; each must be unique.")
    return {s: i for i, s in enumerate(names)}
