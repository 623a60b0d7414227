"""Vetting a user's own pre-tokenizer regex: it must compile, must not match the empty string, and must get through
probe texts quickly, so a catastrophic pattern is refused before it meets user text.

Example:
    >>> compile_custom(r"\\S+|\\s+").findall("a b")
    ['a', ' ', 'b']
"""

from __future__ import annotations

from typing import Any

import regex

#: Seconds a custom regex may spend on one call before it is declared catastrophic.
DEFAULT_TIMEOUT = 2.0
# Strings a custom pattern must get through quickly when validated; the long runs expose nested quantifiers.
_PROBES = ("Hello, world! It's 2024... 123456 ", "a" * 4000 + "!", " " * 4000 + "x", "你好 🌍 Ünïcödé\n\t  \r\n")


def compile_custom(source: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Compile and vet a user regex: it must compile, must not match the empty string, and must be quick.

    >>> compile_custom(r"\\w+|\\s+|[^\\w\\s]+").pattern
    '\\\\w+|\\\\s+|[^\\\\w\\\\s]+'
    """
    if not source:
        raise ValueError("The pre-tokenizer regex is empty: give a pattern such as 'gpt2', 'gpt4', 'o200k' or a regex.")
    depth = _nesting(source)
    too_deep = (f"The pre-tokenizer regex nests groups {depth} deep (at most {MAX_NESTING} are accepted); "
                "simplify the pattern, e.g. drop redundant parentheses.")
    if depth > MAX_NESTING:
        raise ValueError(too_deep)
    try:
        compiled = regex.compile(source)
    except regex.error as e:
        raise ValueError(f"The pre-tokenizer regex does not compile ({e}); check brackets and escapes.") from e
    except RecursionError as e:  # the regex compiler recurses per nesting level (of groups, or of anything else)
        raise ValueError(too_deep) from e
    try:
        if compiled.fullmatch(""):
            raise ValueError(
                "The pre-tokenizer regex matches the empty string, so it cannot cut text into pieces; "
                "use + instead of * for at least one character per piece."
            )
        for probe in _PROBES:
            compiled.findall(probe, timeout=timeout)
    except TimeoutError as e:
        raise ValueError(
            f"The pre-tokenizer regex took over {timeout:g} s on a short test text (catastrophic backtracking); "
            "avoid nested quantifiers such as (a+)+."
        ) from e
    return compiled


#: Deepest group nesting accepted in a custom regex (the `regex` compiler recurses per level; 500 overflow it).
MAX_NESTING = 100


def _nesting(source: str) -> int:
    """The deepest nesting of parentheses in a regex, not counting escaped ones or ones inside a class."""
    depth = deepest = 0
    i, n = 0, len(source)
    in_class = False
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if source.startswith("]", i + 1) or source.startswith("^]", i + 1):
                i += 2 if source[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
        i += 1
    return deepest
