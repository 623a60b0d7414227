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

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from tokviz.encoding import Piece

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT4_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]"""
    r"""|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# ASCII twins for `re`. On ASCII text \p{L} is [A-Za-z], \p{N} is [0-9], and `regex`'s \s is [ \t\n\v\f\r]
# (unlike `re`'s \s, which also takes \x1c-\x1f, so it is spelled out). Lu/Ll/Lt/Lm/Lo/M reduce to A-Z / a-z.
_WS = r" \t\n\x0b\x0c\r"
_ASCII_GPT2 = rf"""'(?:[sdmt]|ll|ve|re)| ?[A-Za-z]+| ?[0-9]+| ?[^{_WS}A-Za-z0-9]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+"""
_ASCII_GPT4 = (
    rf"""'(?i:[sdmt]|ll|ve|re)|[^\r\nA-Za-z0-9]?+[A-Za-z]++|[0-9]{{1,3}}+| ?[^{_WS}A-Za-z0-9]++[\r\n]*+|[{_WS}]++\Z"""
    rf"""|[{_WS}]*[\r\n]|[{_WS}]+(?![^{_WS}])|[{_WS}]"""
)
_ASCII_O200K = "|".join(
    [
        r"""[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[0-9]{1,3}""",
        rf""" ?[^{_WS}A-Za-z0-9]+[\r\n/]*""",
        rf"""[{_WS}]*[\r\n]+""",
        rf"""[{_WS}]+(?![^{_WS}])""",
        rf"""[{_WS}]+""",
    ]
)

NAMED_PATTERNS: dict[str, str] = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN, "o200k": O200K_PATTERN}
_ASCII_TWINS: dict[str, str] = {"gpt2": _ASCII_GPT2, "gpt4": _ASCII_GPT4, "o200k": _ASCII_O200K}
# Aliases users meet in other tools.
_ALIASES = {"r50k": "gpt2", "r50k_base": "gpt2", "p50k_base": "gpt2", "cl100k": "gpt4", "cl100k_base": "gpt4",
            "o200k_base": "o200k"}

#: Seconds a custom regex may spend on one call before it is declared catastrophic.
DEFAULT_TIMEOUT = 2.0
# Strings a custom pattern must get through quickly when validated; the long runs expose nested quantifiers.
_PROBES = ("Hello, world! It's 2024... 123456 ", "a" * 4000 + "!", " " * 4000 + "x", "你好 🌍 Ünïcödé\n\t  \r\n")


def resolve_pattern(pattern: str) -> tuple[str, str | None]:
    """Return ``(regex_source, name)`` for a named pattern or alias, ``(pattern, None)`` for a custom one.

    >>> resolve_pattern("cl100k_base")[1]
    'gpt4'
    """
    key = _ALIASES.get(pattern, pattern)
    if key in NAMED_PATTERNS:
        return NAMED_PATTERNS[key], key
    for name, source in NAMED_PATTERNS.items():
        if pattern == source:
            return source, name
    return pattern, None


def compile_custom(source: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Compile and vet a user regex: it must compile, must not match the empty string, and must be quick.

    >>> compile_custom(r"\\w+|\\s+|[^\\w\\s]+").pattern
    '\\\\w+|\\\\s+|[^\\\\w\\\\s]+'
    """
    if not source:
        raise ValueError("The pre-tokenizer regex is empty: give a pattern such as 'gpt2', 'gpt4', 'o200k' or a regex.")
    try:
        compiled = regex.compile(source)
    except regex.error as e:
        raise ValueError(f"The pre-tokenizer regex does not compile ({e}); check brackets and escapes.") from e
    try:
        if compiled.fullmatch(""):
            raise ValueError(
                "The pre-tokenizer regex matches the empty string, so it cannot cut text into pieces; "
                "use + instead of * for at least one character per piece."
            )
        for probe in _PROBES:
            compiled.findall(probe, timeout=timeout)
    except TimeoutError as e:
        raise ValueError(
            f"The pre-tokenizer regex took over {timeout:g} s on a short test text (catastrophic backtracking); "
            "avoid nested quantifiers such as (a+)+."
        ) from e
    return compiled


def compile_special(special_tokens: Sequence[str]) -> Any | None:
    """A regex matching any special token, longest first so the longest wins where two overlap."""
    specials = sorted({s for s in special_tokens}, key=len, reverse=True)
    if any(not s for s in specials):
        raise ValueError("A special token is the empty string; remove it from the special tokens.")
    if not specials:
        return None
    return regex.compile("|".join(regex.escape(s) for s in specials))


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
    _compiled: Any = field(repr=False, compare=False)
    _ascii: Any = field(repr=False, compare=False)
    _special_re: Any = field(repr=False, compare=False)

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
            ascii_twin = None
        else:
            compiled = regex.compile(source)
            ascii_twin = re.compile(_ASCII_TWINS[name])
        specials = tuple(special_tokens or ())
        return cls(source, name, specials, timeout, compiled, ascii_twin, compile_special(specials))

    @property
    def label(self) -> str:
        """A short name for display: the pattern's name, or 'custom'."""
        return self.name or "custom"

    def findall(self, text: str) -> list[str]:
        """Pre-tokens of a text without special tokens; they concatenate back to ``text``."""
        if self._ascii is not None:
            if text.isascii():
                return self._ascii.findall(text)
            # Mostly-ASCII text (English with the odd "é" or emoji): run `re` on the ASCII stretches and `regex`
            # only on windows around the non-ASCII characters, cut at safe positions. Text with many non-ASCII
            # characters goes to `regex` whole, where the windows would only add overhead.
            if len(text.encode("utf-8")) - len(text) > len(text) >> 5:
                return self._compiled.findall(text)
            return self._findall_mixed(text)
        return self._custom_pieces(text)

    def _findall_mixed(self, text: str) -> list[str]:
        out: list[str] = []
        fast, slow = self._ascii.findall, self._compiled.findall
        pos = 0
        n = len(text)
        for s, e in _non_ascii_runs(text):
            if s < pos:
                continue  # inside the previous window already
            a = _safe_cut_before(text, pos, s)
            b = _safe_cut_after(text, e, n)
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
        budget = self.timeout + len(text) * 1e-6
        try:
            for m in self._compiled.finditer(text, timeout=budget):
                s, e = m.span()
                if s > pos:
                    out.append(text[pos:s])
                if e > s:
                    out.append(text[s:e])
                pos = max(pos, e)
        except TimeoutError as e:
            raise ValueError(
                f"The pre-tokenizer regex took over {budget:.1f} s on this text (catastrophic backtracking); "
                "simplify the pattern, e.g. avoid nested or overlapping quantifiers such as (x|x)+."
            ) from e
        if pos < len(text):
            out.append(text[pos:])
        return out

    def segments(self, text: str) -> list[tuple[str, bool]]:
        """Split on special tokens: ``[(segment, is_special), ...]`` in order, empty segments left out.

        >>> PreTokenizer.create("gpt2", special_tokens=["<s>"]).segments("a<s>b")
        [('a', False), ('<s>', True), ('b', False)]
        """
        if self._special_re is None:
            return [(text, False)] if text else []
        out: list[tuple[str, bool]] = []
        pos = 0
        for m in self._special_re.finditer(text):
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
        if self._special_re is None:
            return [text]
        return self._special_re.split(text)

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

    # -- chunking ----------------------------------------------------------------------------------------------
    def safe_cut(self, buffer: str, *, final_margin: int | None = None) -> int:
        """A position where ``buffer`` can be cut so that pieces on each side equal those of one pass over the whole.

        Returns 0 when no such position is known yet (more text is needed). Cuts fall at the start of a special
        token, or, for the named patterns, between a non-space character and a following ' ' (no named pattern puts
        those two in one piece). A custom pattern is cut before its last two matches, whose extent more text
        could change.
        """
        margin = self._max_special if final_margin is None else final_margin
        limit = len(buffer) - margin - 1
        if limit <= 0:
            return 0
        spans = [m.span() for m in self._special_re.finditer(buffer)] if self._special_re is not None else []
        if self.name is None:
            cut = self._custom_cut(buffer, spans, limit)
        else:
            cut = 0
            i = buffer.rfind(" ", 0, limit + 1)
            while i > 0:
                if not buffer[i - 1].isspace() and not _regex_space(buffer[i - 1]):
                    cut = i
                    break
                i = buffer.rfind(" ", 0, i)
        # Never cut inside a special token; its start is always safe and final once it lies before the margin.
        for s, e in spans:
            if s < cut < e:
                cut = s
                break
        if cut == 0 and spans:
            starts = [s for s, _ in spans if 0 < s <= limit]
            cut = starts[-1] if starts else 0
        return cut

    @property
    def _max_special(self) -> int:
        return max((len(s) for s in self.special_tokens), default=0)

    def _custom_cut(self, buffer: str, spans: list[tuple[int, int]], limit: int) -> int:
        # Before the first special token (or the whole buffer), take the start of the second-to-last match.
        end = spans[0][0] if spans else len(buffer)
        starts: list[int] = []
        try:
            for m in self._compiled.finditer(buffer, 0, end, timeout=self.timeout):
                starts.append(m.start())
        except TimeoutError as e:
            raise ValueError("The pre-tokenizer regex timed out; simplify the pattern.") from e
        good = [s for s in starts[:-2] if 0 < s <= limit]
        return good[-1] if good else 0


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _non_ascii_runs(text: str, *, block: int = 4096) -> Iterator[tuple[int, int]]:
    """Spans of non-ASCII runs; whole ASCII blocks are skipped with str.isascii(), far faster than a regex scan."""
    for s in range(0, len(text), block):
        if not text[s : s + block].isascii():
            for m in _NON_ASCII_RUN.finditer(text, s, s + block):
                yield m.span()


def _is_space(ch: str) -> bool:
    return ch.isspace() or _regex_space(ch)


def _safe_cut_before(text: str, lo: int, hi: int) -> int:
    """The last safe cut i in (lo, hi]: text[i] == " " and text[i-1] is not whitespace; else lo."""
    i = text.rfind(" ", lo + 1, hi + 1)
    while i > lo:
        if not _is_space(text[i - 1]):
            return i
        i = text.rfind(" ", lo + 1, i)
    return lo


def _safe_cut_after(text: str, lo: int, hi: int) -> int:
    """The first safe cut i in [lo, hi): text[i] == " " and text[i-1] is not whitespace; else hi."""
    i = text.find(" ", max(lo, 1), hi)
    while i != -1:
        if not _is_space(text[i - 1]):
            return i
        i = text.find(" ", i + 1, hi)
    return hi


_REGEX_SPACE = regex.compile(r"\s")


def _regex_space(ch: str) -> bool:
    # `regex`'s \s and str.isspace() differ on a few code points; treat either as whitespace to stay safe.
    return _REGEX_SPACE.match(ch) is not None


def chunk_text(
    chunks: Iterable[str], pretokenizer: PreTokenizer, *, target: int = 1 << 20, max_buffer: int = 64 << 20
) -> Iterator[str]:
    """Re-cut a stream of text chunks at safe positions, each roughly ``target`` characters.

    Pre-tokenizing the yielded strings one by one gives exactly the pieces of pre-tokenizing their concatenation
    (which equals the concatenation of the input). Memory stays near ``target`` unless the text offers no safe cut
    (for example megabytes without a space), where the buffer grows up to ``max_buffer`` and is then cut anyway.

    >>> list(chunk_text(["ab cd", " ef"], PreTokenizer.create("gpt2"), target=2))
    ['ab', ' cd', ' ef']
    """
    buf = ""
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise ValueError(f"Expected text chunks (str), got {type(chunk).__name__}; open files in text mode.")
        buf += chunk
        while len(buf) >= target:
            # Look for a cut near ``target`` (not at the end of the buffer), so chunks come out about that size
            # even when the input arrives in bigger blocks.
            window = target + pretokenizer._max_special + 1
            cut = pretokenizer.safe_cut(buf[:window] if len(buf) > window else buf)
            if cut == 0 and len(buf) > window:
                cut = pretokenizer.safe_cut(buf)
            if cut == 0:
                if len(buf) < max_buffer:
                    break
                cut = len(buf) - pretokenizer._max_special - 1  # no safe cut in 64 MB: accept a rare seam
            yield buf[:cut]
            buf = buf[cut:]
    if buf:
        yield buf
