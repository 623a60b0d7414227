"""Special tokens: checked as a list of non-empty strings, and compiled into one regex where the longest wins.

Example:
    >>> compile_special(["<s>", "<s><s>"]).findall("<s><s><s>")
    ['<s><s>', '<s>']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import regex


def validate_special_tokens(special_tokens: object) -> list[str]:
    """The special tokens as a list of non-empty strings, or a ValueError saying how to give them.

    >>> validate_special_tokens(("<s>", "</s>"))
    ['<s>', '</s>']
    >>> validate_special_tokens("<s>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: special_tokens must be a list of strings, not the str '<s>' (...); write ['<s>'].
    """
    if special_tokens is None:
        return []
    if isinstance(special_tokens, (str, bytes)):
        shown = f"{special_tokens!r:.60}"
        raise ValueError(
            f"special_tokens must be a list of strings, not the {type(special_tokens).__name__} {shown} (which would "
            f"make each of its characters a special token); write [{shown}]."
        )
    try:
        tokens = list(special_tokens)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(
            f"special_tokens must be a list of strings, got {type(special_tokens).__name__}."
        ) from None
    for k, t in enumerate(tokens):
        if not isinstance(t, str):
            hint = " (decode bytes as UTF-8 first)" if isinstance(t, bytes) else ""
            raise ValueError(f"special token {k + 1} is {t!r:.60}, not a string{hint}; give each one as text.")
        if not t:
            raise ValueError(f"special token {k + 1} is the empty string; remove it from the special tokens.")
    return tokens


def compile_special(special_tokens: Sequence[str]) -> Any | None:
    """A regex matching any special token, longest first so the longest wins where two overlap."""
    specials = sorted(set(validate_special_tokens(special_tokens)), key=len, reverse=True)
    if not specials:
        return None
    return regex.compile("|".join(regex.escape(s) for s in specials))
