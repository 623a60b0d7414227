"""OpenAI's encodings extended with chat tokens: ``o200k_harmony`` (gpt-oss) and ``cl100k_im`` (ChatML).

``o200k_harmony`` is tiktoken's: o200k_base's ranks and pattern with gpt-oss's special tokens (``<|start|>``
200006, ``<|message|>`` 200008, ``<|end|>`` 200007, ``<|channel|>``, ``<|return|>``, ``<|call|>``, ...,
``<|reserved_200013|>``..``<|reserved_201087|>``). tiktoken also keeps o200k_base's ``<|endofprompt|>`` at 200018,
the id it gives ``<|reserved_200018|>``; tokviz keeps one token per id, the reserved one.

``cl100k_im`` is cl100k_base with ``<|im_start|>`` 100264 and ``<|im_end|>`` 100265 (tiktoken's own example of
extending an encoding).

:func:`tokviz.load_tokenizer` builds both by name, and gpt-oss's models by theirs (``gpt-oss-120b``); the chat
formats that write conversations with them are in :mod:`tokviz.chat.openai_formats`.

Example:
    >>> tok = o200k_harmony()
    >>> tok.special_ids["<|start|>"], tok.vocab_size, CHAT_ENCODINGS["cl100k_im"]().special_ids["<|im_end|>"]
    (200006, 201088, 100265)
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping

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


#: The extended encodings by name, as :func:`tokviz.load_tokenizer` and the command line take them.
CHAT_ENCODINGS: dict[str, Callable[[], Tokenizer]] = {"o200k_harmony": o200k_harmony, "cl100k_im": cl100k_im}
