"""The four observations of CS336 lecture 1, computed from a tokenizer's own output.

Each function takes a tokenizer (BPE or a baseline: anything with ``encode_with_offsets``, ``decode`` and ``name``)
and an example text, and returns a frozen dataclass with the tokens, a result and a one-sentence verdict built from
what the tokenizer actually did. Nothing is hard-coded: a tokenizer that behaves differently gets a different verdict.

1. :func:`leading_space`: is " world" in "hello world" one token with its space, and is it another token than "world"?
2. :func:`repetition`: do the two "hello" in "hello hello" get the same ids?
3. :func:`digit_chunking`: how are "1234567890" and "1885" cut (and how do the gpt2 and gpt4 patterns pre-split them)?
4. :func:`byte_fallback`: how many byte tokens do "🌍" and a rare CJK character take?

A tokenizer of another family (WordPiece, Unigram, SentencePiece BPE: :mod:`tokviz.viewmodels.family_views`) gets
one more sentence saying what its family does there: SentencePiece writes the space as ``▁`` inside the token and
puts one before the first word too, WordPiece drops spaces and marks continuations ``##``, byte fallback spells a
character outside the vocabulary as ``<0xNN>`` pieces, and WordPiece (or a model without byte pieces) makes it
unknown.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> byte_fallback(ByteTokenizer(), "🌍").verdict
    "'🌍' (U+1F30D) → 4 tokens, one per byte: f0 | 9f | 8c | 8d."
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import regex

from tokviz.core.encoding import Encoding
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.pre_tokenizers.metaspace import SPACE_MARK
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.viewmodels.display import TokenView, mixed_label
from tokviz.viewmodels.family_views import FAMILY_LABELS, family_of
from tokviz.viewmodels.graphemes import grapheme_groups

Mark = Literal["yes", "no", "partly", "lost"]
#: The patterns whose pre-tokenizer pieces the digit observation contrasts.
CONTRAST_PATTERNS: tuple[str, ...] = ("gpt2", "gpt4")


class SpaceResult(str, Enum):
    """Where the space before a word goes."""

    ATTACHED = "attached"  # one token holds the space and the word
    SEPARATE = "separate"  # the word is one token, the space belongs to another
    SPLIT = "split"  # the word (with or without its space) is cut into several tokens
    DROPPED = "dropped"  # no token holds the space at all (WordPiece's pre-tokenizer drops it)


class DigitResult(str, Enum):
    WHOLE = "whole"  # every number is a single token
    CHUNKED = "chunked"  # every number of two or more digits is cut into several tokens
    MIXED = "mixed"  # some numbers are cut, others of two or more digits stay one token


class FallbackResult(str, Enum):
    WHOLE = "whole"  # the character is one token
    BYTES = "bytes"  # the character is cut into byte pieces
    LOST = "lost"  # decoding the tokens does not give the character back (a word tokenizer's <unk>)


@dataclass(frozen=True)
class LeadingSpace:
    """Observation 1: the tokens of ``" " + word`` in context, and the ids of ``word`` and ``" " + word`` alone."""

    tokenizer: str
    example: str
    word: str
    tokens: tuple[TokenView, ...]
    word_tokens: tuple[TokenView, ...]
    alone_ids: tuple[int, ...]
    with_space_ids: tuple[int, ...]
    result: SpaceResult
    verdict: str

    @property
    def mark(self) -> Mark:
        return "yes" if self.result is SpaceResult.ATTACHED else "no"


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a word (character span) and the tokens that cover it."""

    start: int
    end: int
    tokens: tuple[TokenView, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.id for t in self.tokens)


@dataclass(frozen=True)
class Repetition:
    """Observation 2: the ids of each occurrence of a repeated word; ``same`` when all are equal."""

    tokenizer: str
    example: str
    word: str
    tokens: tuple[TokenView, ...]
    occurrences: tuple[Occurrence, ...]
    same: bool
    verdict: str

    @property
    def mark(self) -> Mark:
        return "no" if self.same else "yes"


@dataclass(frozen=True)
class NumberCut:
    """One run of digits and the tokens that cover it."""

    number: str
    start: int
    end: int
    tokens: tuple[TokenView, ...]


@dataclass(frozen=True)
class DigitChunking:
    """Observation 3: how each number is cut, and how the gpt2 and gpt4 patterns pre-split the example."""

    tokenizer: str
    example: str
    tokens: tuple[TokenView, ...]
    numbers: tuple[NumberCut, ...]
    pattern_chunks: tuple[tuple[str, tuple[str, ...]], ...]
    result: DigitResult
    verdict: str

    @property
    def mark(self) -> Mark:
        marks: dict[DigitResult, Mark] = {DigitResult.CHUNKED: "yes", DigitResult.MIXED: "partly",
                                          DigitResult.WHOLE: "no"}
        return marks[self.result]


@dataclass(frozen=True)
class CharCut:
    """One non-ASCII character, its UTF-8 bytes, and the tokens that hold it."""

    char: str
    utf8: bytes
    tokens: tuple[TokenView, ...]
    result: FallbackResult

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True)
class ByteFallback:
    """Observation 4: for each non-ASCII character of the example, whether it is one token, bytes, or lost."""

    tokenizer: str
    example: str
    tokens: tuple[TokenView, ...]
    chars: tuple[CharCut, ...]
    result: FallbackResult
    verdict: str

    @property
    def mark(self) -> Mark:
        marks: dict[FallbackResult, Mark] = {FallbackResult.BYTES: "yes", FallbackResult.WHOLE: "no",
                                             FallbackResult.LOST: "lost"}
        return marks[self.result]


# -- helpers -------------------------------------------------------------------------------------------------------
def _name(tokenizer: TokenizerLike, name: str | None) -> str:
    return name if name is not None else str(getattr(tokenizer, "name", type(tokenizer).__name__))


def _encode(tokenizer: TokenizerLike, text: str, what: str, hint: str) -> Encoding:
    if not isinstance(text, str) or not text:
        raise ValueError(f"The {what} example is empty; type a text such as {hint!r}.")
    return tokenizer.encode_with_offsets(text)


def _views(enc: Encoding, indices: Sequence[int] | None = None, *, text: str = "") -> tuple[TokenView, ...]:
    """Tokens as shown; with ``text``, the byte pieces of a split character say which character they belong to."""
    idx = range(len(enc)) if indices is None else indices
    part_of: dict[int, tuple[int, str]] = {}
    if text:
        for group in grapheme_groups(enc, text):
            if len(group) > 1 or enc.partial[group[0]]:
                start = min(enc.char_spans[i][0] for i in group)
                end = max(enc.char_spans[i][1] for i in group)
                part_of.update(dict.fromkeys(group, (start, text[start:end])))
    return tuple(TokenView(enc.ids[i], enc.tokens[i], mixed_label(enc.tokens[i]), part_of.get(i)) for i in idx)


def _covering(enc: Encoding, start: int, end: int) -> list[int]:
    """Indices of the tokens whose character span overlaps ``[start, end)``."""
    return [i for i, (s, e) in enumerate(enc.char_spans) if s < end and e > start]


def _cut(views: Sequence[TokenView]) -> str:
    return " | ".join(v.label for v in views)


def _ids(ids: Sequence[int]) -> str:
    return f"id {ids[0]}" if len(ids) == 1 else "ids " + ", ".join(map(str, ids))


def _piece(tokenizer: TokenizerLike, tid: int) -> str:
    try:
        return str(tokenizer.piece(tid))  # type: ignore[attr-defined]  # only called for the families, which have it
    except ValueError:
        return ""


def _family(tokenizer: TokenizerLike) -> tuple[str, str] | None:
    """(family key, label) of a tokenizer of another family, else None."""
    family = family_of(tokenizer)
    return None if family is None else (family, FAMILY_LABELS[family])


def _pieces(tokenizer: TokenizerLike, enc: Encoding, indices: Sequence[int]) -> str:
    return " ".join(_piece(tokenizer, enc.ids[i]) for i in indices)


def _piece_kind(enc: Encoding, indices: Sequence[int]) -> str:
    # Name the baselines' behaviour from the tokens themselves: every token a whole single character, or single
    # bytes with some character cut apart (no merges at all).
    if not indices:
        return ""
    if all(not enc.partial[i] and enc.char_spans[i][1] - enc.char_spans[i][0] == 1 for i in indices):
        return ", one per character"
    if all(len(enc.tokens[i]) == 1 for i in indices):
        return ", one per byte"
    return ""


# -- 1. leading space ----------------------------------------------------------------------------------------------
def leading_space(tokenizer: TokenizerLike, text: str = "hello world", *, word: str | None = None,
                  name: str | None = None) -> LeadingSpace:
    """Is the word after a space one token together with that space?

    ``word`` defaults to the last word of ``text`` that follows a space.

    >>> from tokviz.models.baselines import CharacterTokenizer
    >>> leading_space(CharacterTokenizer(), "hello world").result.value
    'split'
    """
    enc = _encode(tokenizer, text, "leading-space", "hello world")
    if word is None:
        found = list(regex.finditer(r"(?<= )\w+", text))
        if not found:
            raise ValueError("The leading-space example needs a word after a space, such as 'hello world'.")
        start, end, word = found[-1].start(), found[-1].end(), found[-1].group()
    else:
        pos = text.rfind(" " + word) if word else -1
        if pos < 0:
            raise ValueError(f"The example does not contain {' ' + word!r}; put a space before the word.")
        start, end = pos + 1, pos + 1 + len(word)
    covering = _covering(enc, start - 1, end)
    word_views = _views(enc, covering)
    fam = _family(tokenizer)
    alone = tuple(encode_as_shown(tokenizer, word))
    spaced = tuple(encode_as_shown(tokenizer, " " + word))
    with_space = repr(" " + word)
    if len(covering) == 1 and enc.char_spans[covering[0]][0] == start - 1 and not enc.partial[covering[0]]:
        result = SpaceResult.ATTACHED
        tid = enc.ids[covering[0]]
        if alone == (tid,):
            other = f"{word!r} alone is the same token"
        elif len(alone) == 1:
            other = f"{word!r} alone is a different token (id {alone[0]})"
        else:
            other = f"{word!r} alone takes {len(alone)} tokens ({_ids(alone)})"
        verdict = f"{with_space} is one token with its leading space (id {tid}); {other}."
        if fam is not None and _piece(tokenizer, tid).startswith(SPACE_MARK):
            verdict += (f" {fam[1]} writes the space as ▁ inside the token ({_piece(tokenizer, tid)!r})"
                        + (", and puts a ▁ before a first word too." if alone == (tid,) else "."))
    elif not _covering(enc, start - 1, start):
        result = SpaceResult.DROPPED
        verdict = (f"The space is not kept: no token holds it, so {with_space} is cut as {word!r} alone would be "
                   f"({_cut(word_views)}).")
        if fam is not None and fam[0] == "wordpiece":
            verdict += (" WordPiece's pre-tokenizer drops spaces; instead, ## marks a piece that continues a word, "
                        "and decoding puts one space between words.")
    else:
        inside = _covering(enc, start, end)
        word_only = len(inside) == 1 and enc.char_spans[inside[0]] == (start, end) and not enc.partial[inside[0]]
        if word_only:
            result = SpaceResult.SEPARATE
            verdict = (f"The space is a token of its own: {word!r} is one token (id {enc.ids[inside[0]]}) "
                       "without the space.")
        else:
            result = SpaceResult.SPLIT
            verdict = (f"{with_space} is cut into {len(covering)} tokens{_piece_kind(enc, covering)}: "
                       f"{_cut(word_views)}.")
            first = _piece(tokenizer, enc.ids[covering[0]]) if fam is not None else ""
            if fam is not None and first.startswith(SPACE_MARK):
                verdict += f" {fam[1]} writes the space as the ▁ of the first piece ({first!r})."
    return LeadingSpace(_name(tokenizer, name), text, word, _views(enc, text=text), word_views, alone, spaced, result,
                        verdict)


# -- 2. repetition -------------------------------------------------------------------------------------------------
def repetition(tokenizer: TokenizerLike, text: str = "hello hello", *, word: str | None = None,
               name: str | None = None) -> Repetition:
    """Do all occurrences of a repeated word get the same ids?

    ``word`` defaults to the first word of ``text`` that occurs more than once.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> repetition(ByteTokenizer(), "hello hello").same
    True
    """
    enc = _encode(tokenizer, text, "repetition", "hello hello")
    words = regex.findall(r"\w+", text)
    if word is None:
        repeated = [w for w in dict.fromkeys(words) if words.count(w) > 1]
        if not repeated:
            raise ValueError("The repetition example needs a word that appears twice, such as 'hello hello'.")
        word = repeated[0]
    spans = [m.span() for m in regex.finditer(rf"(?<!\w){regex.escape(word)}(?!\w)", text)] if word else []
    if len(spans) < 2:
        raise ValueError(f"{word!r} appears fewer than two times in the example; repeat it, as in 'hello hello'.")
    occurrences = tuple(Occurrence(s, e, _views(enc, _covering(enc, s, e))) for s, e in spans)
    first = occurrences[0]
    same = all(o.ids == first.ids for o in occurrences)
    if same:
        both = "Both" if len(spans) == 2 else f"All {len(spans)}"
        verdict = (f"{both} occurrences of {word!r} get the same {_ids(first.ids)}"
                   + (f" ({_cut(first.tokens)})." if len(first.ids) > 1 else "."))
        fam = _family(tokenizer)
        idx = _covering(enc, first.start, first.end)
        if fam is not None and fam[0] == "wordpiece":
            verdict += " WordPiece drops the spaces, so a word is cut the same wherever it stands."
        elif fam is not None and idx and _piece(tokenizer, enc.ids[idx[0]]).startswith(SPACE_MARK):
            verdict += (f" {fam[1]} puts a ▁ before the first word too, so every occurrence starts with "
                        f"{_piece(tokenizer, enc.ids[idx[0]])!r}.")
        elif fam is not None and idx and idx[0] > 0 and _piece(tokenizer, enc.ids[idx[0] - 1]) == SPACE_MARK:
            verdict += f" {fam[1]} made the ▁ before the word a token of its own, so the words are cut alike."
    else:
        other = next(o for o in occurrences if o.ids != first.ids)
        because = ""
        if any(enc.char_spans[i][0] < other.start for i in _covering(enc, other.start, other.end)):
            before = "space" if text[other.start - 1] == " " else f"{text[other.start - 1]!r}"
            because = f": the later one's first token carries the {before} before the word"
            fam = _family(tokenizer)
            if fam is not None:
                later = _piece(tokenizer, enc.ids[_covering(enc, other.start, other.end)[0]])
                if later.startswith(SPACE_MARK):
                    because += f" (as ▁, in {later!r}), and the first has none"
        verdict = (f"Different ids for the same word: {_cut(first.tokens)} ({_ids(first.ids)}) vs "
                   f"{_cut(other.tokens)} ({_ids(other.ids)}){because}.")
    return Repetition(_name(tokenizer, name), text, word, _views(enc, text=text), occurrences, same, verdict)


# -- 3. digits -----------------------------------------------------------------------------------------------------
def pattern_chunks(
    text: str, *, patterns: Sequence[str] = CONTRAST_PATTERNS
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The pre-tokenizer pieces of ``text`` under each named pattern.

    >>> dict(pattern_chunks("1885"))
    {'gpt2': ('1885',), 'gpt4': ('188', '5')}
    """
    return tuple((p, tuple(PreTokenizer.create(p).findall(text))) for p in patterns)


def digit_chunking(tokenizer: TokenizerLike, text: str = "1234567890 1885", *,
                   name: str | None = None) -> DigitChunking:
    """How each run of digits in ``text`` is cut into tokens, with the gpt2/gpt4 pre-tokenizer pieces for contrast.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> [n.number for n in digit_chunking(ByteTokenizer(), "in 1885").numbers]
    ['1885']
    """
    enc = _encode(tokenizer, text, "digits", "1234567890 1885")
    runs = [m for m in regex.finditer(r"\d+", text)]
    if not runs:
        raise ValueError("The digits example has no number; type one such as '1234567890 1885'.")
    covers = [_covering(enc, m.start(), m.end()) for m in runs]
    numbers = tuple(NumberCut(m.group(), m.start(), m.end(), _views(enc, c)) for m, c in zip(runs, covers))
    cut = [n for n in numbers if len(n.tokens) > 1]
    kept = [n for n in numbers if len(n.tokens) == 1 and len(n.number) > 1]
    result = DigitResult.WHOLE if not cut else DigitResult.MIXED if kept else DigitResult.CHUNKED
    # Said first, so that one number cut and another left whole never reads as "numbers are chunked".
    parts = [{DigitResult.WHOLE: "No number is cut: each is one token",
              DigitResult.CHUNKED: "Every number is cut into chunks",
              DigitResult.MIXED: f"Only some numbers are cut: {', '.join(repr(n.number) for n in kept)} "
                                 f"stay{'s' if len(kept) == 1 else ''} one token"}[result] + "."]
    lines = []
    for n, c in zip(numbers, covers):
        count = f"{len(n.tokens)} token" + ("s" if len(n.tokens) != 1 else "")
        kind = _piece_kind(enc, c) if len(c) > 1 else ""
        lines.append(f"{n.number!r} → {_cut(n.tokens)} ({count}{kind})")
    verdict = parts[0] + " " + "; ".join(lines) + "."
    pretok = getattr(tokenizer, "pretokenizer", None)
    longest = max(numbers, key=lambda n: len(n.number))
    if isinstance(pretok, PreTokenizer) and len(longest.number) > 1:
        pieces = pretok.findall(longest.number)
        if len(pieces) > 1:
            verdict += (f" Its {pretok.label} pattern pre-splits {longest.number!r} into {' | '.join(pieces)} "
                        "before any merge.")
        else:
            verdict += f" Its {pretok.label} pattern keeps a run of digits in one piece; the merges alone cut it."
    fam = _family(tokenizer)
    if fam is not None:
        rules = {"wordpiece": "takes the longest vocabulary piece first, from the left (## on every piece after "
                              "the first)",
                 "unigram": "takes the cut whose pieces' scores sum highest",
                 "bpe-sp": "merges characters in rank order"}
        verdict += f" {fam[1]} {rules[fam[0]]}"
        if all(len(n.number) > 1 and len(n.tokens) == len(n.number) for n in numbers):
            verdict += "; here every digit is a token of its own."
        else:
            verdict += "."
    return DigitChunking(_name(tokenizer, name), text, _views(enc, text=text), numbers, pattern_chunks(text), result,
                         verdict)


# -- 4. byte fallback ----------------------------------------------------------------------------------------------
def byte_fallback(tokenizer: TokenizerLike, text: str = "🌍 龘", *, name: str | None = None) -> ByteFallback:
    """For each distinct non-ASCII character: one token, several byte tokens, or lost (decoding does not give it back).

    >>> from tokviz.models.baselines import CharacterTokenizer
    >>> byte_fallback(CharacterTokenizer(), "é").result.value
    'whole'
    """
    enc = _encode(tokenizer, text, "byte-fallback", "🌍 龘")
    positions: dict[str, int] = {}
    for i, ch in enumerate(text):
        if not ch.isascii() and not ch.isspace():
            positions.setdefault(ch, i)
    if not positions:
        raise ValueError("The byte-fallback example has no non-ASCII character; add one such as 🌍 or 龘.")
    cuts: list[CharCut] = []
    sentences: list[str] = []
    fam = _family(tokenizer)
    for ch, pos in positions.items():
        idx = _covering(enc, pos, pos + 1)
        views = _views(enc, idx)
        label = f"{ch!r} (U+{ord(ch):04X})"
        if ch not in tokenizer.decode([enc.ids[i] for i in idx]):
            kind = FallbackResult.LOST
            got = tokenizer.decode([enc.ids[i] for i in idx])
            sentences.append(f"{label} becomes {_ids([enc.ids[i] for i in idx])}, which decodes to {got!r}: "
                             "the character is lost"
                             + (f" ({fam[1]} has no byte fallback here: a character outside its vocabulary is "
                                "unknown" + (", and so is its whole word)" if fam[0] == "wordpiece" else ")")
                                if fam is not None else ""))
        elif any(enc.partial[i] for i in idx):
            kind = FallbackResult.BYTES
            sentences.append(f"{label} → {len(idx)} tokens{_piece_kind(enc, idx)}: {_cut(views)}"
                             + (f" (byte fallback: {_pieces(tokenizer, enc, idx)} spell its UTF-8, as the "
                                "character is not in the vocabulary)" if fam is not None else ""))
        else:
            kind = FallbackResult.WHOLE
            sentences.append(f"{label} is one token ({_ids([enc.ids[i] for i in idx])})")
        cuts.append(CharCut(ch, ch.encode("utf-8"), views, kind))
    # The card's overall result is the worst case: lost beats bytes beats whole.
    order = [FallbackResult.LOST, FallbackResult.BYTES, FallbackResult.WHOLE]
    result = next(r for r in order if any(c.result is r for c in cuts))
    return ByteFallback(_name(tokenizer, name), text, _views(enc, text=text), tuple(cuts), result,
                        "; ".join(sentences) + ".")


# -- the four, for the app -----------------------------------------------------------------------------------------
#: What running any one observation gives.
ObservationResult = LeadingSpace | Repetition | DigitChunking | ByteFallback


@dataclass(frozen=True)
class Observation:
    """One of the lecture's observations: a title, the question it asks, a default example and the function."""

    key: str
    title: str
    question: str
    default_example: str
    run: Callable[..., ObservationResult]


OBSERVATIONS: tuple[Observation, ...] = (
    Observation("leading_space", "Leading space", "Is ' world' one token with its space, and another than 'world'?",
                "hello world", leading_space),
    Observation("repetition", "“hello hello”", "Do the two occurrences of a word get the same ids?",
                "hello hello", repetition),
    Observation("digits", "Digit chunking", "How are long numbers and years cut into tokens?",
                "1234567890 1885", digit_chunking),
    Observation("byte_fallback", "Byte fallback", "How many tokens does an emoji or a rare character take?",
                "🌍 龘", byte_fallback),
)
