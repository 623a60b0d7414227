"""parse_json: errors name the file and line, and deep nesting is a ValueError, not a RecursionError."""

from __future__ import annotations

import pytest

from tokviz.core.jsonfile import parse_json


def test_valid_json() -> None:
    assert parse_json('{"a": [1]}', source="x.json") == {"a": [1]}


def test_invalid_json_names_file_and_line() -> None:
    with pytest.raises(ValueError, match=r"x.json, line 3: invalid JSON"):
        parse_json('{\n"a": 1,\n}', source="x.json")


def test_deep_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="x.json: nested too deeply"):
        parse_json("[" * 200_000 + "]" * 200_000, source="x.json")
