"""Hugging Face ``tokenizers`` as the engine of the character-level ``tokenizer.json`` families (WordPiece, Unigram,
SentencePiece-style BPE), used only where it is proven to give the pure pipeline's ids.

The pure pipeline (:class:`~tokviz.pipelines.vocab_pipeline.PiecePipeline`) follows ``tokenizers``, but the two class
characters by different Unicode tables (Python's and ``regex``'s against the Rust crates'), and a component the pure
reader understands may be read otherwise by the library. So, per tokenizer:

- the engine is built from the very file the tokenizer was read from (truncation and padding off, no post-processor
  template: ``add_special_tokens=False``);
- at build, both encode a probe set (English, accents and decomposed marks, CJK, emoji, every kind of space and
  control, long words, the added tokens' own text); one difference and the tokenizer stays pure, with the reason;
- a text holding a character that Unicode 3.2 had not assigned is declined (the pure pipeline encodes it): the
  tables of both sides agree on those older characters (``tests/engines/test_tokenizers_engine.py`` sweeps every
  one of them in three contexts per family), not on newer ones; so is a text holding one of the four older
  characters whose class changed since (:data:`CLASSED_OTHERWISE`).

The engine is built on first need: once the tokenizer has been asked for ``start_at`` characters (a typed sentence
never pays for loading it). ``encode_with_offsets`` builds its Encoding from the engine's offsets
(:mod:`tokviz.engines.piece_offsets`) where that is checked at build on the probe texts and shown per text to be the
pure pipeline's; otherwise that text (or, when the check fails, every text) runs pure.

Example:
    >>> newer_than_unicode_3_2("plain text, café, 你好"), newer_than_unicode_3_2("a\\U0001F30D")
    (False, True)
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from tokviz.core.encoding import Encoding
from tokviz.engines.choose import START_AT, wanted_engines
from tokviz.engines.piece_offsets import OffsetTables
from tokviz.pipelines.vocab_pipeline import PiecePipeline

NAME = "tokenizers"
P = TypeVar("P", bound=PiecePipeline)
# Characters of Unicode 3.2 that the two sides class otherwise (their category changed in a later version: U+166D
# Po -> So, U+1734 Mc -> Mn, U+1885 and U+1886 Lo -> Mn), found by the sweep of every code point in
# tests/engines/test_tokenizers_engine.py: WordPiece's punctuation and accent rules read them differently. Texts
# holding one are declined too.
CLASSED_OTHERWISE = "\u166d\u1734\u1885\u1886"
PROBES = (
    "Hello, World! It's 2024. The quick brown fox jumps over the lazy dog.",
    "  leading and trailing  ", "tabs\tand\nnewlines\r\n\x00\x0b\x0c\x1f\x7f\x85\xa0\u2028\u3000\u200b\xad",
    "naïve café ÉCOLE Ünïcödé e\u0301 A\u030a \u0130stanbul ΣΑΣ ﬁne ß ǅ ǈ Ⅻ ½ ²",
    "你好，世界！日本語のテキスト。한국어 텍스트 ｆｕｌｌｗｉｄｔｈ",
    "Привет, мир! مرحبا بالعالم שלום עולם नमस्ते दुनिया ภาษาไทย",
    "emoji ☃ ♥ ✓ ★ © ® ™ € £ ¥ § ¶ † ‡ • … ‰ ′ ″ ‹ › « » “ ” ‘ ’ — –",
    "Supercalifragilisticexpialidociousnessesesesesesesesesesesesesesesesesesesesesess " * 2,
    "1234567890 3.14159 1,000,000 0x1F 1e-9 ########## ---- ____ .... !!!! ???? (((( ))))",
    "[CLS] a [SEP] <s> b </s> <unk> [UNK] <pad> [MASK] <mask>", "x" * 250, "\u0301\u0308 \u200d\u200c \ufeff",
)
# Texts whose spans are settled token by token (piece_offsets): marks put before a word, spaces before one, at the
# start and after an added token, characters that normalize to a space and more, byte pieces spelled in the text.
OFFSET_PROBES = (
    "hello", " hello", "  hello", "a  b   c", "\u00a8x \u00a8 \u00a0y \u3000z", "½ ﬁ ² Ⅻ", "<0xE3> <0x41>",
    "▁ ▁a a▁", "你 好", "é e\u0301 x\u0301\u0302", "<s>hello</s> world", "[CLS]hi[SEP] [UNK]",
)


def _newer(c: str) -> bool:
    """Whether the character ``c`` is one the engine declines (see :func:`newer_than_unicode_3_2`)."""
    return (unicodedata.ucd_3_2_0.category(c) == "Cn" or "\ud800" <= c <= "\udfff"
            or c in CLASSED_OTHERWISE)


def newer_than_unicode_3_2(text: str) -> bool:
    """Whether ``text`` holds a character Unicode 3.2 had not assigned, or one of :data:`CLASSED_OTHERWISE` (the
    engine declines such a text)."""
    # Each distinct character once: a set of a megabyte is milliseconds, a regex of the unassigned ranges seconds.
    return not text.isascii() and any(_newer(c) for c in set(text) if c > "\x7f")


# Per-text routing of ids (see TokenizersEngine.encode): a text of ROUTE_AT characters or more whose distinct words
# are fewer than one in REPEATED_BELOW of its words runs pure for Unigram and SentencePiece BPE. Not a cost of this
# code (the Unicode 3.2 scan took 10-40 ms of a megabyte, the ids' conversion to a list 10-40 ms, tokenizers' encode
# 0.7-1.3 s): the pure pipeline keeps each piece's cut, so a repeated piece costs it a dictionary lookup, while
# tokenizers' time grows with the characters (normalized strings with alignments, pre-tokenization) whatever they
# repeat. One run each, fresh processes, 550K characters, load average 3-4: the bench's multilingual passages
# (2,483 characters repeated, 366 distinct words in 84K) pure 0.23-0.48 s, engine 0.65-1.0 s; the same with words
# shuffled (796 distinct) 0.32-0.42 s against 0.65-1.0 s; English repeated from a 2,500-character seed (0.2%
# distinct) 0.22-0.25 s against 0.25-0.40 s, from a 20K seed (1.3%) even, from 100K (4%) and the whole bench text
# (14%) the engine faster. WordPiece's pure pipeline was 1.5-4x slower than the engine on all of them: it never routes.
ROUTE_AT = 1 << 16
REPEATED_BELOW = 100


def repeated(text: str) -> bool:
    """Whether ``text`` repeats its words so much that a pipeline caching each piece's cut is faster than the engine:
    fewer distinct whitespace-separated words than one in :data:`REPEATED_BELOW` (and at least 1,000 words).

    >>> repeated("the cat sat " * 2000), repeated(" ".join(map(str, range(5000))))
    (True, False)
    """
    words = text.split()
    return len(words) >= 1000 and len(set(words)) * REPEATED_BELOW < len(words)


def installed() -> bool:
    """Whether ``tokenizers`` is installed and ``$TOKVIZ_ENGINE`` (if set) allows it."""
    wanted = wanted_engines()
    return (wanted is None or NAME in wanted) and importlib.util.find_spec(NAME) is not None


class TokenizersEngine:
    """``tokenizers.Tokenizer`` over a file's data, checked against ``tok`` on the probe set at construction (raises
    ValueError naming the first text where the ids differ)."""

    name = NAME

    def __init__(self, tok: PiecePipeline, data: Mapping[str, Any]) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        native = HFTokenizer.from_str(json.dumps(data))
        native.no_truncation()
        native.no_padding()
        self.native: Any = native
        self._parts = tok.engine_parts
        # Whether a repetitive text runs pure (see ROUTE_AT): not WordPiece, whose pure pipeline is the slower one.
        self.routes = getattr(tok, "family", "") != "wordpiece"
        added = [t.content for t in tok.added]
        for text in (*PROBES, " ".join(added), "x".join(added)):
            want = tok.pure_ids(text)
            got = self.encode(text)
            if got is not None and got != want:
                raise ValueError(f"tokenizers gives other ids than tokviz on {text[:40]!r}")
        self.offsets_note = ""
        self.tables: OffsetTables | None = None
        try:
            tables = OffsetTables.of(tok)
        except ValueError as e:
            self.offsets_note = str(e)
            return
        for text in (*PROBES, *OFFSET_PROBES, " ".join(added), "x".join(added)):
            if newer_than_unicode_3_2(text):
                continue
            try:
                enc = tables.encoding(text, native.encode(text, add_special_tokens=False))
            except Exception as e:  # offsets this code cannot build stay pure; the ids still come from the engine
                self.offsets_note = f"offsets stay the pure pipeline's: {e} on {text[:40]!r}"
                return
            if enc is not None and enc != tok.pure_encoding(text):
                self.offsets_note = f"offsets stay the pure pipeline's: tokenizers spans differ on {text[:40]!r}"
                return
        self.tables = tables

    def encode(self, text: str) -> list[int] | None:
        """The ids of ``text``, or None to leave it to the pure pipeline: a character newer than Unicode 3.2, or a
        long text that repeats its words so much that the pipeline is faster (:func:`repeated`)."""
        if newer_than_unicode_3_2(text) or (self.routes and len(text) >= ROUTE_AT and repeated(text)):
            return None
        natives = self._natives(self._parts(text))
        return list(chain.from_iterable(n.ids for n in natives)) if len(natives) > 1 else list(natives[0].ids)

    def encode_with_offsets(self, text: str) -> Encoding | None:
        """The pure pipeline's Encoding of ``text`` built from ``tokenizers``' offsets, or None (the pipeline runs)."""
        tables = self.tables
        if tables is None or newer_than_unicode_3_2(text) or not tables.takes(text):
            return None
        parts = self._parts(text)
        natives = self._natives(parts)
        return tables.encoding(text, natives[0] if len(natives) == 1 else _Joined.of(parts, natives))

    def _natives(self, parts: list[str]) -> list[Any]:
        """``tokenizers``' Encoding of each part: several parts through its ``encode_batch``, which encodes them on
        its own thread pool (its ``encode`` holds the GIL: two threads measured no faster than one). A process
        forked after that pool ran gets tokenizers' warning that the child encodes its batches on one core."""
        if len(parts) == 1:
            return [self.native.encode(parts[0], add_special_tokens=False)]
        return list(self.native.encode_batch(parts, add_special_tokens=False))


@dataclass(frozen=True)
class _Joined:
    """The ids and character offsets of consecutive parts' Encodings as one text's (what piece_offsets reads):
    ``shifted`` holds each part's Encoding with the characters before it; the offsets are shifted when read (the
    array rules, :mod:`tokviz.engines.piece_arrays`, shift them as arrays instead)."""

    ids: list[int]
    shifted: list[tuple[int, Any]]

    @classmethod
    def of(cls, parts: list[str], natives: list[Any]) -> _Joined:
        ids: list[int] = []
        shifted: list[tuple[int, Any]] = []
        at = 0
        for part, native in zip(parts, natives, strict=True):
            ids += native.ids
            shifted.append((at, native))
            at += len(part)
        return cls(ids, shifted)

    @functools.cached_property
    def offsets(self) -> list[tuple[int, int]]:
        offsets: list[tuple[int, int]] = []
        for at, native in self.shifted:
            offsets += [(s + at, e + at) for s, e in native.offsets] if at else native.offsets
        return offsets


class LazyTokenizersEngine:
    """The engine of one tokenizer, built (and checked) once the tokenizer has been asked for ``start_at``
    characters; until then, or if the check fails (``note`` says why), every text is declined."""

    name = "pure"

    def __init__(self, tok: PiecePipeline, data: Mapping[str, Any], *, start_at: int = START_AT) -> None:
        self.note = ""
        self._tok: PiecePipeline | None = tok
        self._data: Mapping[str, Any] | None = data
        self._asked = 0
        self.start_at = start_at
        self._engine: TokenizersEngine | None = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (type(None), ())  # a copy runs pure (the native tokenizer stays with the original)

    def build(self) -> bool:
        """Build and check now (once); True if the engine runs."""
        with self._lock:
            tok, data, self._tok, self._data = self._tok, self._data, None, None
            if tok is not None and data is not None:
                try:
                    self._engine = TokenizersEngine(tok, data)
                    self.name = NAME
                except Exception as e:  # a file the library reads otherwise (or not at all) stays pure
                    self.note = f"{NAME}: {e}"
        return self._engine is not None

    def _ready(self, text: str) -> TokenizersEngine | None:
        """The engine, built once ``start_at`` characters have been asked for (``text`` counts); None until then."""
        engine = self._engine
        if engine is None:
            if self._tok is None:
                return None
            self._asked += len(text)
            if self._asked < self.start_at or not self.build():
                return None
            engine = self._engine
        return engine

    def encode(self, text: str) -> list[int] | None:
        engine = self._ready(text)
        return None if engine is None else engine.encode(text)

    def encode_with_offsets(self, text: str) -> Encoding | None:
        engine = self._ready(text)
        return None if engine is None else engine.encode_with_offsets(text)


def attach(tok: P, data: Mapping[str, Any], *, start_at: int = START_AT) -> P:
    """Give ``tok`` (read from ``data``) the ``tokenizers`` engine when it is installed, built on first need;
    returned for chaining. ``start_at=0`` builds it at once.

    >>> from tokviz.formats.hf_families import family_from_dict
    >>> data = {"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
    ...                   "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hi": 1, "##s": 2}},
    ...         "normalizer": {"type": "BertNormalizer", "lowercase": True, "clean_text": True,
    ...                        "handle_chinese_chars": True, "strip_accents": None},
    ...         "pre_tokenizer": {"type": "BertPreTokenizer"}}
    >>> tok = attach(family_from_dict(data, source="t.json"), data, start_at=0)
    >>> tok.engine.name, tok.encode("His hi"), tok.engine.note
    ('tokenizers', [1, 2, 1], '')
    >>> del data["model"]["continuing_subword_prefix"]  # a file tokenizers cannot read stays pure
    >>> tok = attach(family_from_dict(data, source="t.json"), data, start_at=0)
    >>> tok.engine.name, tok.engine.note  # doctest: +ELLIPSIS
    ('pure', 'tokenizers: missing field `continuing_subword_prefix` ...')
    """
    if installed():
        engine = LazyTokenizersEngine(tok, data, start_at=start_at)
        tok.engine = engine
        if start_at <= 0:
            engine.build()
    return tok
