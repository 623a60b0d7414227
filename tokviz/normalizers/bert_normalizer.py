"""BERT's normalizer: drops control characters and turns whitespace into spaces (``clean_text``), puts spaces around
CJK ideographs (``handle_chinese_chars``), removes accents (NFD, then no nonspacing marks) and lowercases, with the
alignment back to the user's text. Characters are classed with Python's Unicode tables, the Rust crates with their
own, older ones: characters assigned in between may be classed differently.

Example:
    >>> BertNormalizer().normalize_text("Héllo")
    'hello'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

from tokviz.core.onig import RUST_SPACE
from tokviz.normalizers.components import Alignment, Lowercase, UnicodeForm, compose, identity_alignment

# CJK ideograph blocks, as BERT's original code and `tokenizers` list them.
_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


_CONTROL = frozenset(("Cc", "Cf", "Co"))


_NFD = UnicodeForm("NFD")


_LOWER = Lowercase()


_SPACE = regex.compile(RUST_SPACE)


def is_chinese_char(c: str) -> bool:
    """Whether ``c`` is a CJK ideograph (BERT puts spaces around each).

    >>> is_chinese_char("中"), is_chinese_char("あ")
    (True, False)
    """
    o = ord(c)
    return any(a <= o <= b for a, b in _CJK)


def _is_whitespace(c: str) -> bool:
    # Rust's char::is_whitespace: the White_Space property (not str.isspace, which also takes U+001C..U+001F).
    return _SPACE.match(c) is not None


def _dropped(c: str) -> bool:
    # NUL, U+FFFD and control characters (categories Cc, Cf, Co, except tab, newline and carriage return).
    return c == "\x00" or c == "\ufffd" or (c not in "\t\n\r" and unicodedata.category(c) in _CONTROL)


@dataclass(frozen=True)
class BertNormalizer:
    """``BertNormalizer``: clean_text, handle_chinese_chars, strip_accents (None: as ``lowercase``), lowercase.

    >>> BertNormalizer().normalize_text("Héllo\\t中文")
    'hello  中  文 '
    >>> BertNormalizer(lowercase=False).normalize("é!")
    ('é!', [(0, 1), (1, 2)])
    """

    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool | None = None
    lowercase: bool = True

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else self.strip_accents

    def normalize_text(self, text: str) -> str:
        if self.clean_text:
            text = "".join(" " if _is_whitespace(c) else c for c in text if not _dropped(c))
        if self.handle_chinese_chars and not text.isascii():
            text = "".join(f" {c} " if is_chinese_char(c) else c for c in text)
        if self.strips_accents and not text.isascii():
            text = "".join(c for c in _NFD.normalize_text(text) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            text = _LOWER.normalize_text(text)
        return text

    def normalize(self, text: str) -> tuple[str, Alignment]:
        n = len(text)
        align = identity_alignment(n)
        if self.clean_text:
            kept = [(i, " " if _is_whitespace(c) else c) for i, c in enumerate(text) if not _dropped(c)]
            text = "".join(c for _, c in kept)
            align = [(i, i + 1) for i, _ in kept]
        if self.handle_chinese_chars and not text.isascii():
            out: list[str] = []
            inner: Alignment = []
            for i, c in enumerate(text):
                if is_chinese_char(c):
                    out.append(f" {c} ")
                    inner.extend([(i, i + 1)] * 3)
                else:
                    out.append(c)
                    inner.append((i, i + 1))
            align = compose(align, inner, n)
            text = "".join(out)
        if self.strips_accents and not text.isascii():
            decomposed, inner = _NFD.normalize(text)
            keep = [k for k, c in enumerate(decomposed) if unicodedata.category(c) != "Mn"]
            align = compose(align, [inner[k] for k in keep], n)
            text = "".join(decomposed[k] for k in keep)
        if self.lowercase:
            text, inner = _LOWER.normalize(text)
            align = compose(align, inner, n)
        return text, align
