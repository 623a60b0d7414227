"""Cut a file or a text into ranges that pre-tokenize independently, so each range can be counted on its own core.

A cut falls just before a ``" "`` whose preceding character is printable ASCII (``!`` to ``~``): no named
pre-tokenizer pattern puts that character and the space in one piece (the rule of
:meth:`tokviz.pre_tokenizers.pretokenizer.PreTokenizer.safe_cut`), and no special token may cover the cut. In a file
this is decided on
raw bytes: a space byte after a printable ASCII byte can never sit inside a multi-byte UTF-8 character, so every range
also decodes on its own exactly as it does inside the whole file.

These cuts are proven only for the named patterns (gpt2, gpt4, o200k); counting cuts text with a custom pattern by
:func:`tokviz.pre_tokenizers.stream_cuts.chunk_text` instead, which verifies each cut against the pattern.

Cuts are looked for near evenly spaced targets; where a stretch has no usable space (a minified file, a long special
token run) the neighbouring ranges simply grow, so the ranges always cover the input in order without gaps.

Example:
    >>> text_ranges("aa bb cc dd ee", target=4)
    [(0, 5), (5, 11), (11, 14)]
    >>> text_ranges("aa <|x y|> cc", target=3, special_tokens=["<|x y|>"])  # not inside the special token
    [(0, 10), (10, 13)]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import AnyStr

#: How far past a target a cut is looked for before giving up on that target.
WINDOW = 1 << 16


def file_ranges(
    path: str | os.PathLike[str], *, target: int, special_tokens: Sequence[str] = ()
) -> list[tuple[int, int]]:
    """Byte ranges ``[(start, end), ...]`` of about ``target`` bytes covering the file, cut at safe spaces.

    Reads only a small window around each target, so it costs next to nothing even for a large file.
    """
    with open(path, "rb") as f:

        def window(start: int, end: int) -> bytes:
            f.seek(start)
            return f.read(end - start)

        specials = [s.encode("utf-8") for s in special_tokens if s]
        return cut_ranges(os.path.getsize(path), window, target=target, specials=specials, space=b" ")


def text_ranges(text: str, *, target: int, special_tokens: Sequence[str] = ()) -> list[tuple[int, int]]:
    """Character ranges ``[(start, end), ...]`` of about ``target`` characters covering ``text``, cut at safe spaces."""
    return cut_ranges(len(text), lambda start, end: text[start:end], target=target,
                   specials=[s for s in special_tokens if s], space=" ")


def cut_ranges(
    size: int, window: Callable[[int, int], AnyStr], *, target: int, specials: Sequence[AnyStr], space: AnyStr
) -> list[tuple[int, int]]:
    """The ranges of an input of ``size`` units (bytes or characters) that ``window(start, end)`` reads a part of."""
    if target < 1:
        raise ValueError(f"target must be at least 1, got {target}.")
    longest = max(map(len, specials), default=0)
    cuts = [0]
    t = target
    while t < size:
        start = max(t - longest, cuts[-1])
        cut = _cut_in(window(start, t + WINDOW + longest), t - start, specials, space=space)
        if cut is not None and start + cut > cuts[-1]:
            cuts.append(start + cut)
            t = start + cut + target
        else:
            t += WINDOW
    if size > 0:
        cuts.append(size)
    return list(zip(cuts, cuts[1:]))


_PRINTABLE_BYTES = frozenset(range(0x21, 0x7F))
_PRINTABLE_CHARS = frozenset(map(chr, range(0x21, 0x7F)))


def _cut_in(window: AnyStr, lo: int, specials: Sequence[AnyStr], *, space: AnyStr) -> int | None:
    """The first safe cut at or after ``lo`` in ``window`` (bytes or str), or None.

    ``lo`` leaves room before the cut for the longest special token, so any occurrence covering it starts in the window.
    """
    printable: frozenset[object] = _PRINTABLE_CHARS if isinstance(window, str) else _PRINTABLE_BYTES
    i = window.find(space, max(lo, 1))
    while i != -1:
        if window[i - 1] in printable and not any(_covers(window, s, i) for s in specials):
            return i
        i = window.find(space, i + 1)
    return None


def _covers(window: AnyStr, special: AnyStr, i: int) -> bool:
    """Whether an occurrence of ``special`` starts before ``i`` and ends after it."""
    n = len(special)
    return n > 1 and window.find(special, max(0, i - n + 1), i + n - 1) != -1
