"""Tokens grouped under the grapheme a reader sees (an extended grapheme cluster, ``\\X`` of ``regex``).

A tokenizer cuts code points, or bytes of them; a reader sees 👩‍💻 (woman, joiner, laptop), 🇯🇵 (two regional
indicators), 1️⃣ (digit, variation selector, keycap) or 👍🏽 (thumb, skin tone) as one character. Tokens whose
characters share one cluster are drawn as one group under it, each token still its own box.

Example:
    >>> from tokviz.core.encoding import Encoding
    >>> text = "a🇯🇵"
    >>> enc = Encoding([1, 2, 3], [b"a", "🇯".encode(), "🇵".encode()], [(0, 1), (1, 5), (5, 9)],
    ...                [(0, 1), (1, 2), (2, 3)], [False, False, False])
    >>> grapheme_groups(enc, text)
    [[0], [1, 2]]
"""

from __future__ import annotations

import regex

from tokviz.core.encoding import Encoding

_CLUSTER = regex.compile(r"\X")


def cluster_starts(text: str) -> bytearray | None:
    """One flag per character position (and one past the end): 1 where a grapheme cluster starts. ``None`` for an
    ASCII text, where every character is its own cluster for drawing (CR LF is one cluster, but each of its two
    characters draws its own mark and line break, so it is not grouped).

    >>> list(cluster_starts("e\\u0301x") or [])
    [1, 0, 1, 1]
    """
    if text.isascii():
        return None
    starts = bytearray(len(text) + 1)
    starts[len(text)] = 1
    for m in _CLUSTER.finditer(text):
        starts[m.start()] = 1
    for m in regex.finditer("\r\n", text):
        starts[m.start() + 1] = 1
    return starts


def grapheme_groups(enc: Encoding, text: str) -> list[list[int]]:
    """Token indices in order, grouped so that tokens holding parts of one grapheme cluster of ``text`` (the text
    the encoding's character spans point into) are together: byte pieces of one character, and whole tokens that
    cut a cluster (👩 | ZWJ | 💻). Every other token is a group of its own.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> grapheme_groups(ByteTokenizer().encode_with_offsets("hé"), "hé")
    [[0], [1, 2]]
    """
    starts = cluster_starts(text)
    out: list[list[int]] = []
    end = -1  # the last character position the current group reaches
    for i, (s, e) in enumerate(enc.char_spans):
        if out and s <= end and (
            (enc.partial[i] and enc.partial[out[-1][-1]] and s < end)  # bytes of one character
            or (starts is not None and s < len(starts) and not starts[s])  # starts inside a cluster
        ):
            out[-1].append(i)
            end = max(end, e)
        else:
            out.append([i])
            end = e
    return out


def cluster_at(text: str, char: int) -> str:
    """The grapheme cluster of ``text`` that holds character ``char`` ("" when ``char`` is outside the text).

    >>> cluster_at("a 👩\u200d💻!", 3) == "👩\u200d💻", cluster_at("ab", 5)
    (True, '')
    """
    if not 0 <= char < len(text):
        return ""
    # Clusters are short: start a little before, at a place no cluster crosses (a line break), and walk forwards.
    start = max(text.rfind("\n", 0, max(char - 64, 0)) + 1, 0) if char > 64 else 0
    for m in _CLUSTER.finditer(text, start):
        if m.end() > char:
            return m.group()
    return ""
