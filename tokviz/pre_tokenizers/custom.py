"""Vetting a user's own pre-tokenizer regex: it must compile within the budget of
:mod:`tokviz.core.regex_budget`, must not match the empty string, and must get through probe texts quickly, so a
catastrophic pattern is refused before it meets user text.

Example:
    >>> compile_custom(r"\\S+|\\s+").findall("a b")
    ['a', ' ', 'b']
"""

from __future__ import annotations

from typing import Any

from tokviz.core.regex_budget import compile_budgeted, shown

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
    compiled = compile_budgeted(source, what="pre-tokenizer regex")
    try:
        if compiled.fullmatch(""):
            raise ValueError(
                f"The pre-tokenizer regex {shown(source)} matches the empty string, so it cannot cut text into pieces; "
                "use + instead of * for at least one character per piece."
            )
        for probe in _PROBES:
            compiled.findall(probe, timeout=timeout)
    except TimeoutError as e:
        raise ValueError(
            f"The pre-tokenizer regex {shown(source)} took over {timeout:g} s on a short test text (catastrophic "
            "backtracking); avoid nested quantifiers such as (a+)+."
        ) from e
    return compiled
