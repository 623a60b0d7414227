"""Token budgets: cut a long text into chunks of at most N tokens, at token boundaries or at sentence/paragraph ends.

The guarantee is about each chunk **encoded on its own**, which is how a chunk is used (sent to a model, embedded):
``len(tokenizer.encode(chunk.text)) <= max_tokens`` for every chunk, and ``"".join(c.text for c in chunks) == text``.
A chunk's own count can differ from the number of tokens its slice had in the encoding of the whole text (the
pre-tokenizer sees a different end: a run of spaces cut in two, a prefix space added), so every chunk is re-encoded
and moved back until it fits.

How a cut is chosen: the furthest place the whole text's encoding puts ``max_tokens`` tokens after the chunk's
start, never inside a character (a character cut into several byte tokens stays whole). With ``boundary="sentence"``
or ``"paragraph"`` the chunk ends instead at the last sentence or paragraph end before that place whose chunk fits;
where there is none (a sentence longer than the budget), it falls back to the token boundary.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> [(c.text, c.n_tokens) for c in chunk_by_tokens(ByteTokenizer(), "Hi there. Bye.", max_tokens=12)]
    [('Hi there. By', 12), ('e.', 2)]
    >>> [c.text for c in chunk_by_tokens(ByteTokenizer(), "Hi there. Bye.", max_tokens=12, boundary="sentence")]
    ['Hi there. ', 'Bye.']
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tokviz.core.protocol import TokenizerLike, encode_as_shown

Boundary = Literal["token", "sentence", "paragraph"]
CutKind = Literal["token", "sentence", "paragraph", "character", "end"]
BOUNDARIES: tuple[str, ...] = ("token", "sentence", "paragraph")

#: A sentence ends at ., !, ? or … (with closing quotes or brackets) followed by whitespace or the end, or at a
#: full stop of CJK or Devanagari, which need no space after them; the chunk ends after the whitespace that follows,
#: so the next one starts at the next sentence.
SENTENCE_END = re.compile(r"""[.!?…]+["'”’»)\]]*(?:\s+|$)|[。！？।]+\s*""")
#: A paragraph ends at a blank line (two line breaks, with only spaces or tabs between them).
PARAGRAPH_END = re.compile(r"\n[ \t]*\n\s*")
#: How many sentence or paragraph ends are tried before falling back to the token boundary.
MAX_BOUNDARY_TRIES = 16


@dataclass(frozen=True)
class Chunk:
    """One chunk: its text, its character span ``[start, end)`` in the whole text, and its own token count (the
    chunk encoded alone). ``cut`` says where it ends: at a ``"sentence"`` or ``"paragraph"`` end, at a
    ``"token"`` boundary, at a ``"character"`` (no token boundary fitted), or at the ``"end"`` of the text."""

    index: int
    text: str
    start: int
    end: int
    n_tokens: int
    cut: CutKind


def _cuts(tokenizer: TokenizerLike, text: str) -> tuple[list[int], list[int]]:
    """Character positions where the whole encoding can be cut (never inside a character), and how many tokens come
    before each: ``(positions, tokens_before)``, both starting at 0 and ending at ``len(text)``."""
    enc = tokenizer.encode_with_offsets(text)
    spans = enc.char_spans
    positions = [0]
    before = [0]
    for k, (_, end) in enumerate(spans):
        nxt = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        # After token k the text may be cut when the next token starts at or after its end (tokens of one
        # character share its span, so no cut falls between them).
        if nxt >= end > positions[-1]:
            positions.append(end)
            before.append(k + 1)
        elif nxt >= end == positions[-1]:
            before[-1] = k + 1  # a token with an empty span (an inserted space) belongs with the text after it
    if positions[-1] != len(text):
        positions.append(len(text))
        before.append(len(spans))
    return positions, before


def _ends(pattern: re.Pattern[str], text: str) -> list[int]:
    return [m.end() for m in pattern.finditer(text) if m.end() > 0]


def chunk_by_tokens(
    tokenizer: TokenizerLike, text: str, *, max_tokens: int, boundary: Boundary = "token"
) -> list[Chunk]:
    """Chunks of ``text`` that each encode to at most ``max_tokens`` tokens on their own (see the module docstring).

    Raises ValueError for a ``max_tokens`` below 1, an unknown ``boundary``, or a single character that alone needs
    more than ``max_tokens`` tokens (raise the budget). An empty text has no chunks.

    >>> from tokviz.models.baselines import CharacterTokenizer
    >>> [c.text for c in chunk_by_tokens(CharacterTokenizer(), "One.\\n\\nTwo.", max_tokens=8, boundary="paragraph")]
    ['One.\\n\\n', 'Two.']
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a whole number of tokens >= 1, got {max_tokens!r}.")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {', '.join(BOUNDARIES)}; got {boundary!r}.")
    if not isinstance(text, str):
        raise ValueError(f"chunk_by_tokens expects the text as str, got {type(text).__name__}.")
    if not text:
        return []
    positions, before = _cuts(tokenizer, text)
    if boundary == "paragraph":
        ends = _ends(PARAGRAPH_END, text)
    elif boundary == "sentence":
        ends = sorted(set(_ends(SENTENCE_END, text)) | set(_ends(PARAGRAPH_END, text)))
    else:
        ends = []

    def count(a: int, b: int) -> int:
        return len(encode_as_shown(tokenizer, text[a:b]))

    chunks: list[Chunk] = []
    start, j0 = 0, 0  # the chunk's start and its index in ``positions``
    n = len(text)
    while start < n:
        # The furthest cut with at most max_tokens tokens of the whole encoding after the start.
        j = bisect_right(before, before[j0] + max_tokens) - 1
        j = max(j, j0 + 1)
        limit = positions[j]
        found: tuple[int, int, CutKind] | None = None
        if limit == n:
            c = count(start, n)
            if c <= max_tokens:
                found = (n, c, "end")
        if found is None and ends:
            k = bisect_right(ends, limit) - 1
            tries = 0
            while k >= 0 and ends[k] > start and tries < MAX_BOUNDARY_TRIES:
                c = count(start, ends[k])
                if c <= max_tokens:
                    found = (ends[k], c, "end" if ends[k] == n else boundary)
                    break
                k -= 1
                tries += 1
        while found is None and j > j0:
            c = count(start, positions[j])
            if c <= max_tokens:
                found = (positions[j], c, "end" if positions[j] == n else "token")
                break
            if j == j0 + 1:
                break
            j = max(j0 + 1, j - max(1, c - max_tokens))  # step back about as many cuts as there are tokens too many
        if found is None:
            # Not even the first token boundary fits on its own (a token that re-encodes longer): cut by character.
            for e in range(positions[j0 + 1] - 1, start, -1):
                c = count(start, e)
                if c <= max_tokens:
                    found = (e, c, "character")
                    break
        if found is None:
            c = count(start, start + 1)
            raise ValueError(f"the character {text[start]!r} at position {start} alone needs {c} tokens, more than "
                             f"max_tokens={max_tokens}; raise max_tokens.")
        end, c, kind = found
        chunks.append(Chunk(len(chunks), text[start:end], start, end, c, kind))
        start = end
        j0 = bisect_right(positions, start) - 1
        if positions[j0] != start:
            # The cut fell between two of the whole encoding's boundaries (a sentence end inside a token, or a
            # character cut): carry on from there, counting tokens from the boundary before it.
            positions.insert(j0 + 1, start)
            before.insert(j0 + 1, before[j0])
            j0 += 1
    return chunks


def chunk_record(chunk: Chunk, *, tokenizer: str) -> dict[str, object]:
    """The JSON object of one chunk (the text last, so a reader sees the numbers first)."""
    return {"index": chunk.index, "start": chunk.start, "end": chunk.end, "n_tokens": chunk.n_tokens,
            "cut": chunk.cut, "tokenizer": tokenizer, "text": chunk.text}


def chunks_jsonl(chunks: Iterable[Chunk], *, tokenizer: str) -> str:
    """JSONL: one object per chunk and line (UTF-8 text kept as is), each line ending in a newline.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> print(chunks_jsonl(chunk_by_tokens(ByteTokenizer(), "Hi. Bye.", max_tokens=4, boundary="sentence"),
    ...                    tokenizer="byte"))
    {"index": 0, "start": 0, "end": 4, "n_tokens": 4, "cut": "sentence", "tokenizer": "byte", "text": "Hi. "}
    {"index": 1, "start": 4, "end": 8, "n_tokens": 4, "cut": "end", "tokenizer": "byte", "text": "Bye."}
    <BLANKLINE>
    """
    return "".join(json.dumps(chunk_record(c, tokenizer=tokenizer), ensure_ascii=False) + "\n" for c in chunks)
