"""Hugging Face added tokens: strings cut out of the text before anything else, each one id, with their options.

``tokenizers`` finds them leftmost-longest (Aho-Corasick) and, per token:

- ``single_word``: only where no word character touches it on either side (else the text is left as it is);
- ``lstrip`` / ``rstrip``: the whitespace just before / after it belongs to it (it has no tokens of its own);
- ``normalized``: matched in the normalized text (its own content normalized too) rather than in the original;
- ``special``: matched like the others; it marks control tokens (BOS, EOS...) that a decoder may skip.

Ids are assigned as ``tokenizers`` assigns them when it reads a file: a token whose content is a key of the model's
vocabulary takes that id; any other takes the next id from the model vocabulary's size on, in file order (the ids
written in the file are only checked, with a warning, by ``tokenizers``). :func:`assign_ids` does this.

Example:
    >>> m = AddedTokenMatcher([AddedToken(7, "<s>", special=True), AddedToken(8, "hi", single_word=True)])
    >>> m.find("hi<s>high")
    [(8, 0, 2), (7, 2, 5), (None, 5, 9)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex

from tokviz.core.onig import RUST_SPACE, RUST_WORD

_WORD = regex.compile(RUST_WORD)
_SPACE = regex.compile(RUST_SPACE)


@dataclass(frozen=True)
class AddedToken:
    """One ``added_tokens`` entry of a ``tokenizer.json``, with the id ``tokenizers`` gives it."""

    id: int
    content: str
    special: bool = False
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: bool = False


def assign_ids(entries: Iterable[tuple[str, int]], model_vocab: Mapping[str, int]) -> dict[str, int]:
    """``content -> id`` for added tokens given as ``(content, id in the file)``, as ``tokenizers`` assigns them.

    >>> assign_ids([("<s>", 0), ("  ", 9), ("</s>", 5)], {"<s>": 0, "a": 1})
    {'<s>': 0, '  ': 2, '</s>': 3}
    """
    out: dict[str, int] = {}
    next_id = len(model_vocab)
    for content, _ in entries:
        if not content or content in out:
            continue
        known = model_vocab.get(content)
        if known is None:
            known, next_id = next_id, next_id + 1
        out[content] = known
    return out


class AddedTokenMatcher:
    """Finds added tokens in a text the way ``AddedVocabulary::find_matches`` does.

    ``patterns`` maps the string to look for to its token (a normalized token's content, normalized); by default
    each token's own content.
    """

    def __init__(self, tokens: Iterable[AddedToken], patterns: Mapping[str, AddedToken] | None = None) -> None:
        self.tokens = list(tokens)
        self._by_pattern: dict[str, AddedToken] = dict(patterns) if patterns is not None else {
            t.content: t for t in self.tokens}
        self._by_pattern.pop("", None)
        alternatives = sorted(self._by_pattern, key=len, reverse=True)  # longest first: leftmost-longest
        self._re = regex.compile("|".join(map(regex.escape, alternatives))) if alternatives else None
        self.max_len = max(map(len, alternatives), default=0)

    def __bool__(self) -> bool:
        return self._re is not None

    def find(self, text: str) -> list[tuple[int | None, int, int]]:
        """``(id or None, start, end)`` covering ``text``: each added token found, and the stretches between."""
        if self._re is None or not text:
            return [(None, 0, len(text))] if text else []
        out: list[tuple[int | None, int, int]] = []
        offset = 0
        n = len(text)
        for m in self._re.finditer(text):
            start, stop = m.span()
            tok = self._by_pattern[m.group()]
            if tok.single_word and (
                (start > 0 and _WORD.match(text, start - 1)) or (stop < n and _WORD.match(text, stop))
            ):
                continue  # touches a word: not this token here
            if tok.lstrip:
                s = start
                while s > 0 and _SPACE.match(text, s - 1):
                    s -= 1
                start = max(s, offset)  # spaces an earlier match already took stay with it
            if tok.rstrip:
                while stop < n and _SPACE.match(text, stop):
                    stop += 1
            if offset < start:
                out.append((None, offset, start))
            out.append((tok.id, start, stop))
            offset = stop
        if offset != n:
            out.append((None, offset, n))
        return out
