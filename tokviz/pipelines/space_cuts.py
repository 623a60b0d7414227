"""Streaming the character-level families (WordPiece, Unigram, SentencePiece-style BPE, CLIP) in bounded parts: cut
only right before a space that follows a printable ASCII character, and only where the pipeline's steps are ones a
cut there cannot change.

Why such a cut is exact, step by step (each claim is checked on drawn text by the tests against encoding whole):

- the space at the cut is its own extended grapheme cluster and its own Unicode-normalization segment (no ASCII
  printable character extends or composes with a following space, and a space extends nothing), so the normalizers
  that work character by character or cluster by cluster (NFC/NFD/NFKC/NFKD, Lowercase, BertNormalizer,
  StripAccents, Precompiled, Nmt) give the same text on each side as over the whole; a Replace whose pattern only
  matches whitespace matches within a run of whitespace, and the run at the cut starts there, so it lies wholly on
  the right; its replacement must start with a character the first step still splits at (whitespace, or Metaspace's
  own ``▁``): ``Replace(" ", "")`` would join the words on either side of the cut into one piece;
- a first pre-tokenizer step that splits at whitespace (BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace
  with ``split``) cuts the whole text there too, dropping the space or starting the next piece with it (Metaspace's
  ``▁``, which is not prepended again to a text that starts with one); the later steps work inside each piece;
- the model cuts each piece on its own.

Normalizers that look at where a text starts or ends (Prepend, Strip) and pipelines without a whitespace split first
are not cut here: their callers keep their own, coarser, safe places (after an added token) or encode whole.

Example:
    >>> [p for p, _ in stream_parts(["one two, three", " four"], target=4)]
    ['one', ' two,', ' three four']
    >>> space_cut("a  b c", 0, 6)
    4
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from tokviz.pre_tokenizers.bert_split import BertPreTokenizer
from tokviz.pre_tokenizers.metaspace import Metaspace
from tokviz.pre_tokenizers.splits import PatternSplit, Whitespace, WhitespaceSplit

#: Normalizers that work character by character (or grapheme by grapheme): named by class, as the classes live in
#: two layers (normalizers and formats).
_LOCAL_NORMALIZERS = frozenset({"UnicodeForm", "Lowercase", "BertNormalizer", "StripAccents", "Precompiled", "Nmt"})
#: A Replace pattern that can only match whitespace: spaces, tabs, newlines, ``\s`` and classes of them, repeated.
_WHITESPACE_ONLY = re.compile(r"(?:\\s|[ \t\n]|\\[tn]|\[(?:\\s|[ \t\n]|\\[tn])+\]|[+*?]|\{\d*,?\d*\})+")


def space_cut(buf: str, lo: int, hi: int) -> int:
    """The last position ``p`` in ``[lo, hi]`` (``p > 0``) where ``buf[p]`` is a space and ``buf[p - 1]`` a printable
    ASCII character other than a space; 0 when there is none."""
    i = buf.rfind(" ", max(lo, 1), hi + 1)
    while i > 0:
        if "!" <= buf[i - 1] <= "~":
            return i
        i = buf.rfind(" ", max(lo, 1), i)
    return 0


def stream_parts(chunks: Iterable[str], *, target: int = 1 << 16, margin: int = 0,
                 allowed: Callable[[str, int], bool] | None = None) -> Iterator[tuple[str, bool]]:
    """The joined ``chunks`` as ``(part, first)`` pairs, cut at :func:`space_cut` positions about ``target``
    characters apart; ``first`` is True for the part that starts the text. A cut keeps ``margin`` characters after
    it in the buffer (for ``allowed``, which may refuse a position, e.g. one near an added token). A text that offers
    no cut is held until it does (or ends)."""
    pending: list[str] = []
    size = 0
    first = True
    retry_at = target
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise ValueError(f"encode_iterable expects str chunks, got {type(chunk).__name__}.")
        pending.append(chunk)
        size += len(chunk)
        if size < max(target, retry_at):
            continue
        # Joined once, then cut by position: slicing the rest off after each part would copy a big chunk again
        # and again (quadratic in its size).
        buf = "".join(pending)
        start = 0
        while len(buf) - start >= max(target, retry_at):
            limit = len(buf) - margin - 1
            cut = (_find(buf, start + 1, min(start + target, limit), allowed)
                   or _find_after(buf, start + target, limit, allowed))
            if not cut:
                retry_at = 2 * (len(buf) - start)  # wait for more text: repeated searches stay linear
                break
            retry_at = target
            yield buf[start:cut], first
            first = False
            start = cut
        rest = buf[start:]
        pending = [rest] if rest else []
        size = len(rest)
    buf = "".join(pending)
    if buf or first:
        yield buf, first


def _find(buf: str, lo: int, hi: int, allowed: Callable[[str, int], bool] | None) -> int:
    """The last allowed :func:`space_cut` in ``[lo, hi]``, or 0."""
    while hi >= lo:
        p = space_cut(buf, lo, hi)
        if not p or allowed is None or allowed(buf, p):
            return p
        hi = p - 1
    return 0


def _find_after(buf: str, lo: int, hi: int, allowed: Callable[[str, int], bool] | None) -> int:
    """The first allowed :func:`space_cut` in ``[lo, hi]``, or 0 (a part as short as the text allows)."""
    i = buf.find(" ", max(lo, 1), hi + 1)
    while i > 0:
        if "!" <= buf[i - 1] <= "~" and (allowed is None or allowed(buf, i)):
            return i
        i = buf.find(" ", i + 1, hi + 1)
    return 0


def cuts_at_spaces(normalizer: object | None, first_step: object | None) -> bool:
    """Whether a pipeline with this normalizer and first pre-tokenizer step may be cut by :func:`stream_parts` (see
    the module docstring).

    >>> from tokviz.normalizers.components import Replace
    >>> cuts_at_spaces(Replace(" ", "▁"), Metaspace()), cuts_at_spaces(Replace(" ", "▁"), WhitespaceSplit())
    (True, False)
    """
    marks = split_marks(first_step)
    return marks is not None and local_normalizer(normalizer, marks=marks)


def split_marks(step: object | None) -> str | None:
    """Characters besides whitespace that ``step`` (a first pre-tokenizer step) splits at, or None when it does not
    split at whitespace (then a cut could join or part its pieces)."""
    if isinstance(step, Metaspace):
        return step.replacement if step.split else None
    if isinstance(step, BertPreTokenizer):
        return ""
    splitter = getattr(step, "splitter", None)
    return "" if isinstance(splitter, PatternSplit) and splitter in _SPACE_SPLITTERS else None


def local_normalizer(normalizer: object | None, *, marks: str = "") -> bool:
    """Whether ``normalizer`` gives the same text on each side of a :func:`space_cut` as over the whole, and a text
    that still starts with whitespace (or one of ``marks``) on the right: None, the character-by-character
    normalizers, a Replace of whitespace only by a text that starts so, and Sequences of them.

    >>> from tokviz.normalizers.components import NFC, Prepend, Replace, Sequence
    >>> local_normalizer(Sequence([NFC(), Replace(" {2,}", " ", is_regex=True)])), local_normalizer(Prepend("▁"))
    (True, False)
    >>> [local_normalizer(Replace(" ", "")), local_normalizer(Replace(" ", "▁")),
    ...  local_normalizer(Replace(" ", "▁"), marks="▁")]
    [False, False, True]
    """
    if normalizer is None:
        return True
    kind = type(normalizer).__name__
    if kind == "Sequence":
        steps: Sequence[object] = getattr(normalizer, "steps", ())
        return all(local_normalizer(s, marks=marks) for s in steps)
    if kind == "Replace":
        pattern = str(getattr(normalizer, "pattern", ""))
        content = str(getattr(normalizer, "content", ""))
        is_regex = bool(getattr(normalizer, "is_regex", False))
        whitespace = pattern.isspace() if not is_regex else bool(_WHITESPACE_ONLY.fullmatch(pattern))
        # What a run at the cut becomes must still start a piece of its own (and not vanish).
        return bool(pattern) and whitespace and bool(content) and (content[0].isspace() or content[0] in marks)
    return kind in _LOCAL_NORMALIZERS



_SPACE_SPLITTERS = (Whitespace(), WhitespaceSplit())
