"""What the format modules share: the save result, UTF-8 reading and line numbers for errors, building the Tokenizer.

Also the notes and refusals for what a format cannot carry (a pattern; a token under two ids), and the pattern that
leaves text whole (Hugging Face's ``use_regex=false``, minbpe's empty pattern).

Example:
    >>> where_in("tokenizer.json", '{\\n  "model": {}\\n}', '"model"')
    'tokenizer.json, line 2'
    >>> where_in("tokenizer.json", None, '"model"')
    'tokenizer.json'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import MAX_ID
from tokviz.core.textfile import read_utf8
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

#: The pattern that leaves each stretch between special tokens whole (HF ``use_regex=false``, minbpe's empty pattern).
WHOLE_TEXT_PATTERN = r"[\s\S]+"

SpecialTokens = Sequence[str] | Mapping[str, int]


@dataclass(frozen=True)
class SaveResult:
    """What :func:`save` wrote, and what the format could not carry (to tell the user)."""

    format: str
    paths: list[Path]
    notes: list[str] = field(default_factory=list)


def read_text(path: Path) -> str:
    return read_utf8(path)


def line_of(text: str, fragment: str) -> int | None:
    """1-based line of the first occurrence of ``fragment`` in ``text``, to point at a bad JSON value."""
    i = text.find(fragment)
    return None if i < 0 else text.count("\n", 0, i) + 1


def where_in(source: str, text: str | None, fragment: str) -> str:
    line = line_of(text, fragment) if text is not None else None
    return f"{source}, line {line}" if line is not None else source


def build_tokenizer(
    vocab: dict[int, bytes],
    merges: list[tuple[bytes, bytes]],
    special_tokens: SpecialTokens,
    pattern: str,
    *,
    name: str,
    source: str,
    add_prefix_space: bool = False,
    rule: str = "merges",
) -> Tokenizer:
    """Make the Tokenizer, placing specials at their given ids, and name the source in any error.

    ``rule`` is the Tokenizer's (``"ranks"`` for rank files); it is passed only when it is not the default.
    """
    if isinstance(special_tokens, Mapping):
        vocab = dict(vocab)  # placed below; the Tokenizer copies the vocabulary anyway, so only copy to change it
        for s, i in special_tokens.items():
            if not isinstance(i, int) or isinstance(i, bool) or i < 0:
                raise ValueError(f"{source}: special token {s!r} has id {i!r}; ids are integers >= 0.")
            have = vocab.get(i)
            if have is not None and have != s.encode("utf-8"):
                raise ValueError(
                    f"{source}: special token {s!r} wants id {i}, which is already the token {have!r}; "
                    "choose a free id or pass the special tokens as a list to append them."
                )
            vocab[i] = s.encode("utf-8")
        specials = list(special_tokens)
    else:
        specials = [str(s) for s in special_tokens]
    extra: dict[str, Any] = {} if rule == "merges" else {"rule": rule}
    try:
        if add_prefix_space:
            return PrefixSpaceTokenizer(vocab, merges, specials, pattern, name=name, **extra)
        return Tokenizer(vocab, merges, specials, pattern, name=name, **extra)
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from e


def type_name(value: object) -> str:
    """How a JSON value is named in messages: ``the string 'abc'``, ``null``, ``the number 5``, ``a list``.

    >>> type_name("abc"), type_name(None), type_name(True), type_name(5), type_name([1])
    ("the string 'abc'", 'null', 'true', 'the number 5', 'a list')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r:.60}"
    if isinstance(value, (int, float)):
        return f"the number {value!r:.30}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def check_id(value: object, *, what: str) -> int:
    """``value`` as a token id (an integer from 0 to :data:`MAX_ID`; JSON ``true`` is not one), or a ValueError
    saying how to fix it.

    >>> check_id(5, what="vocab entry 1")
    5
    >>> check_id("5", what="vocab entry 1")
    Traceback (most recent call last):
    ...
    ValueError: vocab entry 1: the id is the string '5', not an integer; write ids as plain numbers 0 and up.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what}: the id is {type_name(value)}, not an integer; write ids as plain numbers 0 and up.")
    if value < 0:
        raise ValueError(f"{what}: the id {value} is negative; ids are integers 0 and up.")
    if value > MAX_ID:
        raise ValueError(f"{what}: the id {value} is larger than any vocabulary's (ids stop at {MAX_ID}); number the "
                         "tokens from 0.")
    return value


def pattern_note(tok: Tokenizer, fmt: str) -> list[str]:
    if tok.pretokenizer.name == "gpt2":
        return []
    return [f"the {fmt} format stores no pre-tokenizer pattern; load it with pattern={tok.pattern!r:.80} "
            f"(--pattern) to get the same ids."]


def refuse_duplicates(tok: Tokenizer, fmt: str) -> None:
    seen: dict[bytes, int] = {}
    for i, t in sorted(tok.vocab.items()):
        if t in seen:
            raise ValueError(
                f"token {t!r} has two ids ({seen[t]} and {i}), which the {fmt} format cannot hold (it maps each "
                "token to one id); save as tokviz or minbpe instead."
            )
        seen[t] = i


def split_special_tokens(text: str) -> list[str]:
    """Special tokens typed in one text field, the same way in every view: separated by commas and/or whitespace,
    empty entries dropped, each once, in order (so a token cannot itself hold a comma or a space).

    >>> split_special_tokens(" <|endoftext|>, <pad>,,<|endoftext|>  <|im_end|>=2 ")
    ['<|endoftext|>', '<pad>', '<|im_end|>=2']
    """
    return list(dict.fromkeys(t for t in _SEPARATORS.split(text) if t))


_SEPARATORS = re.compile(r"[,\s]+")


def special_tokens_arg(values: Sequence[str] | None) -> list[str] | dict[str, int] | None:
    """Special tokens as a user types them: plain tokens, or ``TOKEN=ID`` to give a token the id it had when saved.

    A tiktoken rank file stores no special tokens; ``'<|endoftext|>=0'`` puts one back at id 0 (where ``tokviz
    train`` puts specials), so ids match the tokenizer that was saved.

    >>> special_tokens_arg(["<|endoftext|>=0"]), special_tokens_arg(["<s>"])
    ({'<|endoftext|>': 0}, ['<s>'])
    """
    if not values:
        return None
    with_ids = [v for v in values if "=" in v and v.rsplit("=", 1)[1].isdigit()]
    if not with_ids:
        return list(values)
    if len(with_ids) != len(values):
        raise ValueError("give every special token as TOKEN=ID, or none of them (mixing leaves ids unknown).")
    return {tok: int(i) for tok, i in (v.rsplit("=", 1) for v in values)}
