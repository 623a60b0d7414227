"""Regex matches as Hugging Face ``tokenizers`` finds them (Oniguruma's iteration), with Python's ``regex``.

Python and Oniguruma disagree only around empty matches: Python accepts an empty match right after a match and, after
an empty match at ``p``, looks for a non-empty one at ``p``; Oniguruma's iterator refuses an empty match that ends
where the previous match ended and then resumes one character further on. :func:`onig_spans` follows Oniguruma, and
costs nothing extra on patterns that never match the empty string (it walks by hand only from the first empty match).

Unicode classes of the Rust library, spelled for ``regex`` (:data:`RUST_WORD`, :data:`RUST_SPACE`): Rust's ``\\w``
is Alphabetic + Mark + Decimal_Number + Connector_Punctuation + Join_Control and its ``\\s`` is White_Space, which is
not what Python's ``str.isspace`` tests (it also takes U+001C..U+001F).

Example:
    >>> import regex
    >>> onig_spans(regex.compile("a*"), "baa")
    [(0, 0), (1, 3)]
    >>> [m.span() for m in regex.finditer("a*", "baa")]
    [(0, 0), (1, 3), (3, 3)]
"""

from __future__ import annotations

import time
from typing import Any

import regex

from tokviz.core.regex_budget import deadline_left, stopped_with_message

#: Rust ``regex``'s Unicode ``\w`` and ``\s`` (also ``char::is_whitespace``) as ``regex`` classes.
RUST_WORD = r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]"
RUST_SPACE = r"\p{White_Space}"

# Oniguruma (which `tokenizers` uses) reads "X{n,m}+" as "(X{n,m})+", a repetition, where Python's `regex` reads a
# possessive interval; rewriting keeps the meaning `tokenizers` gives a file's pattern. Run by `regex` under the
# budget: a file's pattern is user data, and many unclosed [ make this scan quadratic.
_ONIG_REPEATED_INTERVAL = regex.compile(r"(\\p\{\w+\}|\\[A-Za-z]|\[(?:\\.|[^\]\\])*\]|\((?:\\.|[^()\\])*\)"
                                        r"|[^\\()\[\]{}])"
                                        r"(\{\d+(?:,\d*)?\})\+")


def onig_spans(compiled: Any, text: str, *, timeout: float | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of every match of ``compiled`` in ``text``, in Oniguruma's ``find_iter`` order and rules;
    ``TimeoutError`` once the matching has taken ``timeout`` seconds in all (``regex``'s own timeout)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    out: list[tuple[int, int]] = []
    for m in compiled.finditer(text, timeout=timeout):
        s, e = m.span()
        if s == e:
            # From the first empty match on, Python's rules and Oniguruma's can part: walk as Oniguruma does.
            return out + _onig_walk(compiled, text, s, out[-1][1] if out else None, deadline)
        out.append((s, e))
    return out


def _onig_walk(compiled: Any, text: str, pos: int, last_end: int | None,
               deadline: float | None) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    n = len(text)
    while pos <= n:
        m = compiled.search(text, pos, timeout=None if deadline is None else deadline_left(deadline))
        if m is None:
            break
        s, e = m.span()
        if s == e and last_end == e:
            pos += 1  # an empty match where the last one ended: skip a character, as Oniguruma does
            continue
        out.append((s, e))
        last_end = e
        pos = e
    return out


def onig_to_python(pattern: str) -> str:
    """A `tokenizers` (Oniguruma) regex in Python ``regex`` terms: ``X{n,m}+`` becomes ``(?:X{n,m})+``.

    >>> onig_to_python(r"\\p{N}{1,3}+|\\s+")
    '(?:\\\\p{N}{1,3})+|\\\\s+'
    """
    with stopped_with_message(pattern, what="pattern (while reading it as Oniguruma does)", length=len(pattern)) as b:
        return str(_ONIG_REPEATED_INTERVAL.sub(r"(?:\1\2)+", pattern, timeout=b))
