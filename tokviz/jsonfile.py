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
from typing import Any


def parse_json(text: str, *, source: str) -> Any:
    """``json.loads`` with a ValueError naming ``source`` and the line for bad JSON, or for nesting too deep to parse
    (which the standard library reports as RecursionError)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{source}, line {e.lineno}: invalid JSON ({e.msg}).") from e
    except RecursionError as e:
        raise ValueError(f"{source}: nested too deeply to be a tokenizer file (JSON).") from e
