"""Pre-tokenization: split text into the pieces BPE works inside.

Special tokens split the text first (longest special wins where two overlap); every other stretch is cut by a regex:
one of the named patterns (GPT-2's, GPT-4's cl100k, GPT-4o's o200k) or a user regex, which is validated and run under
the ``regex`` module's timeout so a catastrophic pattern cannot hang the process.

The named patterns also have an ASCII twin for the standard library's ``re``, which runs about twice as fast as
``regex``; it is used only on pure-ASCII text, where both give the same pieces (tests prove it on random text).

Example:
    >>> pt = PreTokenizer.create("gpt2", special_tokens=["<|endoftext|>"])
    >>> [p.text for p in pt.split("hello world<|endoftext|>1234")]
    ['hello', ' world', '<|endoftext|>', '1234']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from tokviz.core.encoding import Piece
from tokviz.core.regex_budget import stopped_with_message
from tokviz.pre_tokenizers.custom import DEFAULT_TIMEOUT, compile_custom
from tokviz.pre_tokenizers.patterns import ASCII_TWINS, RANK_FILE_PATTERNS, resolve_pattern
from tokviz.pre_tokenizers.specials import compile_special, validate_special_tokens
from tokviz.pre_tokenizers.stream_cuts import (
    is_context_free,
    non_ascii_runs,
    safe_cut,
    space_cut_after,
    space_cut_before,
)
from tokviz.pre_tokenizers.unicode_pins import PinnedPattern


@dataclass(frozen=True)
class PreTokenizer:
    """A compiled pre-tokenizer: the pattern, its ASCII twin if it has one, and the special tokens.

    >>> PreTokenizer.create("gpt4").findall("1234567890")
    ['123', '456', '789', '0']
    """

    source: str
    name: str | None
    special_tokens: tuple[str, ...]
    timeout: float
    compiled: Any = field(repr=False, compare=False)
    ascii_twin: Any = field(repr=False, compare=False)
    special_re: Any = field(repr=False, compare=False)

    @classmethod
    def create(
        cls, pattern: str = "gpt2", *, special_tokens: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> PreTokenizer:
        """Build from a name ('gpt2', 'gpt4', 'o200k', or an alias) or a regex; raises ValueError if unusable."""
        if not isinstance(pattern, str):
            raise ValueError(f"pattern must be a name or a regex string, not {type(pattern).__name__}.")
        source, name = resolve_pattern(pattern)
        if name is None:
            compiled = compile_custom(source, timeout=timeout)
            if source in RANK_FILE_PATTERNS.values():  # a rank file's own pattern: tiktoken's tables, as above
                compiled = PinnedPattern(compiled)
            ascii_twin = None
        else:
            # Classed by the reference engine's Unicode tables (tiktoken's), not by `regex`'s newer ones.
            compiled = PinnedPattern(regex.compile(source))
            ascii_twin = re.compile(ASCII_TWINS[name])
        specials = tuple(validate_special_tokens(special_tokens))
        return cls(source, name, specials, timeout, compiled, ascii_twin, compile_special(specials))

    @property
    def label(self) -> str:
        """A short name for display: the pattern's name, or 'custom'."""
        return self.name or "custom"

    def findall(self, text: str) -> list[str]:
        """Pre-tokens of a text without special tokens; they concatenate back to ``text``."""
        if self.ascii_twin is not None:
            if text.isascii():
                return self.ascii_twin.findall(text)
            # Mostly-ASCII text (English with the odd "é" or emoji): run `re` on the ASCII stretches and `regex`
            # only on windows around the non-ASCII characters, cut at safe positions. Text with many non-ASCII
            # characters goes to `regex` whole, where the windows would only add overhead.
            if len(text.encode("utf-8")) - len(text) > len(text) >> 5:
                return self.compiled.findall(text)
            return self._findall_mixed(text)
        return self._custom_pieces(text)

    def _findall_mixed(self, text: str) -> list[str]:
        out: list[str] = []
        fast, slow = self.ascii_twin.findall, self.compiled.findall
        pos = 0
        n = len(text)
        for s, e in non_ascii_runs(text):
            if s < pos:
                continue  # inside the previous window already
            a = space_cut_before(text, pos, s)
            b = space_cut_after(text, e, n)
            if a > pos:
                out += fast(text[pos:a])
            out += slow(text[a:b])
            pos = b
        if pos < n:
            out += fast(text[pos:])
        return out

    def _custom_pieces(self, text: str) -> list[str]:
        # A user regex need not cover every character; the gaps become pieces of their own, so nothing is lost.
        out: list[str] = []
        pos = 0
        # The budget grows with the text (1 s per million characters) so only pathological patterns hit it.
        with stopped_with_message(self.source, what="pre-tokenizer regex", length=len(text), base=self.timeout) as b:
            for m in self.compiled.finditer(text, timeout=b):
                s, e = m.span()
                if s > pos:
                    out.append(text[pos:s])
                if e > s:
                    out.append(text[s:e])
                pos = max(pos, e)
        if pos < len(text):
            out.append(text[pos:])
        return out

    def segments(self, text: str) -> list[tuple[str, bool]]:
        """Split on special tokens: ``[(segment, is_special), ...]`` in order, empty segments left out.

        >>> PreTokenizer.create("gpt2", special_tokens=["<s>"]).segments("a<s>b")
        [('a', False), ('<s>', True), ('b', False)]
        """
        if self.special_re is None:
            return [(text, False)] if text else []
        out: list[tuple[str, bool]] = []
        pos = 0
        for m in self.special_re.finditer(text):
            s, e = m.span()
            if s > pos:
                out.append((text[pos:s], False))
            out.append((m.group(), True))
            pos = e
        if pos < len(text):
            out.append((text[pos:], False))
        return out

    def split_on_specials(self, text: str) -> list[str]:
        """The stretches between special tokens (the specials themselves dropped), for counting."""
        if self.special_re is None:
            return [text]
        return self.special_re.split(text)

    def split(self, text: str) -> list[Piece]:
        """Pieces with character spans, special tokens marked; they cover ``text`` in order without gaps."""
        out: list[Piece] = []
        pos = 0
        for seg, is_special in self.segments(text):
            if is_special:
                out.append(Piece(seg, pos, pos + len(seg), True))
                pos += len(seg)
                continue
            for p in self.findall(seg):
                out.append(Piece(p, pos, pos + len(p)))
                pos += len(p)
        return out

    def iter_pieces(self, text: str) -> Iterator[tuple[str, bool]]:
        """``(piece, is_special)`` pairs; cheaper than :meth:`split` when spans are not needed."""
        for seg, is_special in self.segments(text):
            if is_special:
                yield seg, True
            else:
                for p in self.findall(seg):
                    yield p, False

    def safe_cut(self, buffer: str, *, final_margin: int | None = None) -> int:
        """A position where ``buffer`` can be cut so that pieces on each side equal those of one pass over the whole
        (:func:`tokviz.pre_tokenizers.stream_cuts.safe_cut`); 0 when none is known yet."""
        return safe_cut(self, buffer, final_margin=final_margin)

    # -- chunking ----------------------------------------------------------------------------------------------

    @property
    def max_special_length(self) -> int:
        """Length of the longest special token (0 without any): how far a cut must stay from a buffer's end."""
        return max((len(s) for s in self.special_tokens), default=0)

    @functools.cached_property
    def context_free(self) -> bool:
        """Whether the pattern is custom and free of context-reading syntax, so verified cuts can be found in it."""
        return self.name is None and is_context_free(self.source)



