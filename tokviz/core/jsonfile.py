"""Parsing JSON from tokenizer files with errors that name the file and line, never a traceback.

Example:
    >>> parse_json('{"a": [1, 2]}', source="t.json")
    {'a': [1, 2]}
    >>> parse_json('{"a": }', source="t.json")
    Traceback (most recent call last):
    ...
    ValueError: t.json, line 1: invalid JSON (Expecting value).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Digits an integer in a tokenizer file may have: ids, ranks and counts all fit in 64 bits (19 digits).
MAX_INT_DIGITS = 19
#: The largest token id or rank: tiktoken and Hugging Face ``tokenizers`` keep them in 32 bits, and no vocabulary
#: comes near it.
MAX_ID = 2**32 - 1


class _BadNumber(Exception):
    """A number no tokenizer file holds; carries its text so the parser can say where it is."""

    def __init__(self, literal: str, reason: str) -> None:
        super().__init__(literal)
        self.literal = literal
        self.reason = reason


def _constant(literal: str) -> Any:
    raise _BadNumber(literal, f"{literal} is not a number a tokenizer file can hold; use a finite integer")


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(literal, f"the integer {literal[:12]}... has {len(literal.lstrip('-'))} digits, more than "
                                  f"any id or rank ({MAX_INT_DIGITS} at most)")
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _BadNumber(literal, f"the number {literal:.20} is too large to be finite; use a finite integer")
    return value


class _DuplicateKey(Exception):
    """A key given twice in one JSON object (``json.loads`` keeps the last silently)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _line_of_second(text: str, key: str) -> int | None:
    """The line of the second occurrence of ``key`` written as a JSON string (escaped or not), if found."""
    for fragment in (json.dumps(key, ensure_ascii=False), json.dumps(key)):
        first = text.find(fragment)
        second = text.find(fragment, first + 1) if first != -1 else -1
        if second != -1:
            return text.count("\n", 0, second) + 1
    return None


# JSON strings, skipped when looking for where a bad number is (the same text may sit inside a string before it).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _line_of(text: str, literal: str) -> int:
    """The line of the first occurrence of ``literal`` outside a JSON string (1 if not found)."""
    pos = 0
    for m in _JSON_STRING.finditer(text):
        hit = text.find(literal, pos, m.start())
        if hit != -1:
            return text.count("\n", 0, hit) + 1
        pos = m.end()
    hit = text.find(literal, pos)
    return text.count("\n", 0, hit) + 1 if hit != -1 else 1


def parse_json(text: str, *, source: str, unique_keys: bool = False) -> Any:
    """``json.loads`` with a ValueError naming ``source`` and the line for bad JSON, for numbers no tokenizer file
    holds (``NaN``, ``Infinity``, ``1e400``, integers of more than :data:`MAX_INT_DIGITS` digits), or for nesting
    too deep to parse (which the standard library reports as RecursionError). With ``unique_keys`` a key given
    twice in one object is refused too (``json.loads`` would keep the last one silently).

    >>> parse_json('{"a":\\n 1e400}', source="t.json")
    Traceback (most recent call last):
    ...
    ValueError: t.json, line 2: the number 1e400 is too large to be finite; use a finite integer.
    >>> parse_json('{"a": 1,\\n "a": 2}', source="t.json", unique_keys=True)
    Traceback (most recent call last):
    ...
    ValueError: t.json, line 2: duplicate key 'a' (the same object has it twice); keep one of them.
    """
    # A byte-order mark (Windows editors save one) carries nothing in UTF-8: accepted rather than refused as bad JSON.
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_integer, parse_float=_float,
                          object_pairs_hook=_unique_pairs if unique_keys else None)
    except json.JSONDecodeError as e:
        raise ValueError(f"{source}, line {e.lineno}: invalid JSON ({e.msg}).") from e
    except _BadNumber as e:
        raise ValueError(f"{source}, line {_line_of(text, e.literal)}: {e.reason}.") from None
    except _DuplicateKey as e:
        line = _line_of_second(text, e.key)
        where = source if line is None else f"{source}, line {line}"
        raise ValueError(f"{where}: duplicate key {e.key!r:.60} (the same object has it twice); keep one of them.") \
            from None
    except RecursionError as e:
        raise ValueError(f"{source}: nested too deeply to be a tokenizer file (JSON).") from e
