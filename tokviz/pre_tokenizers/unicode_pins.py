"""The named patterns (and the rank files' own: Whisper, Llama 3, Qwen) run with the reference engine's Unicode
tables, so the explainer and the engine never disagree.

``regex`` classes characters by a newer Unicode version than tiktoken (whose engine is the reference of the named
patterns, and the native engine tokviz routes them to): some 4,700 characters assigned or re-classed since are
letters or marks to ``regex`` and unassigned to tiktoken, so o200k cut ``"a\\u0c5c's"`` otherwise. A
:class:`PinnedPattern` matches a stand-in in place of each such character: one that ``regex`` classes as tiktoken
classes the original (:mod:`tokviz.pre_tokenizers.unicode_pins_data`, made by ``scripts/pin_unicode_tables.py``),
and returns the pieces of the original text. A character is replaced by one character, so spans do not move.

Example:
    >>> import regex
    >>> p = PinnedPattern(regex.compile(r"\\p{L}+|[^\\p{L}]+"))
    >>> p.findall("ab\\u0c5ccd"), regex.findall(r"\\p{L}+|[^\\p{L}]+", "ab\\u0c5ccd")
    (['ab', '\\u0c5c', 'cd'], ['ab\\u0c5ccd'])
"""

from __future__ import annotations

import re
from typing import Any

from tokviz.pre_tokenizers.unicode_pins_data import RANGES

_TABLE: dict[int, int] = {cp: rep for first, last, rep in RANGES for cp in range(first, last + 1)}
# `re` finds the first pinned character faster than `regex`; most texts hold none and are matched as they are.
_ANY = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b, _ in RANGES) + "]")


def pinned_text(text: str) -> str:
    """``text`` with each character the tables class differently replaced by its stand-in (same length).

    >>> pinned_text("a\\u0c5c's") == "a\\x80's"
    True
    """
    return text.translate(_TABLE) if _ANY.search(text) else text


class PinnedPattern:
    """A compiled named pattern whose :meth:`findall` classes characters by the reference engine's tables."""

    __slots__ = ("compiled",)

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled

    @property
    def pattern(self) -> str:
        return str(self.compiled.pattern)

    def finditer(self, text: str, *args: Any, **kwargs: Any) -> Any:
        """Matches over the stand-in text: use their spans (the same in ``text``), not their strings."""
        return self.compiled.finditer(pinned_text(text), *args, **kwargs)

    def findall(self, text: str) -> list[str]:
        """The pieces of ``text`` (the named patterns have no groups, so findall gives whole matches)."""
        if _ANY.search(text) is None:
            return list(self.compiled.findall(text))
        return [text[s:e] for s, e in (m.span() for m in self.compiled.finditer(text.translate(_TABLE)))]
