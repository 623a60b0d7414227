"""Hugging Face ``tokenizers`` pre-tokenizers that cut a piece into smaller ones: Split, Digits, Punctuation,
Whitespace, WhitespaceSplit (ByteLevel, which also rewrites pieces, lives in
:mod:`tokviz.pipelines.byte_level_tokenizer`).

Each component's ``split(text)`` returns the ``(start, end)`` character spans of the pieces it keeps, in order,
never empty. All of them follow ``tokenizers``' one rule (``NormalizedString::split``): a pattern marks the text as
a list of matches and gaps (a character predicate marks each matching character as its own match), ``invert`` swaps
the two, and the behaviour decides what becomes a piece:

- ``Removed``: gaps only (the matches are dropped); ``Isolated``: every match and every gap;
- ``MergedWithPrevious`` / ``MergedWithNext``: a match joins the gap before / after it;
- ``Contiguous``: neighbouring matches join (as do neighbouring gaps).

Character classes are those of the Rust library, spelled for Python's ``regex``: numeric is ``\\p{N}``
(``char::is_numeric``), punctuation is ASCII punctuation or ``\\p{P}``, whitespace is White_Space, a word character
is Rust ``regex``'s ``\\w``. ``regex`` carries its own Unicode tables, which may be newer than those of the Rust
crates (``unicode_categories`` for punctuation is older still), so recently assigned characters can be classed
differently.

Example:
    >>> [("the-final--countdown"[s:e]) for s, e in Punctuation("MergedWithNext").split("the-final--countdown")]
    ['the', '-final', '-', '-countdown']
    >>> text = "a 12 b3"
    >>> [text[s:e] for s, e in Digits(individual_digits=True).split(text)]
    ['a ', '1', '2', ' b', '3']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import regex

from tokviz.core.onig import RUST_SPACE, RUST_WORD, onig_spans
from tokviz.core.regex_budget import compile_budgeted, stopped_with_message
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS

Behavior = Literal["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
BEHAVIORS: tuple[Behavior, ...] = ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")
Span = tuple[int, int]


class PieceSplitter(Protocol):
    """Cuts one piece's text into the spans of the pieces it keeps."""

    def split(self, text: str) -> list[Span]: ...


def marked(spans: list[Span], n: int) -> list[tuple[int, int, bool]]:
    """Matches (``True``) and the gaps between them (``False``) covering ``n`` characters, as ``tokenizers`` lists
    them (an empty text is one empty gap).

    >>> marked([(1, 2)], 3)
    [(0, 1, False), (1, 2, True), (2, 3, False)]
    """
    if n == 0:
        return [(0, 0, False)]
    out: list[tuple[int, int, bool]] = []
    prev = 0
    for s, e in spans:
        if prev != s:
            out.append((prev, s, False))
        out.append((s, e, True))
        prev = e
    if prev != n:
        out.append((prev, n, False))
    return out


def apply_behavior(marks: list[tuple[int, int, bool]], behavior: Behavior) -> list[Span]:
    """The kept spans of a marked text under ``behavior`` (empty spans dropped), as ``NormalizedString::split``.

    >>> marks = [(0, 3, False), (3, 4, True), (4, 9, False), (9, 10, True), (10, 11, True), (11, 20, False)]
    >>> apply_behavior(marks, "Contiguous")
    [(0, 3), (3, 4), (4, 9), (9, 11), (11, 20)]
    >>> apply_behavior(marks, "MergedWithPrevious")
    [(0, 4), (4, 10), (10, 11), (11, 20)]
    """
    acc: list[list[int]] = []
    if behavior == "Isolated":
        return [(s, e) for s, e, _ in marks if e > s]
    if behavior == "Removed":
        return [(s, e) for s, e, m in marks if not m and e > s]
    previous = False
    if behavior == "Contiguous":
        for s, e, m in marks:
            if m == previous and acc:
                acc[-1][1] = e
            else:
                acc.append([s, e])
            previous = m
    elif behavior == "MergedWithPrevious":
        for s, e, m in marks:
            if m and not previous and acc:
                acc[-1][1] = e
            else:
                acc.append([s, e])
            previous = m
    elif behavior == "MergedWithNext":
        for s, e, m in reversed(marks):
            if m and not previous and acc:
                acc[-1][0] = s
            else:
                acc.append([s, e])
            previous = m
        acc.reverse()
    else:
        raise ValueError(f"unknown split behavior {behavior!r}; use one of {', '.join(BEHAVIORS)}.")
    return [(s, e) for s, e in acc if e > s]


@dataclass(frozen=True)
class PatternSplit:
    """Split on a compiled ``regex`` pattern (Oniguruma's match iteration) with a behaviour, maybe inverted."""

    source: str
    behavior: Behavior = "Isolated"
    invert: bool = False
    _compiled: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.behavior not in BEHAVIORS:
            raise ValueError(f"split behavior {self.behavior!r} is not one of {', '.join(BEHAVIORS)}.")
        object.__setattr__(self, "_compiled", compile_budgeted(self.source, what="Split pattern"))

    def split(self, text: str) -> list[Span]:
        if self.source in _VETTED:
            spans = onig_spans(self._compiled, text)  # ours: no timeout, which would double the cost of matching
        else:
            with stopped_with_message(self.source, what="Split pattern", length=len(text)) as budget:
                spans = onig_spans(self._compiled, text, timeout=budget)
        if self.behavior == "Isolated":
            # The common case (Llama 3, GPT-4-style Split): matches and gaps, no marks needed.
            out: list[Span] = []
            prev = 0
            for s, e in spans:
                if prev < s:
                    out.append((prev, s))
                if e > s:
                    out.append((s, e))
                prev = e
            if prev < len(text):
                out.append((prev, len(text)))
            return out
        marks = marked(spans, len(text))
        if self.invert:
            marks = [(s, e, not m) for s, e, m in marks]
        return apply_behavior(marks, self.behavior)


def Split(pattern: str, *, is_regex: bool = True, behavior: Behavior = "Isolated",  # noqa: N802
          invert: bool = False) -> PatternSplit:
    """``Split``: a regex (already in Python ``regex`` terms) or a literal string.

    >>> [("a--b"[s:e]) for s, e in Split("-", is_regex=False, behavior="Removed").split("a--b")]
    ['a', 'b']
    """
    return PatternSplit(pattern if is_regex else regex.escape(pattern), behavior, invert)


def Digits(*, individual_digits: bool = False) -> PatternSplit:  # noqa: N802
    """``Digits``: each digit alone, or runs of digits together."""
    return PatternSplit(r"\p{N}", "Isolated" if individual_digits else "Contiguous")


_ASCII_PUNCT = r"!-/:-@\[-`{-~"


def Punctuation(behavior: Behavior = "Isolated") -> PatternSplit:  # noqa: N802
    """``Punctuation``: ASCII punctuation and Unicode ``P*`` characters, one at a time."""
    return PatternSplit(rf"[{_ASCII_PUNCT}\p{{P}}]", behavior)


def Whitespace() -> PatternSplit:  # noqa: N802
    """``Whitespace``: runs of word characters and runs of other non-space characters; spaces dropped."""
    word = RUST_WORD
    return PatternSplit(rf"{word}+|[^{word[1:-1]}{RUST_SPACE}]+", "Removed", invert=True)


def WhitespaceSplit() -> PatternSplit:  # noqa: N802
    """``WhitespaceSplit``: cut at White_Space characters, which are dropped."""
    return PatternSplit(RUST_SPACE, "Removed")


# Patterns known to match in linear time (the components above and the named pre-tokenizer patterns), matched
# without a timeout; any other pattern comes from a file and is matched under the budget.
_VETTED = frozenset([Digits().source, Punctuation().source, Whitespace().source, WhitespaceSplit().source,
                     *NAMED_PATTERNS.values()])
