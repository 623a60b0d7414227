"""Text normalizers as Hugging Face ``tokenizers`` runs them, each keeping where every character came from.

A normalizer turns text into the text the model sees: Unicode forms (NFC, NFD, NFKC, NFKD), lowercasing, stripping
whitespace, replacing a string or regex, prepending a string, or a sequence of these. ``normalize(text)`` returns
the new text with its **alignment**: for each character of the new text, the ``(start, end)`` range of characters of
``text`` it came from, so offsets can be drawn over the user's own text. ``normalize_text`` gives the text alone (the
fast path for ids).

How characters are aligned (the same as ``tokenizers`` except where noted):

- a character that becomes several (NFD ``é`` -> ``e`` + U+0301, NFKC ``ﬁ`` -> ``fi``, lowercase ``İ`` -> ``i̇``):
  each new character points at the one it came from;
- several that become one (NFC ``e`` + U+0301 -> ``é``), and a Unicode form in general, align per *segment* (a
  starter and the marks after it): every new character points at the whole segment. ``tokenizers`` points a
  composed character at the first character only; we take the whole segment so no original character is lost;
- Replace: the replacement points at the whole match (``tokenizers``: its last character); an empty match's
  replacement gets an empty range at the match;
- Prepend: the prepended characters get an empty range before the first character (``tokenizers``: the first
  character's range), like the prefix space of :mod:`tokviz.pipelines.prefix_space`;
- Strip: removed characters simply have no new character pointing at them.

Where Python's Unicode tables may differ from the Rust library's: Unicode forms use ``unicodedata`` (Python 3.11:
Unicode 14.0) where ``tokenizers`` uses the ``unicode-normalization-alignments`` crate (its own, older tables);
Lowercase uses Python's per-character ``str.lower`` (full case mapping, like Rust's ``char::to_lowercase``, and
deliberately per character: Python's ``"ΑΣ".lower()`` gives a final sigma, Rust does not) with Python's Unicode
version against Rust's; whitespace is Unicode's White_Space property (``char::is_whitespace``), never
``str.isspace``. Characters assigned after the older of two versions may normalize or lowercase differently.

Example:
    >>> text, align = Sequence([NFKC(), Lowercase()]).normalize("ﬁX")
    >>> text, align
    ('fix', [(0, 1), (0, 1), (1, 2)])
    >>> Replace(pattern=" ", content="▁").normalize_text("a b")
    'a▁b'
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import regex

from tokviz.core.onig import RUST_SPACE, onig_spans
from tokviz.core.regex_budget import compile_budgeted, deadline_left, stopped_with_message

#: For each character of a normalized text, the ``[start, end)`` characters of the input it came from.
Alignment = list[tuple[int, int]]

_SPACE = regex.compile(RUST_SPACE)


class Normalizer(Protocol):
    """Turns text into the text a model sees, optionally reporting where each character came from."""

    def normalize_text(self, text: str) -> str: ...

    def normalize(self, text: str) -> tuple[str, Alignment]: ...


def identity_alignment(n: int) -> Alignment:
    """Each of ``n`` characters comes from itself.

    >>> identity_alignment(2)
    [(0, 1), (1, 2)]
    """
    return [(i, i + 1) for i in range(n)]


def normalize_at(normalizer: Normalizer | None, text: str, start: int, end: int) -> tuple[str, Alignment]:
    """``text[start:end]`` normalized, with the alignment of each output character given as spans of ``text``
    itself (no normalizer: the stretch unchanged, each character its own span).

    >>> normalize_at(None, "abcd", 1, 3)
    ('bc', [(1, 2), (2, 3)])
    >>> normalize_at(Lowercase(), "xAB", 1, 3)
    ('ab', [(1, 2), (2, 3)])
    """
    if normalizer is None:
        return text[start:end], [(i, i + 1) for i in range(start, end)]
    seg, align = normalizer.normalize(text[start:end])
    return seg, [(a + start, b + start) for a, b in align]


def compose(outer: Alignment, inner: Alignment, n_input: int) -> Alignment:
    """The alignment of two normalizers run one after the other: ``inner`` maps the second's output to its input
    (the first's output), ``outer`` maps that to the original text of ``n_input`` characters.

    >>> compose([(0, 2), (0, 2), (2, 3)], [(1, 2), (2, 3)], 3)
    [(0, 2), (2, 3)]
    """
    out: Alignment = []
    n = len(outer)
    for s, e in inner:
        if s < e:
            out.append((outer[s][0], outer[e - 1][1]))
        else:  # an empty range: a point between characters of the first output
            p = outer[s][0] if s < n else (outer[-1][1] if outer else n_input)
            out.append((p, p))
    return out


# -- Unicode forms -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnicodeForm:
    """NFC, NFD, NFKC or NFKD (``unicodedata.normalize``), aligned per starter-and-marks segment."""

    form: Literal["NFC", "NFD", "NFKC", "NFKD"]

    def normalize_text(self, text: str) -> str:
        if text.isascii():
            return text
        return unicodedata.normalize(self.form, text)

    def normalize(self, text: str) -> tuple[str, Alignment]:
        if text.isascii() or unicodedata.is_normalized(self.form, text):
            return text, identity_alignment(len(text))
        whole = unicodedata.normalize(self.form, text)
        # Work word by word (a space or newline never composes with what precedes it), and align in detail only
        # the words that change; the concatenation is checked against the whole text's normalization.
        parts: list[str] = []
        align: Alignment = []
        for m in _WORDS.finditer(text):
            a, b = m.span()
            word = m.group()
            if word.isascii() or unicodedata.is_normalized(self.form, word):
                parts.append(word)
                align.extend((i, i + 1) for i in range(a, b))
            else:
                part, inner = self._aligned(word)
                parts.append(part)
                align.extend((x + a, y + a) for x, y in inner)
        if "".join(parts) != whole:
            _, align = self._aligned(text)
        return whole, align

    def _aligned(self, text: str) -> tuple[str, Alignment]:
        """``text`` normalized, aligned as ``tokenizers`` aligns it: per character for the decompositions, per
        starter-and-marks segment for the compositions."""
        if self.form in ("NFD", "NFKD"):
            return _decomposed(text, self.form)
        whole = unicodedata.normalize(self.form, text)
        bounds = _segments(text)
        parts = [unicodedata.normalize(self.form, text[a:b]) for a, b in zip(bounds, bounds[1:])]
        if "".join(parts) != whole:
            # A few scripts compose across starters (Hangul jamo, some Indic vowel signs): join segments whose
            # normalization is not the concatenation of theirs, then check again; at worst one segment remains.
            bounds = _joined(text, bounds, self.form)
            parts = [unicodedata.normalize(self.form, text[a:b]) for a, b in zip(bounds, bounds[1:])]
            if "".join(parts) != whole:
                bounds, parts = [0, len(text)], [whole]
        align: Alignment = []
        for (a, b), part in zip(zip(bounds, bounds[1:]), parts):
            if part == text[a:b]:
                align.extend((i, i + 1) for i in range(a, b))
            else:
                align.extend([(a, b)] * len(part))
        return whole, align


_WORDS = regex.compile(r"[ \n]?[^ \n]*")


def NFC() -> UnicodeForm:  # noqa: N802 - named as in tokenizer.json
    """Canonical composition."""
    return UnicodeForm("NFC")


def NFD() -> UnicodeForm:  # noqa: N802
    """Canonical decomposition."""
    return UnicodeForm("NFD")


def NFKC() -> UnicodeForm:  # noqa: N802
    """Compatibility composition (``ﬁ`` -> ``fi``, full-width -> ASCII)."""
    return UnicodeForm("NFKC")


def NFKD() -> UnicodeForm:  # noqa: N802
    """Compatibility decomposition."""
    return UnicodeForm("NFKD")


def _decomposed(text: str, form: Literal["NFC", "NFD", "NFKC", "NFKD"]) -> tuple[str, Alignment]:
    """NFD or NFKD of ``text`` with the alignment ``tokenizers`` gives it.

    Each character is decomposed on its own; the first character of its decomposition stands for it and the others
    are inserted after it. Canonical ordering then sorts each run of combining marks by class, and each character
    carries that role along. Read in the new order, a character that stands for one takes the next original
    character; an inserted one takes the same character as the one before it. So in ``"é\u0323"`` (NFD
    ``"e\u0323\u0301"``) the acute accent, moved behind the dot, is aligned with the dot.

    >>> text, align = _decomposed("\u00c0\u0301b", "NFD")
    >>> text == "A\u0300\u0301b", align
    (True, [(0, 1), (0, 1), (1, 2), (2, 3)])
    """
    items: list[tuple[str, bool]] = [
        (ch, k == 0) for c in text for k, ch in enumerate(unicodedata.normalize(form, c))]
    combining = unicodedata.combining
    ordered: list[tuple[str, bool]] = []
    i, n = 0, len(items)
    while i < n:
        if not combining(items[i][0]):
            ordered.append(items[i])
            i += 1
            continue
        j = i
        while j < n and combining(items[j][0]):
            j += 1
        ordered.extend(sorted(items[i:j], key=lambda item: combining(item[0])))  # stable, as canonical ordering is
        i = j
    align: Alignment = []
    at = -1
    for _, stands_for_one in ordered:
        at += stands_for_one
        align.append((at, at + 1))
    return "".join(ch for ch, _ in ordered), align


def _segments(text: str) -> list[int]:
    """Cut positions before every starter (canonical combining class 0), plus 0 and ``len(text)``."""
    bounds = [0]
    combining = unicodedata.combining
    for i in range(1, len(text)):
        if not combining(text[i]):
            bounds.append(i)
    bounds.append(len(text))
    return bounds


def _joined(text: str, bounds: list[int], form: Literal["NFC", "NFD", "NFKC", "NFKD"]) -> list[int]:
    out = [bounds[0]]
    for k in range(1, len(bounds) - 1):
        a, b, c = out[-1], bounds[k], bounds[k + 1]
        left, right = text[a:b], text[b:c]
        if unicodedata.normalize(form, left + right) == (unicodedata.normalize(form, left)
                                                          + unicodedata.normalize(form, right)):
            out.append(b)
    out.append(bounds[-1])
    return out


# -- Lowercase, Strip ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lowercase:
    """Full lowercase mapping per character (``İ`` -> ``i̇``, two characters)."""

    def normalize_text(self, text: str) -> str:
        low = text.lower()
        if len(low) == len(text) and "Σ" not in text:
            return low
        return "".join([c.lower() for c in text])

    def normalize(self, text: str) -> tuple[str, Alignment]:
        out = self.normalize_text(text)
        if len(out) == len(text):
            return out, identity_alignment(len(text))
        align: Alignment = []
        for i, c in enumerate(text):
            align.extend([(i, i + 1)] * len(c.lower()))
        return out, align


@dataclass(frozen=True)
class Strip:
    """Remove White_Space at the left and/or right end."""

    left: bool = True
    right: bool = True

    def _bounds(self, text: str) -> tuple[int, int]:
        a, b = 0, len(text)
        if self.left:
            while a < b and _SPACE.match(text, a):
                a += 1
        if self.right:
            while b > a and _SPACE.match(text, b - 1):
                b -= 1
        return a, b

    def normalize_text(self, text: str) -> str:
        a, b = self._bounds(text)
        return text[a:b]

    def normalize(self, text: str) -> tuple[str, Alignment]:
        a, b = self._bounds(text)
        return text[a:b], [(i, i + 1) for i in range(a, b)]


# -- Replace, Prepend ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Replace:
    """Replace every match of a string or regex (``tokenizers``' Oniguruma semantics) by ``content``; the same
    step is ``tokenizers``' Replace decoder (:class:`tokviz.pipelines.decoders.ReplaceDecoder`), named ``what`` in
    messages."""

    pattern: str
    content: str
    is_regex: bool = False
    what: str = field(default="Replace pattern", repr=False, compare=False)
    _compiled: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.is_regex:
            compiled = compile_budgeted(self.pattern, what=self.what)
        else:
            compiled = regex.compile(regex.escape(self.pattern))  # a literal: no repeats, nothing to budget
        object.__setattr__(self, "_compiled", compiled)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        if not self.is_regex:
            # An empty string pattern matches nothing in `tokenizers`; a literal is found in linear time.
            return onig_spans(self._compiled, text) if self.pattern else []
        with stopped_with_message(self.pattern, what=self.what, length=len(text)) as budget:
            return onig_spans(self._compiled, text, timeout=budget)

    def normalize_text(self, text: str) -> str:
        return self.replaced(text, self._spans(text))

    def replaced(self, text: str, spans: list[tuple[int, int]]) -> str:
        """``text`` with each of ``spans`` (matches, in order) replaced by ``content``."""
        if not spans:
            return text
        out: list[str] = []
        pos = 0
        for s, e in spans:
            out.append(text[pos:s])
            out.append(self.content)
            pos = e
        out.append(text[pos:])
        return "".join(out)

    def replaced_all(self, texts: Seq[str]) -> list[str]:
        """Each of ``texts`` replaced, the regex matching under one budget for all of them (a decoder's pieces).

        >>> Replace("▁", " ").replaced_all(["▁a", "b▁"])
        [' a', 'b ']
        """
        if not self.is_regex:
            return [self.replaced(t, onig_spans(self._compiled, t)) if self.pattern else t for t in texts]
        with stopped_with_message(self.pattern, what=self.what, length=sum(map(len, texts))) as budget:
            deadline = time.monotonic() + budget
            return [self.replaced(t, onig_spans(self._compiled, t, timeout=deadline_left(deadline))) for t in texts]

    def normalize(self, text: str) -> tuple[str, Alignment]:
        spans = self._spans(text)
        out: list[str] = []
        align: Alignment = []
        pos = 0
        for s, e in spans:
            out.append(text[pos:s])
            align.extend((i, i + 1) for i in range(pos, s))
            out.append(self.content)
            align.extend([(s, e)] * len(self.content))
            pos = e
        out.append(text[pos:])
        align.extend((i, i + 1) for i in range(pos, len(text)))
        return "".join(out), align


@dataclass(frozen=True)
class Prepend:
    """Put ``prepend`` before a non-empty text (SentencePiece-style ``▁``)."""

    prepend: str

    def normalize_text(self, text: str) -> str:
        return self.prepend + text if text else text

    def normalize(self, text: str) -> tuple[str, Alignment]:
        if not text:
            return text, []
        return self.prepend + text, [(0, 0)] * len(self.prepend) + identity_alignment(len(text))


# -- Sequence ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sequence:
    """Normalizers run one after the other; the alignments compose."""

    steps: Seq[Normalizer]

    def normalize_text(self, text: str) -> str:
        for step in self.steps:
            text = step.normalize_text(text)
        return text

    def normalize(self, text: str) -> tuple[str, Alignment]:
        n = len(text)
        align = identity_alignment(n)
        for step in self.steps:
            text, inner = step.normalize(text)
            align = compose(align, inner, n)
        return text, align
