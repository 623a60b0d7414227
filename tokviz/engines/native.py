"""The native rank engines tokviz can route a tokenizer to, built from a :class:`~tokviz.engines.plan.RankPlan`.

Both are optional: their packages are imported only when an engine is built. Each declines (returns ``None``, so
the tokenizer encodes the text itself, in linear time) a text holding a long whitespace run, where tiktoken's regex
overflows its stack (a million spaces with o200k); a Rust panic is declined too. (fastokens handles such runs, and
faster than the pure engine in the last bench run: 0.78 s against 1.3 s for a million spaces; it declines them all
the same, for now.)

Example:
    >>> has_long_space_run("a" + " " * 40_000 + "b", limit=32_768), has_long_space_run("a b " * 10_000, limit=32_768)
    (True, False)
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable
from typing import Any

from tokviz.engines.plan import RankPlan
from tokviz.pre_tokenizers.patterns import resolve_pattern
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

# Whitespace runs at least this long go to the pure engine (which is linear on them); shorter ones stay native.
LONG_SPACE_RUN = 1 << 15
# Texts this long are encoded in parts on all cores (fastokens' encode_batch).
PARALLEL_AT = 1 << 20


def has_long_space_run(text: str, *, limit: int = LONG_SPACE_RUN) -> bool:
    """Whether ``text`` holds a run of at least ``limit`` whitespace characters (it may also say so for a run of
    ``limit // 2``): a run that long covers a whole block of ``limit // 2`` aligned characters, so only those
    blocks are probed, a few hundred string checks on a megabyte."""
    half = max(1, limit // 2)
    for i in range(0, len(text) - half + 1, half):
        if text[i].isspace() and text[i:i + half].isspace():
            return True
    return False


def declines(text: str, *, odd: str = "") -> bool:
    """Whether an engine leaves ``text`` to the pure engine: it holds a long whitespace run or a character of
    ``odd`` (one the engine's tables class otherwise)."""
    return (len(text) >= LONG_SPACE_RUN and has_long_space_run(text)) or (bool(odd) and any(c in text for c in odd))


def _is_panic(e: BaseException) -> bool:
    return type(e).__name__ == "PanicException"  # a Rust panic is a BaseException; anything else is a real error


def _declining(encode: Callable[[str], list[int]], *, odd: str = "") -> Callable[[str], list[int] | None]:
    def run(text: str) -> list[int] | None:
        if declines(text, odd=odd):
            return None
        try:
            return encode(text)
        except BaseException as e:
            if _is_panic(e):
                return None
            raise
    return run


class TiktokenEngine:
    """tiktoken's ``Encoding`` over the plan's ranks, without special tokens (the tokenizer splits those off)."""

    name = "tiktoken"

    def __init__(self, plan: RankPlan) -> None:
        import tiktoken

        self.encoding: Any = tiktoken.Encoding(f"tokviz-{plan.pattern_name}", pat_str=plan.pattern,
                                               mergeable_ranks=plan.ranks, special_tokens={})
        self.encode_ordinary = _declining(self.encoding.encode_ordinary)


# Characters PCRE2 classes otherwise than tiktoken's tables (the sweep of every code point in
# tests/engines/test_native.py finds them): U+180E, whitespace before Unicode 6.3. A text holding one is declined.
FASTOKENS_ODD = "\u180e"


class FastokensEngine:
    """``fastokens`` (Rust, PCRE2) over the plan's ranks, written to a temporary rank file that it reads at once."""

    name = "fastokens"

    def __init__(self, plan: RankPlan) -> None:
        import fastokens

        fd, path = tempfile.mkstemp(suffix=".tiktoken", prefix="tokviz-")
        try:
            # fastokens wants ids 0..n-1, each token two smaller ones: a gap (a special token's id) is filled with
            # two bytes that start with 0xFE or 0xFF, which UTF-8 never holds, so no piece of a str can become it.
            ranks = dict(plan.ranks)
            taken = set(ranks.values())
            gaps = [i for i in range(max(taken, default=-1) + 1) if i not in taken]
            if len(gaps) > 512:
                raise ValueError(f"{len(gaps)} unused ids below the largest; fastokens needs them contiguous")
            ranks |= {bytes([0xFF - k // 256, k % 256]): i for k, i in enumerate(gaps)}
            with os.fdopen(fd, "wb") as f:
                f.write(b"".join(base64.b64encode(t) + b" %d\n" % i for t, i in ranks.items()))
            self.native: Any = fastokens.Tokenizer.from_tiktoken(path, pattern=plan.pattern, special_tokens={})
        finally:
            os.unlink(path)
        encode = self.native.encode_ordinary
        encode("warm up")  # its first call sets up tables (about a second for o200k): paid here, off the user's text
        # A long text is cut where one pass would cut (named patterns only) and its parts encoded on all cores.
        self.cutter = PreTokenizer.create(plan.pattern) if resolve_pattern(plan.pattern)[1] else None
        self.encode_ordinary = _declining(self._encode, odd=FASTOKENS_ODD)

    def _parts(self, text: str) -> list[str]:
        if self.cutter is not None and len(text) >= PARALLEL_AT:
            return split_for_cores(text, self.cutter)
        return [text]

    def _encode(self, text: str) -> list[int]:
        parts = self._parts(text)
        if len(parts) < 2:
            return list(self.native.encode_ordinary(text).ids)
        ids: list[int] = []
        for enc in self.native.encode_batch(parts):  # on all cores; the parts' ids in order
            ids += enc.ids
        return ids

    def encode_ordinary_batch(self, texts: list[str]) -> list[list[int] | None]:
        """The ids of each text (None for one it declines), all in one ``encode_batch`` on every core: a text of
        many documents between special tokens is many short stretches, each too short to cut for the cores."""
        out: list[list[int] | None] = [None] * len(texts)
        parts: list[str] = []
        owners: list[int] = []
        for k, text in enumerate(texts):
            if not declines(text, odd=FASTOKENS_ODD):
                out[k] = []
                cut = self._parts(text)
                parts += cut
                owners += [k] * len(cut)
        try:
            encodings = self.native.encode_batch(parts) if parts else []
        except BaseException as e:
            if _is_panic(e):
                return [None] * len(texts)
            raise
        for k, enc in zip(owners, encodings):
            ids = out[k]
            assert ids is not None
            ids += enc.ids
        return out


def split_for_cores(text: str, cutter: PreTokenizer, *, parts: int | None = None) -> list[str]:
    """``text`` cut into about ``parts`` (default: the CPU count) pieces at positions where one pass of the pattern
    cuts too (:meth:`~tokviz.pre_tokenizers.pretokenizer.PreTokenizer.safe_cut`), so their ids joined are the ids of
    the whole; fewer where no such position is found.

    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> split_for_cores("hello world " * 4, PreTokenizer.create("gpt2"), parts=2)
    ['hello world hello world', ' hello world hello world ']
    """
    n = parts or os.cpu_count() or 1
    out: list[str] = []
    start = 0
    for k in range(1, n):
        target = len(text) * k // n
        if target <= start:
            continue
        cut = start + cutter.safe_cut(text[start:target], final_margin=0)
        if cut > start:
            out.append(text[start:cut])
            start = cut
    out.append(text[start:])
    return out


ENGINES: dict[str, Callable[[RankPlan], Any]] = {"fastokens": FastokensEngine, "tiktoken": TiktokenEngine}
# Fastest first (docs/engines.md: ordinary text, on this project's machine), and quickest to load first.
PREFERENCE = ("fastokens", "tiktoken")
LOAD_ORDER = ("tiktoken", "fastokens")
