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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from tokviz.core.encoding import Piece

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
    depth = _nesting(source)
    too_deep = (f"The pre-tokenizer regex nests groups {depth} deep (at most {MAX_NESTING} are accepted); "
                "simplify the pattern, e.g. drop redundant parentheses.")
    if depth > MAX_NESTING:
        raise ValueError(too_deep)
    try:
        compiled = regex.compile(source)
    except regex.error as e:
        raise ValueError(f"The pre-tokenizer regex does not compile ({e}); check brackets and escapes.") from e
    except RecursionError as e:  # the regex compiler recurses per nesting level (of groups, or of anything else)
        raise ValueError(too_deep) from e
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


#: Deepest group nesting accepted in a custom regex (the `regex` compiler recurses per level; 500 overflow it).
MAX_NESTING = 100


def _nesting(source: str) -> int:
    """The deepest nesting of parentheses in a regex, not counting escaped ones or ones inside a class."""
    depth = deepest = 0
    i, n = 0, len(source)
    in_class = False
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if source.startswith("]", i + 1) or source.startswith("^]", i + 1):
                i += 2 if source[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
        i += 1
    return deepest


def validate_special_tokens(special_tokens: object) -> list[str]:
    """The special tokens as a list of non-empty strings, or a ValueError saying how to give them.

    >>> validate_special_tokens(("<s>", "</s>"))
    ['<s>', '</s>']
    >>> validate_special_tokens("<s>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: special_tokens must be a list of strings, not the str '<s>' (...); write ['<s>'].
    """
    if special_tokens is None:
        return []
    if isinstance(special_tokens, (str, bytes)):
        shown = f"{special_tokens!r:.60}"
        raise ValueError(
            f"special_tokens must be a list of strings, not the {type(special_tokens).__name__} {shown} (which would "
            f"make each of its characters a special token); write [{shown}]."
        )
    try:
        tokens = list(special_tokens)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(
            f"special_tokens must be a list of strings, got {type(special_tokens).__name__}."
        ) from None
    for k, t in enumerate(tokens):
        if not isinstance(t, str):
            hint = " (decode bytes as UTF-8 first)" if isinstance(t, bytes) else ""
            raise ValueError(f"special token {k + 1} is {t!r:.60}, not a string{hint}; give each one as text.")
        if not t:
            raise ValueError(f"special token {k + 1} is the empty string; remove it from the special tokens.")
    return tokens


def compile_special(special_tokens: Sequence[str]) -> Any | None:
    """A regex matching any special token, longest first so the longest wins where two overlap."""
    specials = sorted(set(validate_special_tokens(special_tokens)), key=len, reverse=True)
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
        specials = tuple(validate_special_tokens(special_tokens))
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

        ``buffer`` is the start of a longer text whose rest is unknown; the cut holds whatever follows. Returns 0
        when no such position is known yet (more text is needed). Which cuts are proven safe depends on the pattern:

        - anywhere: the start of a special token (one pass splits the text there anyway);
        - named patterns: between a non-space character and a following ' ' (no named pattern puts the two in one
          piece, and a piece starting with ' ' does not depend on what precedes it);
        - a custom pattern without lookaround, anchors, word boundaries or backreferences (see
          :func:`is_context_free`): the end of a match, once every match attempt before it is shown to read no
          character past what the buffer holds (``fullmatch`` with ``partial=True`` finds no path reaching the
          end) and matching the part before the cut on its own gives the same matches;
        - any other custom pattern: only special tokens, since its matches may depend on text arbitrarily far away
          (``a(?=.*z)``); such text is matched whole.
        """
        margin = self._max_special if final_margin is None else final_margin
        limit = len(buffer) - margin - 1
        if limit <= 0:
            return 0
        spans = [m.span() for m in self._special_re.finditer(buffer)] if self._special_re is not None else []
        if self.name is None:
            return self._custom_cut(buffer, spans, limit)
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

    @functools.cached_property
    def context_free(self) -> bool:
        """Whether the pattern is custom and free of context-reading syntax, so verified cuts can be found in it."""
        return self.name is None and is_context_free(self.source)

    def _custom_cut(self, buffer: str, spans: list[tuple[int, int]], limit: int) -> int:
        starts = [s for s, _ in spans if 0 < s <= limit]
        best = starts[-1] if starts else 0
        if not self.context_free:
            return best
        # The stretch after the last special token that starts by the limit; it may go on past the buffer.
        seg_start = max((e for s, e in spans if s <= limit), default=0)
        if seg_start > limit:
            return best  # a special token covers the limit
        return max(best, self._verified_cut(buffer, seg_start, limit))

    def _verified_cut(self, buffer: str, start: int, limit: int) -> int:
        """The last match end p in (start, limit] of the stretch ``buffer[start:]`` that is a proven cut, or 0.

        Characters up to ``limit`` are known to belong to the stretch (a special token may begin after it). For a
        context-free pattern a match attempt's result depends only on the characters it reads, so p is proven when
        every attempt before it either reads nothing at or past p (``fullmatch`` with ``partial=True`` up to p finds
        no path reaching p: same result in the whole text and in the part before p alone), or reads nothing past
        ``limit`` and gives the same result when matched in the part before p alone.
        """
        compiled = self._compiled
        end = limit + 1
        budget = self.timeout + (end - start) * 1e-6
        try:
            spans = [m.span() for m in compiled.finditer(buffer, start, end, timeout=budget)]
            for _ in range(3):  # each failed candidate moves the cut before the attempt that failed it
                while spans and spans[-1][1] > limit:
                    spans.pop()
                if not spans:
                    return 0
                bad = self._first_unproven(buffer, spans, start, end, budget)
                if bad is None:
                    return spans[-1][1]
                spans = [sp for sp in spans if sp[1] <= bad]
        except TimeoutError as e:
            raise ValueError(
                "The pre-tokenizer regex took too long while looking for a place to cut the text (catastrophic "
                "backtracking); simplify the pattern, e.g. avoid nested or overlapping quantifiers such as (x|x)+."
            ) from e
        return 0

    def _first_unproven(self, buffer: str, spans: list[tuple[int, int]], start: int, end: int,
                        budget: float) -> int | None:
        """The first attempt before ``spans[-1]``'s end that does not prove that end a cut, or None if all do."""
        compiled = self._compiled
        fullmatch = compiled.fullmatch
        p = spans[-1][1]
        pos = start
        for s, e in spans:
            for a in range(pos, s + 1):  # failed attempts in the gap, then the match
                # Positional arguments: this call runs once per piece, and keywords cost as much as the match.
                if fullmatch(buffer, a, p, None, True, budget) is None:
                    continue
                if fullmatch(buffer, a, end, None, True, budget) is not None:
                    return a  # it may read past the known text
                alone = compiled.match(buffer, a, p, timeout=budget)
                if (alone.span() if alone is not None else None) != ((s, e) if a == s else None):
                    return a
            pos = e
        return None


# Escapes that match one character by its own properties: safe in a context-free pattern. Others (\b \B \A \Z \z
# \G \m \M \K \X, backreferences \1 \g \k, named lists \L) look at neighbours, at positions or at earlier groups.
_PLAIN_ESCAPES = frozenset("dDwWsSntrfva")
_QUANTIFIER = re.compile(r"\{\d*(?:,\d*)?\}")
_GROUP_NAME = re.compile(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")
_FLAG_GROUP = re.compile(r"\(\?[is]+[:)]")


def is_context_free(source: str) -> bool:
    r"""Whether every match attempt of ``source`` depends only on the characters it consumes.

    True for regexes built from literals, classes, ``.``, groups (plain, named, atomic, ``(?i)``/``(?s)``),
    alternation and quantifiers. False (conservatively) for anything else: lookaround, anchors, word boundaries,
    backreferences, recursion, conditionals, verbs, fuzzy matching, verbose mode, nested sets. Streaming can cut a
    context-free pattern's text at verified places; other patterns are matched over the whole text.

    >>> is_context_free(r"\w+|\s+|[^\w\s]+"), is_context_free(r"\w+(?=\s)|\w|\s"), is_context_free(r"^a|b")
    (True, False, False)
    """
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            step = _escape_length(source, i)
            if step == 0:
                return False
            i += step
        elif c == "[":
            j = i + 1
            if source.startswith("^", j):
                j += 1
            if source.startswith("]", j):
                j += 1
            while j < n and source[j] != "]":
                if source[j] == "[":
                    return False  # a nested set or POSIX class: not worth parsing
                if source[j] == "\\":
                    step = _escape_length(source, j)
                    if step == 0:
                        return False
                    j += step
                else:
                    j += 1
            if j >= n:
                return False
            i = j + 1
        elif c == "(":
            if source.startswith(("(?:", "(?>"), i):
                i += 3
            elif m := (_GROUP_NAME.match(source, i) or _FLAG_GROUP.match(source, i)):
                i = m.end()
            elif source.startswith(("(?", "(*"), i):
                return False
            else:
                i += 1
        elif c == "{":
            m = _QUANTIFIER.match(source, i)
            if m is None:
                return False  # fuzzy matching, or a literal brace: not worth telling apart
            i = m.end()
        elif c in "^$":
            return False
        else:
            i += 1
    return True


def _escape_length(source: str, i: int) -> int:
    """Characters taken by the escape at ``source[i]`` if it matches one character by itself, else 0."""
    nxt = source[i + 1 : i + 2]
    if not nxt:
        return 0
    if nxt in _PLAIN_ESCAPES:
        return 2
    if nxt in "pPN" or (nxt == "x" and source.startswith("{", i + 2)):
        if source.startswith("{", i + 2):
            close = source.find("}", i + 3)
            return 0 if close < 0 else close + 1 - i
        return 3 if nxt in "pP" else 0
    widths = {"x": 4, "u": 6, "U": 10}
    if nxt in widths:
        return widths[nxt]
    return 0 if nxt.isalnum() else 2


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
    chunks: Iterable[str], pretokenizer: PreTokenizer, *, target: int = 1 << 20, max_buffer: int | None = None
) -> Iterator[str]:
    """Re-cut a stream of text chunks at safe positions (:meth:`PreTokenizer.safe_cut`), each about ``target`` chars.

    Pre-tokenizing the yielded strings one by one gives exactly the pieces of pre-tokenizing their concatenation
    (which equals the concatenation of the input), for every pattern. Memory stays near ``target`` unless the text
    offers no safe cut: megabytes without a space, or a custom pattern with lookaround or anchors and no special
    tokens in the text, which is then held whole. Only a caller that accepts a rare wrong seam for bounded memory
    passes ``max_buffer``: a buffer that reaches it without a safe cut is cut anyway.

    >>> list(chunk_text(["ab cd", " ef"], PreTokenizer.create("gpt2"), target=2))
    ['ab', ' cd', ' ef']
    """
    buf = ""
    margin = pretokenizer._max_special
    retry_at = target  # after a failed search, wait until the buffer has doubled: repeated searches stay linear
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise ValueError(f"Expected text chunks (str), got {type(chunk).__name__}; open files in text mode.")
        buf += chunk
        while len(buf) >= max(target, retry_at):
            # Look for a cut near ``target`` (not at the end of the buffer), so chunks come out about that size
            # even when the input arrives in bigger blocks.
            window = target + margin + 1
            cut = pretokenizer.safe_cut(buf[:window] if len(buf) > window else buf)
            if cut == 0 and len(buf) > window:
                cut = pretokenizer.safe_cut(buf)
            if cut == 0:
                if max_buffer is None or len(buf) < max_buffer:
                    retry_at = 2 * len(buf)
                    break
                cut = len(buf) - margin - 1  # the caller chose bounded memory over an exact seam here
            retry_at = target
            yield buf[:cut]
            buf = buf[cut:]
    if buf:
        yield buf
