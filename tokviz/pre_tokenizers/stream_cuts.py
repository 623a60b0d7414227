"""Where a stream of text can be cut so that pre-tokenizing the parts one by one gives exactly the pieces of one pass
over the whole: the proofs behind streaming a corpus, counting it in processes and re-encoding only what an edit
touches.

Example:
    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> list(chunk_text(["ab cd", " ef"], PreTokenizer.create("gpt2"), target=2))
    ['ab', ' cd', ' ef']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

def safe_cut(pt: PreTokenizer, buffer: str, *, final_margin: int | None = None) -> int:
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
    margin = pt.max_special_length if final_margin is None else final_margin
    limit = len(buffer) - margin - 1
    if limit <= 0:
        return 0
    spans = [m.span() for m in pt.special_re.finditer(buffer)] if pt.special_re is not None else []
    if pt.name is None:
        return _custom_cut(pt, buffer, spans, limit)
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


def _custom_cut(pt: PreTokenizer, buffer: str, spans: list[tuple[int, int]], limit: int) -> int:
    starts = [s for s, _ in spans if 0 < s <= limit]
    best = starts[-1] if starts else 0
    if not pt.context_free:
        return best
    # The stretch after the last special token that starts by the limit; it may go on past the buffer.
    seg_start = max((e for s, e in spans if s <= limit), default=0)
    if seg_start > limit:
        return best  # a special token covers the limit
    return max(best, _verified_cut(pt, buffer, seg_start, limit))


def _verified_cut(pt: PreTokenizer, buffer: str, start: int, limit: int) -> int:
    """The last match end p in (start, limit] of the stretch ``buffer[start:]`` that is a proven cut, or 0.

    Characters up to ``limit`` are known to belong to the stretch (a special token may begin after it). For a
    context-free pattern a match attempt's result depends only on the characters it reads, so p is proven when
    every attempt before it either reads nothing at or past p (``fullmatch`` with ``partial=True`` up to p finds
    no path reaching p: same result in the whole text and in the part before p alone), or reads nothing past
    ``limit`` and gives the same result when matched in the part before p alone.
    """
    compiled = pt.compiled
    end = limit + 1
    budget = pt.timeout + (end - start) * 1e-6
    try:
        spans = [m.span() for m in compiled.finditer(buffer, start, end, timeout=budget)]
        for _ in range(3):  # each failed candidate moves the cut before the attempt that failed it
            while spans and spans[-1][1] > limit:
                spans.pop()
            if not spans:
                return 0
            bad = _first_unproven(pt, buffer, spans, start, end, budget)
            if bad is None:
                return spans[-1][1]
            spans = [sp for sp in spans if sp[1] <= bad]
    except TimeoutError as e:
        raise ValueError(
            "The pre-tokenizer regex took too long while looking for a place to cut the text (catastrophic "
            "backtracking); simplify the pattern, e.g. avoid nested or overlapping quantifiers such as (x|x)+."
        ) from e
    return 0


def _first_unproven(pt: PreTokenizer, buffer: str, spans: list[tuple[int, int]], start: int, end: int,
                    budget: float) -> int | None:
    """The first attempt before ``spans[-1]``'s end that does not prove that end a cut, or None if all do."""
    compiled = pt.compiled
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


def non_ascii_runs(text: str, *, block: int = 4096) -> Iterator[tuple[int, int]]:
    """Spans of non-ASCII runs; whole ASCII blocks are skipped with str.isascii(), far faster than a regex scan."""
    for s in range(0, len(text), block):
        if not text[s : s + block].isascii():
            for m in _NON_ASCII_RUN.finditer(text, s, s + block):
                yield m.span()


def _is_space(ch: str) -> bool:
    return ch.isspace() or _regex_space(ch)


def space_cut_before(text: str, lo: int, hi: int) -> int:
    """The last safe cut i in (lo, hi]: text[i] == " " and text[i-1] is not whitespace; else lo."""
    i = text.rfind(" ", lo + 1, hi + 1)
    while i > lo:
        if not _is_space(text[i - 1]):
            return i
        i = text.rfind(" ", lo + 1, i)
    return lo


def space_cut_after(text: str, lo: int, hi: int) -> int:
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

    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> list(chunk_text(["ab cd", " ef"], PreTokenizer.create("gpt2"), target=2))
    ['ab', ' cd', ' ef']
    """
    buf = ""
    margin = pretokenizer.max_special_length
    retry_at = target  # after a failed search, wait until the buffer has doubled: repeated searches stay linear
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise ValueError(f"Expected text chunks (str), got {type(chunk).__name__}; open files in text mode.")
        buf += chunk
        while len(buf) >= max(target, retry_at):
            # Look for a cut near ``target`` (not at the end of the buffer), so chunks come out about that size
            # even when the input arrives in bigger blocks.
            window = target + margin + 1
            cut = safe_cut(pretokenizer, buf[:window] if len(buf) > window else buf)
            if cut == 0 and len(buf) > window:
                cut = safe_cut(pretokenizer, buf)
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
